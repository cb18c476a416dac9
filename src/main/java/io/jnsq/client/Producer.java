package io.jnsq.client;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Publishes to nsqd over TCP: PUB, MPUB and DPUB, each answered by a {@link CompletableFuture} that
 * completes when nsqd says OK (or fails with its error). Single publishes that queue up while a
 * command is on the wire go out together as one MPUB (up to {@code batch_size}, waiting up to
 * {@code linger} for more), each caller still getting its own result. With several addresses, the
 * producer uses the first that answers and fails over to the next when it goes away; after a
 * failure it reconnects with exponential backoff (100 ms doubling to 5 s). Publishes made while it has
 * no connection are held, in order, and sent once it connects again: at most {@code hold_size} of them
 * (more fail at once) and each for at most {@code hold_timeout} (then it fails). Publishes already
 * written to a connection that is lost fail, as nsqd may or may not have taken them; an error nsqd
 * answers while connecting (a refused AUTH, a bad IDENTIFY) fails what is held at once.
 *
 * <pre>{@code
 * try (Producer p = new Producer(List.of("127.0.0.1:4150"), new ClientConfig())) {
 *   p.publish("events", "hello".getBytes(UTF_8)).join();
 * }
 * }</pre>
 */
public final class Producer implements AutoCloseable {
  private static final System.Logger LOG = System.getLogger(Producer.class.getName());
  private static final long MIN_BACKOFF_MS = 100;
  private static final long MAX_BACKOFF_MS = 5000;

  private sealed interface Request permits Pub, Mpub, Dpub, Stop {}
  private record Pub(String topic, byte[] body, CompletableFuture<Void> done) implements Request {}
  private record Mpub(String topic, List<byte[]> bodies, CompletableFuture<Void> done) implements Request {}
  private record Dpub(String topic, long deferMs, byte[] body, CompletableFuture<Void> done) implements Request {}
  private record Stop() implements Request {}

  private final List<String> addresses;
  private final ClientConfig config;
  private final LinkedBlockingQueue<Request> queue = new LinkedBlockingQueue<>();
  private final Thread writer;
  private final Object lock = new Object();
  // waiters of the current connection, in the order of its commands; each connection has its own, guarded by lock
  private ArrayDeque<List<CompletableFuture<Void>>> pending = new ArrayDeque<>();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private volatile boolean closing;
  private volatile Connection conn;   // written by the writer thread only
  private int next;
  private long backoffMs;
  private long retryAt;
  private record Held(Request request, long deadline) {}
  private final ArrayDeque<Held> held = new ArrayDeque<>();   // writer thread only: publishes waiting for a connection
  private String lastError = "no connection yet";   // writer thread only

  /** A producer for these nsqd TCP addresses ({@code host:port}); it connects on the first publish. */
  public Producer(List<String> nsqdTcpAddresses, ClientConfig config) {
    if (nsqdTcpAddresses.isEmpty()) throw new IllegalArgumentException("no nsqd address");
    nsqdTcpAddresses.forEach(Connection::address);   // reject bad addresses now
    this.addresses = List.copyOf(nsqdTcpAddresses);
    this.config = config;
    this.writer = new Thread(this::writeLoop, "jnsq-producer-" + addresses.get(0));
    writer.setDaemon(true);
    writer.start();
  }

  /** A producer for one address with go-nsq's defaults. */
  public Producer(String nsqdTcpAddress) {
    this(List.of(nsqdTcpAddress), new ClientConfig());
  }

  /** PUB: one message. */
  public CompletableFuture<Void> publish(String topic, byte[] body) {
    return submit(new Pub(topic, body, new CompletableFuture<>()));
  }

  /** PUB of a UTF-8 string. */
  public CompletableFuture<Void> publish(String topic, String body) {
    return publish(topic, body.getBytes(StandardCharsets.UTF_8));
  }

  /** MPUB: these messages, all or none. */
  public CompletableFuture<Void> multiPublish(String topic, List<byte[]> bodies) {
    if (bodies.isEmpty()) return CompletableFuture.failedFuture(new IllegalArgumentException("MPUB of no messages"));
    return submit(new Mpub(topic, List.copyOf(bodies), new CompletableFuture<>()));
  }

  /** DPUB: one message, delivered no sooner than {@code delay} from now. */
  public CompletableFuture<Void> deferredPublish(String topic, Duration delay, byte[] body) {
    return submit(new Dpub(topic, delay.toMillis(), body, new CompletableFuture<>()));
  }

  private CompletableFuture<Void> submit(Request r) {
    CompletableFuture<Void> done = done(r);
    if (closing) {
      done.completeExceptionally(new NsqException("E_CLIENT", "producer stopped"));
    } else {
      queue.add(r);
    }
    return done;
  }

  /** Sends what is queued, waits up to 10 s for nsqd's answers, then closes the connection. */
  @Override public void close() {
    stopAsync();
    try {
      stopped.get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      // closed anyway below
    }
  }

