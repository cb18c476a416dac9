package io.jnsq.tcp;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLException;
import org.apache.pekko.stream.Attributes;
import org.apache.pekko.stream.BidiShape;
import org.apache.pekko.stream.Inlet;
import org.apache.pekko.stream.Outlet;
import org.apache.pekko.stream.stage.AbstractInHandler;
import org.apache.pekko.stream.stage.AbstractOutHandler;
import org.apache.pekko.stream.stage.GraphStage;
import org.apache.pekko.stream.stage.GraphStageLogic;
import org.apache.pekko.util.ByteString;

/**
 * A connection that starts in plain text and turns into TLS in the middle, as NSQ's IDENTIFY asks:
 * bytes pass unchanged until the session writes {@link #START} (right after IDENTIFY's answer) or sets
 * {@code pending} (before it lets the decoder read on, in case the client's handshake arrives first);
 * from then on this stage is the TLS server end, via an {@link SSLEngine}.
 *
 * <p>Ports: {@code fromNet} → {@code toApp} (decrypted), {@code fromApp} → {@code toNet} (encrypted).
 */
public final class StartTls extends GraphStage<BidiShape<ByteString, ByteString, ByteString, ByteString>> {
  /** The session's marker: start TLS here (compared by identity). */
  public static final ByteString START = ByteString.fromString("\u0000start-tls");

  private final Inlet<ByteString> fromNet = Inlet.create("StartTls.fromNet");
  private final Outlet<ByteString> toApp = Outlet.create("StartTls.toApp");
  private final Inlet<ByteString> fromApp = Inlet.create("StartTls.fromApp");
  private final Outlet<ByteString> toNet = Outlet.create("StartTls.toNet");
  private final BidiShape<ByteString, ByteString, ByteString, ByteString> shape = BidiShape.of(fromNet, toApp, fromApp, toNet);
  private final Supplier<SSLEngine> engines;
  private final AtomicBoolean pending;

  public StartTls(Supplier<SSLEngine> engines, AtomicBoolean pending) {
    this.engines = engines;
    this.pending = pending;
  }

  @Override public BidiShape<ByteString, ByteString, ByteString, ByteString> shape() { return shape; }

  @Override
  public GraphStageLogic createLogic(Attributes attrs) {
    return new GraphStageLogic(shape) {
      private SSLEngine engine;
      private ByteBuffer netIn = ByteBuffer.allocate(0);
      private final ArrayDeque<ByteString> appOut = new ArrayDeque<>();   // written by the app before the handshake ended

      {
        setHandler(fromNet, new AbstractInHandler() {
          @Override public void onPush() throws SSLException {
            ByteString bytes = grab(fromNet);
            if (engine == null && pending.get()) start();
            if (engine == null) {
              push(toApp, bytes);
              return;
            }
            netIn = append(netIn, bytes);
            unwrap();
            pullNetIfNeeded();
          }

          @Override public void onUpstreamFinish() { complete(toApp); }
        });
        setHandler(toApp, new AbstractOutHandler() {
          @Override public void onPull() {
            if (!hasBeenPulled(fromNet) && !isClosed(fromNet)) pull(fromNet);
          }
        });
        setHandler(fromApp, new AbstractInHandler() {
          @Override public void onPush() throws SSLException {
            ByteString bytes = grab(fromApp);
            if (bytes == START) {
              if (engine == null) start();
              handshake();
            } else if (engine == null) {
              push(toNet, bytes);
              return;
            } else {
              appOut.add(bytes);
              flushApp();
            }
            // Pull on only when the socket side can take more, so a slow reader still holds the session back.
            if (!hasBeenPulled(fromApp) && isAvailable(toNet)) pull(fromApp);
          }

          @Override public void onUpstreamFinish() { complete(toNet); }
        });
        setHandler(toNet, new AbstractOutHandler() {
          @Override public void onPull() {
            if (!hasBeenPulled(fromApp) && !isClosed(fromApp)) pull(fromApp);
          }
        });
      }

      private void start() throws SSLException {
        engine = engines.get();
        engine.beginHandshake();   // from here until it is done, application bytes wait in appOut
        pending.set(false);
      }

      private boolean handshaking() {
        SSLEngineResult.HandshakeStatus s = engine.getHandshakeStatus();
        return s != SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING && s != SSLEngineResult.HandshakeStatus.FINISHED;
      }

      /** Runs what the handshake needs: tasks, and wraps of handshake records. */
      private void handshake() throws SSLException {
        while (true) {
          SSLEngineResult.HandshakeStatus s = engine.getHandshakeStatus();
          if (s == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            Runnable task;
            while ((task = engine.getDelegatedTask()) != null) task.run();
          } else if (s == SSLEngineResult.HandshakeStatus.NEED_WRAP) {
            wrap(ByteBuffer.allocate(0));
          } else {
            return;
          }
        }
      }

      private void unwrap() throws SSLException {
        ByteBuffer app = ByteBuffer.allocate(Math.max(engine.getSession().getApplicationBufferSize(), netIn.remaining() * 2));
        while (true) {
          SSLEngineResult r = engine.unwrap(netIn, app);
          if (r.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
            ByteBuffer bigger = ByteBuffer.allocate(app.capacity() * 2);
            app.flip();
            bigger.put(app);
            app = bigger;
            continue;
          }
          handshake();
          if (r.getStatus() == SSLEngineResult.Status.CLOSED) break;
          if (r.getStatus() == SSLEngineResult.Status.BUFFER_UNDERFLOW) break;
          if (r.bytesConsumed() == 0 && r.bytesProduced() == 0 && !handshaking()) break;
          if (!netIn.hasRemaining() && !handshaking()) break;
          if (!netIn.hasRemaining() && engine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_UNWRAP) break;
        }
        app.flip();
        if (app.hasRemaining()) emit(toApp, ByteString.fromByteBuffer(app));
        netIn.compact().flip();
        if (!handshaking()) flushApp();
      }

      private void flushApp() throws SSLException {
        while (!appOut.isEmpty() && !handshaking()) {
          ByteBuffer b = appOut.peek().toByteBuffer();
          wrap(b);
          appOut.poll();
          if (b.hasRemaining()) appOut.addFirst(ByteString.fromByteBuffer(b));
        }
      }

      private void wrap(ByteBuffer src) throws SSLException {
        do {
          ByteBuffer net = ByteBuffer.allocate(engine.getSession().getPacketBufferSize() + 64);
          SSLEngineResult r = engine.wrap(src, net);
          net.flip();
          if (net.hasRemaining()) emit(toNet, ByteString.fromByteBuffer(net));
          if (r.getStatus() == SSLEngineResult.Status.CLOSED) return;
          if (r.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NEED_TASK) {
            Runnable task;
            while ((task = engine.getDelegatedTask()) != null) task.run();
          }
          if (r.bytesConsumed() == 0 && r.bytesProduced() == 0) return;   // nothing moves: wait for the peer
        } while (src.hasRemaining());
      }

      /** During the handshake the engine needs the peer's records whether or not the app wants data. */
      private void pullNetIfNeeded() {
        if (!hasBeenPulled(fromNet) && !isClosed(fromNet) && (handshaking() || isAvailable(toApp))) pull(fromNet);
      }

      private ByteBuffer append(ByteBuffer buf, ByteString more) {
        ByteBuffer out = ByteBuffer.allocate(buf.remaining() + more.size());
        out.put(buf);
        more.copyToBuffer(out);
        out.flip();
        return out;
      }
    };
  }
}
