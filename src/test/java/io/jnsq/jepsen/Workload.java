package io.jnsq.jepsen;

import io.jnsq.jepsen.History.Type;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The clients of a run, recording into a {@link History}: {@code producers} threads publishing with one
 * publish in flight each (an MPUB of {@code batch}, then a PUB, in turn), and {@code consumers} threads
 * subscribed to one channel with {@code RDY rdy}, FINing every message as it arrives.
 *
 * <p>Each message's body is its id, {@code p<producer>-<n>}, unique in the run. A publish that gets no
 * {@code OK} (an error frame, no answer within {@code publishTimeout}, a broken connection) is recorded
 * as failed and <b>never sent again under the same id</b>: the producer reconnects (to the next address,
 * so producers move to another node when theirs is gone) and goes on with new ids. So each id is sent at
 * most once, and a second delivery of an id is the broker's doing, never the client's; a failed id that
 * shows up anyway is what the checker calls recovered. (Retrying with the same id is what users'
 * producers do, and it would be in the history as two attempts of one id — the checker reports such ids
 * as {@code reattempted} — but it would make every duplicate ambiguous between the client and the broker.)
 *
 * <p>Consumers treat {@code 3 × heartbeat} without a frame as a dead connection (a partition that leaves
 * sockets open), record a disconnect and redial. Every loop is bounded by {@link #close}.
 */
public final class Workload implements AutoCloseable {
  /** The workload's shape. */
  public record Settings(String topic, String channel, int producers, int consumers, int batch, int rdy,
      Duration publishTimeout, Duration heartbeat) {
    public static Settings of(String topic, String channel) {
      return new Settings(topic, channel, 3, 2, 10, 50, Duration.ofSeconds(5), Duration.ofSeconds(1));
    }
    public Settings withProducers(int n) { return new Settings(topic, channel, n, consumers, batch, rdy, publishTimeout, heartbeat); }
    public Settings withConsumers(int n) { return new Settings(topic, channel, producers, n, batch, rdy, publishTimeout, heartbeat); }
    public Settings withRdy(int n) { return new Settings(topic, channel, producers, consumers, batch, n, publishTimeout, heartbeat); }
    public Settings withPublishTimeout(Duration d) { return new Settings(topic, channel, producers, consumers, batch, rdy, d, heartbeat); }
  }

  private final History history;
  private final Settings settings;
  private final Supplier<List<InetSocketAddress>> producerTargets;
  private final Supplier<List<InetSocketAddress>> consumerTargets;
  private final List<Thread> producerThreads = new ArrayList<>();
  private final List<Thread> consumerThreads = new ArrayList<>();
  private final List<NsqWire> consumerWires;
  private final AtomicInteger subscribed = new AtomicInteger();
  private final AtomicLong acks = new AtomicLong();
  /** The attempt time of the latest publish acknowledged: when it is after a fault, publishing works again. */
  private final AtomicLong latestAckedAttempt = new AtomicLong(System.nanoTime());
  private volatile long lastDeliveryNanos = System.nanoTime();
  private volatile long producersStoppedNanos;
  private volatile boolean producersStop;
  private volatile boolean consumersStop;

  /**
   * Clients dial the addresses the suppliers give, asked again on every reconnect (so a test can point
   * them at a proxy, or at the nodes that are up); client {@code i}'s k-th connection goes to entry {@code (i + k) % size}.
   */
  public Workload(History history, Settings settings, Supplier<List<InetSocketAddress>> producerTargets,
      Supplier<List<InetSocketAddress>> consumerTargets) {
    this.history = history;
    this.settings = settings;
    this.producerTargets = producerTargets;
    this.consumerTargets = consumerTargets;
    this.consumerWires = new ArrayList<>();
    for (int c = 0; c < settings.consumers(); c++) consumerWires.add(null);
  }

  public Settings settings() {
    return settings;
  }

  public void start() {
    for (int c = 0; c < settings.consumers(); c++) consumerThreads.add(thread("consumer-" + c, consumerLoop(c)));
    for (int p = 0; p < settings.producers(); p++) producerThreads.add(thread("producer-" + p, producerLoop(p)));
  }

  private static Thread thread(String name, Runnable body) {
    Thread t = new Thread(body, "jepsen-" + name);
    t.setDaemon(true);
    t.start();
    return t;
  }

  public long acknowledged() {
    return acks.get();
  }

  public int subscribedConsumers() {
    return subscribed.get();
  }

  /** Waits until a publish attempted after {@code nanos} (System.nanoTime) was acknowledged. */
  public boolean awaitAckOfAttemptAfter(long nanos, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (latestAckedAttempt.get() - nanos <= 0) {
      if (System.nanoTime() - deadline > 0) return false;
      Thread.sleep(20);
    }
    return true;
  }

  /** Stops publishing; each producer finishes (or times out) its publish in flight first. */
  public void stopProducers() throws InterruptedException {
    producersStop = true;
    long limit = settings.publishTimeout().toMillis() + 5_000;
    for (Thread t : producerThreads) t.join(limit);
    producersStoppedNanos = System.nanoTime();
  }

  /**
   * After {@link #stopProducers}: waits until every consumer is subscribed and nothing was delivered for
   * {@code quiet}; false if that did not happen within {@code limit}.
   */
  public boolean awaitDrained(Duration quiet, Duration limit) throws InterruptedException {
    long deadline = System.nanoTime() + limit.toNanos();
    while (System.nanoTime() - deadline < 0) {
      long last = Math.max(lastDeliveryNanos, producersStoppedNanos);
      if (subscribed.get() == settings.consumers() && System.nanoTime() - last >= quiet.toNanos()) return true;
      Thread.sleep(50);
    }
    return false;
  }

  public void stopConsumers() throws InterruptedException {
    consumersStop = true;
    synchronized (consumerWires) {
      for (NsqWire w : consumerWires) if (w != null) w.close();
    }
    for (Thread t : consumerThreads) t.join(5_000);
  }

  /** Stops every client thread, bounded; an interrupt stops the waiting, not the stopping. */
  @Override
  public void close() {
    producersStop = true;
    consumersStop = true;
    try {
      stopProducers();
      stopConsumers();
    } catch (InterruptedException e) {
      synchronized (consumerWires) {
        for (NsqWire w : consumerWires) if (w != null) w.close();
      }
      Thread.currentThread().interrupt();
    }
  }

  private static InetSocketAddress pick(List<InetSocketAddress> targets, int client, int connection) {
    return targets.get(Math.floorMod(client + connection, targets.size()));
  }

  private Runnable producerLoop(int p) {
    String name = "p" + p;
    return () -> {
      long next = 0;
      int connections = 0;
      boolean single = false;
      while (!producersStop) {
        NsqWire wire;
        try {
          wire = new NsqWire(pick(producerTargets.get(), p, connections++), 1000,
              (int) settings.publishTimeout().toMillis(), (int) settings.heartbeat().toMillis(), name);
        } catch (IOException e) {
          pause(100);
          continue;
        }
        try (wire) {
          while (!producersStop) {
            int n = single ? 1 : settings.batch();
            single = !single;
            List<String> ids = new ArrayList<>(n);
            for (int i = 0; i < n; i++) ids.add(name + "-" + next++);
            long attempted = System.nanoTime();
            for (String id : ids) history.record(Type.ATTEMPT, name, id);
            NsqWire.Frame reply;
            try {
              wire.publish(settings.topic(), ids);
              reply = wire.readReply();
            } catch (IOException e) {
              for (String id : ids) history.record(Type.FAIL, name, id, e.getClass().getSimpleName() + ": " + e.getMessage());
              break;   // the connection's state is unknown: dial again, with new ids
            }
            if (reply.isOk()) {
              for (String id : ids) history.record(Type.ACK, name, id);
              acks.addAndGet(n);
              latestAckedAttempt.accumulateAndGet(attempted, (a, b) -> a - b > 0 ? a : b);
            } else {
              for (String id : ids) history.record(Type.FAIL, name, id, reply.text());
              break;
            }
          }
        }
      }
    };
  }

  private Runnable consumerLoop(int c) {
    String name = "c" + c;
    return () -> {
      int connections = 0;
      while (!consumersStop) {
        NsqWire wire;
        try {
          wire = new NsqWire(pick(consumerTargets.get(), c, connections++), 1000,
              (int) settings.heartbeat().multipliedBy(3).toMillis(), (int) settings.heartbeat().toMillis(), name);
        } catch (IOException e) {
          pause(100);
          continue;
        }
        synchronized (consumerWires) {
          consumerWires.set(c, wire);
          if (consumersStop) wire.close();
        }
        boolean counted = false;
        try (wire) {
          wire.line("SUB " + settings.topic() + " " + settings.channel());
          wire.flush();
          NsqWire.Frame sub = wire.readReply();
          if (!sub.isOk()) throw new IOException("SUB answered " + sub.text());
          wire.line("RDY " + settings.rdy());
          wire.flush();
          subscribed.incrementAndGet();
          counted = true;
          consume(wire, name);
        } catch (IOException e) {
          // A read timeout is a frame missing for three heartbeats: the connection is dead to us.
          if (!consumersStop) {
            history.record(Type.DISCONNECT, name, null, e.getClass().getSimpleName() + ": " + e.getMessage(),
                wire.lastHeardNanos());
          }
        } finally {
          if (counted) subscribed.decrementAndGet();
        }
        if (!consumersStop) pause(100);
      }
    };
  }

  private void consume(NsqWire wire, String name) throws IOException {
    while (!consumersStop) {
      NsqWire.Frame f = wire.readFrame();
      if (f.isHeartbeat()) {
        wire.line("NOP");
        wire.flush();
      } else if (f.type() == 2) {
        String id = f.body();
        history.record(Type.DELIVER, name, id, f.messageId() + " attempts=" + f.attempts());
        lastDeliveryNanos = System.nanoTime();
        wire.line("FIN " + f.messageId());
        history.record(Type.FIN, name, id);
        if (!wire.hasBufferedInput()) wire.flush();
      } else if (f.type() == 1) {
        // E_FIN_FAILED after a requeue is not fatal; anything fatal closes the connection, seen as an IOException
        wire.flush();
      }
    }
  }

  private static void pause(long millis) {
    try {
      TimeUnit.MILLISECONDS.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