  /** Starts stopping; the future completes once every answer is in and the connection is closed. */
  public CompletableFuture<Void> stopAsync() {
    if (!closing) {
      closing = true;
      queue.add(new Stop());
    }
    return stopped;
  }

  /** Whether the producer has an open connection to nsqd now (for tests and health checks). */
  public boolean isConnected() {
    Connection c = conn;
    return c != null && !c.isClosed();
  }

  private static CompletableFuture<Void> done(Request r) {
    if (r instanceof Pub p) return p.done();
    if (r instanceof Mpub m) return m.done();
    if (r instanceof Dpub d) return d.done();
    return new CompletableFuture<>();
  }

  private void writeLoop() {
    List<Request> batch = new ArrayList<>();
    try {
      while (true) {
        Request first = held.isEmpty() ? queue.take() : queue.poll(untilNextRetryOrExpiry(), TimeUnit.NANOSECONDS);
        batch.clear();
        expireHeld();
        if (first == null) {
          deliver(batch, false);   // a retry is due, or held publishes expired
          continue;
        }
        batch.add(first);
        if (first instanceof Pub && !config.linger.isZero()) {
          long until = System.nanoTime() + config.linger.toNanos();
          while (batch.size() < config.batchSize) {
            Request r = queue.poll(Math.max(0, until - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (r == null) break;
            batch.add(r);
          }
        }
        queue.drainTo(batch, Math.max(0, config.batchSize - batch.size()));
        boolean stop = batch.stream().anyMatch(r -> r instanceof Stop);
        batch.removeIf(r -> r instanceof Stop);
        if (stop) {
          queue.drainTo(batch);
          batch.removeIf(r -> r instanceof Stop);
          deliver(batch, true);
          fail(held.stream().map(Held::request).toList(), new NsqException("E_CLIENT",
              "producer stopped while not connected to nsqd: " + lastError));
          held.clear();
          finish();
          return;
        }
        deliver(batch, false);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      failAll(new NsqException("E_CLIENT", "producer interrupted"));
      fail(held.stream().map(Held::request).toList(), new NsqException("E_CLIENT", "producer interrupted"));
      stopped.complete(null);
    }
  }

  private void finish() throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    synchronized (lock) {
      while (!pending.isEmpty() && conn != null && !conn.isClosed() && System.nanoTime() < deadline) {
        lock.wait(100);
      }
    }
    if (conn != null) conn.closeQuietly();
    failAll(new NsqException("E_CLIENT", "producer stopped before nsqd answered"));
    stopped.complete(null);
  }

  /**
   * Sends what is held and then {@code batch} if there is a connection (dialling if a retry is due,
   * or {@code now}); otherwise holds {@code batch} behind what is held already.
   */
  private void deliver(List<Request> batch, boolean now) {
    if (batch.isEmpty() && held.isEmpty()) return;
    boolean connected = conn != null && !conn.isClosed();
    if (!connected && (now || System.nanoTime() >= retryAt)) {
      try {
        connected = connect();
      } catch (NsqException e) {   // nsqd refused us: waiting will not help
        fail(held.stream().map(Held::request).toList(), e);
        held.clear();
        fail(batch, e);
        return;
      }
    }
    if (connected) {
      List<Request> all = new ArrayList<>(held.size() + batch.size());
      held.forEach(h -> all.add(h.request()));
      held.clear();
      all.addAll(batch);
      sendAll(all);
      return;
    }
    long deadline = System.nanoTime() + config.holdTimeout.toNanos();
    for (Request r : batch) {
      if (config.holdTimeout.isZero() || config.holdTimeout.isNegative()) {
        done(r).completeExceptionally(new NsqException("E_CLIENT", "not connected to nsqd: " + lastError));
      } else if (held.size() >= config.holdSize) {
        done(r).completeExceptionally(new NsqException("E_CLIENT", "not connected to nsqd and "
            + config.holdSize + " publishes held already (hold_size): " + lastError));
      } else {
        held.add(new Held(r, deadline));
      }
    }
  }

  /** Fails the held publishes whose hold_timeout has passed (the oldest come first). */
  private void expireHeld() {
    long now = System.nanoTime();
    while (!held.isEmpty() && held.peek().deadline() <= now) {
      done(held.poll().request()).completeExceptionally(new NsqException("E_CLIENT", "not connected to nsqd within "
          + config.holdTimeout.toMillis() + " ms (hold_timeout): " + lastError));
    }
  }

  /** Nanoseconds until the next dial is due or the oldest held publish expires, at least 1 ms. */
  private long untilNextRetryOrExpiry() {
    long now = System.nanoTime();
    long next = held.isEmpty() ? retryAt : Math.min(retryAt, held.peek().deadline());
    return Math.max(TimeUnit.MILLISECONDS.toNanos(1), next - now);
  }

  /** Groups consecutive PUBs to one topic into MPUBs and writes every command of the batch at once (connected). */
  private void sendAll(List<Request> batch) {
    if (batch.isEmpty()) return;
    List<byte[]> commands = new ArrayList<>();
    List<List<CompletableFuture<Void>>> waiters = new ArrayList<>();
    int i = 0;
    while (i < batch.size()) {
      Request r = batch.get(i);
      if (r instanceof Pub p) {
        int j = i + 1;
        long bytes = p.body().length;
        while (j < batch.size() && batch.get(j) instanceof Pub q && q.topic().equals(p.topic())
            && bytes + q.body().length <= config.batchBytes) {
          bytes += q.body().length;
          j++;
        }
        if (j - i == 1) {
          commands.add(Connection.command("PUB " + p.topic(), p.body()));
          waiters.add(List.of(p.done()));
        } else {
          List<byte[]> bodies = new ArrayList<>();
          List<CompletableFuture<Void>> dones = new ArrayList<>();
          for (int k = i; k < j; k++) {
            Pub q = (Pub) batch.get(k);
            bodies.add(q.body());
            dones.add(q.done());
          }
          commands.add(Connection.mpub(p.topic(), bodies));
          waiters.add(dones);
        }
        i = j;
      } else if (r instanceof Mpub m) {
        commands.add(Connection.mpub(m.topic(), m.bodies()));
        waiters.add(List.of(m.done()));
        i++;
      } else {
        Dpub d = (Dpub) r;
        commands.add(Connection.command("DPUB " + d.topic() + " " + d.deferMs(), d.body()));
        waiters.add(List.of(d.done()));
        i++;
      }
    }
    Connection c = conn;
    try {
      // only this thread writes commands, so registering before writing keeps answers and waiters in
      // the same order; the write itself is outside the lock, so the reader never waits on a full socket
      synchronized (lock) {
        pending.addAll(waiters);
      }
      c.write(commands.toArray(new byte[0][]));
    } catch (IOException e) {
      c.closeQuietly();   // the reader fails everything pending
    }
  }

  /**
   * Dials the addresses in turn; false (and the next retry scheduled with backoff) if none answers.
   *
   * @throws NsqException if nsqd answered the handshake with an error
   */
  private boolean connect() {
    IOException last = null;
    for (int k = 0; k < addresses.size(); k++) {
      String a = addresses.get((next + k) % addresses.size());
      try {
        conn = Connection.open(a, config);
        next = (next + k) % addresses.size();
        backoffMs = 0;
        Connection c = conn;
        ArrayDeque<List<CompletableFuture<Void>>> waiters = new ArrayDeque<>();
        synchronized (lock) {
          pending = waiters;
        }
        Thread reader = new Thread(() -> readLoop(c, waiters), "jnsq-producer-reader-" + a);
        reader.setDaemon(true);
        reader.start();
        return true;
      } catch (IOException e) {
        last = e;
        LOG.log(System.Logger.Level.WARNING, "cannot connect to nsqd " + a + ": " + e.getMessage());
      }
    }
    backoffMs = backoffMs == 0 ? MIN_BACKOFF_MS : Math.min(MAX_BACKOFF_MS, backoffMs * 2);
    retryAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(backoffMs);
    next = (next + 1) % addresses.size();
    lastError = "cannot connect to nsqd " + addresses + ": " + last.getMessage() + "; retrying in " + backoffMs + " ms";
    return false;
  }

  private void readLoop(Connection c, ArrayDeque<List<CompletableFuture<Void>>> waiters) {
    try {
      while (true) {
        Connection.Frame f = c.readFrame();
        if (f.type() == Connection.FRAME_RESPONSE && f.text().equals(Connection.HEARTBEAT)) {
          c.send(Connection.line("NOP"));
          continue;
        }
        List<CompletableFuture<Void>> head;
        synchronized (lock) {
          head = waiters.poll();
          lock.notifyAll();
        }
        if (head == null) {
          LOG.log(System.Logger.Level.WARNING, "unexpected frame from " + c.address + ": " + f.text());
          continue;
        }
        if (f.type() == Connection.FRAME_RESPONSE) {
          head.forEach(d -> d.complete(null));
        } else {
          NsqException e = NsqException.fromFrame(f.text());
          head.forEach(d -> d.completeExceptionally(e));
        }
      }
    } catch (IOException e) {
      c.closeQuietly();
      failAll(waiters, new NsqException("E_CLIENT", "connection to " + c.address + " lost: " + e.getMessage(), e));
    }
  }

  private void failAll(NsqException e) {
    ArrayDeque<List<CompletableFuture<Void>>> current;
    synchronized (lock) {
      current = pending;
    }
    failAll(current, e);
  }

  private void failAll(ArrayDeque<List<CompletableFuture<Void>>> waiters, NsqException e) {
    List<List<CompletableFuture<Void>>> all;
    synchronized (lock) {
      all = new ArrayList<>(waiters);
      waiters.clear();
      lock.notifyAll();
    }
    all.forEach(l -> l.forEach(d -> d.completeExceptionally(e)));
  }

  private static void fail(List<Request> batch, NsqException e) {
    batch.forEach(r -> done(r).completeExceptionally(e));
  }
}
