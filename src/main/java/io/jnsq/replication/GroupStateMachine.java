package io.jnsq.replication;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The state machine of one Raft group on this node: it applies the group's committed entries, in log
 * order, to this node's copies of the group's topics (publishes, with the ids the entry's index gives)
 * and to the cursor files of their channels (checkpoints from the leader's channels), and tells the node
 * when this replica starts or stops leading, which decides whose channels deliver.
 *
 * <p>The state is the topic logs and cursor files themselves. A replayed entry (after a restart Ratis
 * applies its log again) is recognised by its ids and not appended twice; a replica that comes back
 * empty is sent the whole log by the leader (no snapshot is taken and the log is not purged yet, see
 * docs/SCALING.md).
 */
final class GroupStateMachine extends BaseStateMachine {
  private static final Logger log = LoggerFactory.getLogger(GroupStateMachine.class);

  private final Replication node;
  private final int group;
  private volatile boolean leading;
  private volatile RaftPeerId leader;

  GroupStateMachine(Replication node, int group) {
    this.node = node;
    this.group = group;
  }

  int group() { return group; }

  /** Leader, and every entry before its term's first applied here: its channels may deliver. */
  boolean leading() { return leading; }

  RaftPeerId leader() { return leader; }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage storage) throws IOException {
    super.initialize(server, groupId, storage);
    node.attach(this);
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext trx) {
    LogEntryProto entry = trx.getLogEntry();
    ByteBuffer data = trx.getStateMachineLogEntry().getLogData().asReadOnlyByteBuffer();
    updateLastAppliedTermIndex(entry.getTerm(), entry.getIndex());
    try {
      byte type = Entries.type(data);
      if (type == Entries.PUBLISH) return node.apply(entry.getIndex(), Entries.decodePublish(data));
      if (type == Entries.CHECKPOINT) {
        // The leader's own channels wrote these files already (and keep writing them).
        if (!leading) node.storeCheckpoint(Entries.decodeCheckpoint(data));
        return CompletableFuture.completedFuture(Message.EMPTY);
      }
      log.warn("group {}: entry {} of unknown type {} skipped", group, entry.getIndex(), type);
      return CompletableFuture.completedFuture(Message.EMPTY);
    } catch (RuntimeException | IOException e) {
      log.error("group {}: applying entry {} failed: {}", group, entry.getIndex(), e.toString());
      return CompletableFuture.completedFuture(Message.valueOf("applying failed on a replica: " + e));
    }
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId member, RaftPeerId newLeader) {
    leader = newLeader;
    if (!member.getPeerId().equals(newLeader) && leading) {
      leading = false;
      node.leadershipChanged(this);
    }
  }

  /** Called on the apply thread once this leader's first entry is applied, so all before it is too. */
  @Override
  public void notifyLeaderReady() {
    leading = true;
    node.leadershipChanged(this);
  }

  @Override
  public void close() throws IOException {
    node.detach(this);
    super.close();
  }
}
