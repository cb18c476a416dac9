package io.jnsq.protocol;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.NotUsed;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * Turns a client's bytes into batches of commands: checks the {@code "  V2"} magic once, then decodes
 * every complete command of each chunk in one pass and emits them as one list, so the connection handles
 * a whole read at a time. Malformed input becomes a {@link ProtocolError} in the batch; after one that
 * loses the framing the stage reads no more (it does not complete: the connection's owner writes the
 * error frame and then closes the socket, which ends the stage). It never throws.
 *
 * <p>A read that completes the magic and holds no command yet still emits one (empty) batch, so the
 * connection's owner learns that the client speaks V2: nothing may be sent to a client before that.
 */
public final class CommandDecoder extends GraphStage<FlowShape<ByteString, List<Inbound>>> {
  private static final ByteString MAGIC_V2 = ByteString.fromString("  V2");

  private final Inlet<ByteString> in = Inlet.create("CommandDecoder.in");
  private final Outlet<List<Inbound>> out = Outlet.create("CommandDecoder.out");
  private final FlowShape<ByteString, List<Inbound>> shape = FlowShape.of(in, out);
  private final Limits limits;
  private final Unwrap unwrap;

  /** What turns the bytes read into the protocol's bytes first (decompression, once negotiated). */
  @FunctionalInterface
  public interface Unwrap {
    Unwrap NONE = bytes -> bytes;

    ByteString apply(ByteString read) throws java.io.IOException;
  }

  private CommandDecoder(Limits limits, Unwrap unwrap) {
    this.limits = limits;
    this.unwrap = unwrap;
  }

  /** The decoding flow for one connection. */
  public static Flow<ByteString, List<Inbound>, NotUsed> flow(Limits limits) {
    return flow(limits, Unwrap.NONE);
  }

  /** The same, passing every chunk read through {@code unwrap} first (one stage, not two, per connection). */
  public static Flow<ByteString, List<Inbound>, NotUsed> flow(Limits limits, Unwrap unwrap) {
    return Flow.fromGraph(new CommandDecoder(limits, unwrap)).named("nsqCommandDecoder");
  }

  @Override public FlowShape<ByteString, List<Inbound>> shape() { return shape; }

  @Override public GraphStageLogic createLogic(Attributes attrs) {
    return new GraphStageLogic(shape) {
      private ByteString buffer = ByteString.emptyByteString();
      private boolean magicChecked;
      private boolean finished;   // framing lost: emit what we have, then read nothing more
      private boolean magicJustSeen;   // the magic is complete: announce it even with no command

      {
        setHandler(in, new AbstractInHandler() {
          @Override public void onPush() throws java.io.IOException {
            ByteString chunk = unwrap.apply(grab(in));
            if (!finished) buffer = buffer.concat(chunk);
            decodeOrPull();
          }

          @Override public void onUpstreamFinish() {
            if (isAvailable(out)) decodeOrPull();
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override public void onPull() { decodeOrPull(); }
        });
      }

      /** Called only while {@code out} has demand. */
      private void decodeOrPull() {
        List<Inbound> batch = decodeAll();
        if (!batch.isEmpty() || magicJustSeen) {
          magicJustSeen = false;
          push(out, batch);
        } else if (isClosed(in)) {
          completeStage();
        } else if (!finished && !hasBeenPulled(in)) {
          pull(in);
        }
      }

      private List<Inbound> decodeAll() {
        List<Inbound> batch = new ArrayList<>();
        if (finished) return batch;
        if (!magicChecked) {
          if (buffer.size() < 4) return batch;
          if (!buffer.take(4).equals(MAGIC_V2)) {
            batch.add(ProtocolError.framing("", "E_BAD_PROTOCOL", ""));
            finished = true;
            return batch;
          }
          buffer = buffer.drop(4);
          magicChecked = true;
          magicJustSeen = true;
        }
        int offset = 0;
        ByteString rest = buffer;
        while (!finished && !rest.isEmpty()) {
          CommandParser.Parsed parsed = CommandParser.next(rest, limits);
          if (!(parsed instanceof CommandParser.Ok ok)) break;
          batch.add(ok.item());
          if (ok.item() instanceof ProtocolError e && e.framingLost()) finished = true;
          rest = rest.drop(ok.consumed());
          offset += ok.consumed();
        }
        // Keep only what is left; compact a rope so the next read does not keep many small chunks alive.
        if (offset > 0) buffer = rest.isEmpty() ? ByteString.emptyByteString() : rest.size() < 4096 ? rest.compact() : rest;
        return batch;
      }
    };
  }
}
