package io.jnsq.tcp;

import io.jnsq.protocol.Inbound;
import java.io.IOException;
import java.util.List;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.FlowShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * The bridge between a connection's stream and its {@link ProtocolV2} actor, both ways through one stage
 * actor: decoded batches go to the session one at a time, each after its {@link ProtocolV2.InputAck};
 * what the session writes comes back one {@link ProtocolV2.Output} at a time, each acknowledged with
 * {@link ProtocolV2.OutputAck} once it is pushed on. Either side ending ends both, as a coupled sink and
 * source would; it replaces {@code ActorSink}, {@code ActorSource} and their coupling because building
 * and materializing those three for every connection was a third of the node's CPU while accepting.
 */
final class SessionStage extends GraphStage<FlowShape<List<Inbound>, ByteString>> {
  private final Inlet<List<Inbound>> in = Inlet.create("SessionStage.in");
  private final Outlet<ByteString> out = Outlet.create("SessionStage.out");
  private final FlowShape<List<Inbound>, ByteString> shape = FlowShape.of(in, out);
  private final ActorRef<ProtocolV2.SessionCommand> session;

  SessionStage(ActorRef<ProtocolV2.SessionCommand> session) { this.session = session; }

  @Override public FlowShape<List<Inbound>, ByteString> shape() { return shape; }

  @Override public GraphStageLogic createLogic(Attributes attrs) {
    return new GraphStageLogic(shape) {
      private ActorRef<Object> self;
      private ByteString pending;      // from the session, waiting for demand
      private boolean closeWhenSent;   // the session asked to close once pending is out
      private boolean endTold;         // the session knows the input has ended

      {
        setHandler(in, new AbstractInHandler() {
          @Override public void onPush() {
            session.tell(new ProtocolV2.InputBatch(self.unsafeUpcast(), grab(in)));   // the next pull waits for its ack
          }

          @Override public void onUpstreamFinish() {
            tellEnd();
            completeStage();
          }

          @Override public void onUpstreamFailure(Throwable ex) {
            tellEnd();
            failStage(ex);
          }
        });
        setHandler(out, new AbstractOutHandler() {
          @Override public void onPull() {
            if (pending == null) return;
            push(out, pending);
            pending = null;
            session.tell(ProtocolV2.OutputAck.INSTANCE);
            if (closeWhenSent) completeStage();
          }

          @Override public void onDownstreamFinish(Throwable cause) {
            tellEnd();
            completeStage();
          }
        });
      }

      @Override public void preStart() {
        self = Adapter.toTyped(getStageActor(received -> {
          onMessage(received._2());
          return scala.runtime.BoxedUnit.UNIT;
        }).ref());
        session.tell(new ProtocolV2.InputStarted(self.unsafeUpcast()));
        session.tell(new ProtocolV2.OutputStarted(self.unsafeUpcast()));
      }

      private void onMessage(Object m) {
        if (m == ProtocolV2.InputAck.INSTANCE) {
          if (!isClosed(in) && !hasBeenPulled(in)) pull(in);
        } else if (m instanceof ProtocolV2.Bytes b) {
          if (isAvailable(out)) {
            push(out, b.bytes());
            session.tell(ProtocolV2.OutputAck.INSTANCE);
          } else {
            pending = b.bytes();
          }
        } else if (m instanceof ProtocolV2.Close) {
          if (pending == null) completeStage();
          else closeWhenSent = true;
        } else if (m instanceof ProtocolV2.Abort) {
          failStage(new IOException("connection dropped by the node"));
        }
      }

      private void tellEnd() {
        if (endTold) return;
        endTold = true;
        session.tell(new ProtocolV2.InputEnded());
      }

      @Override public void postStop() { tellEnd(); }
    };
  }
}
