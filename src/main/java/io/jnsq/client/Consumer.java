package io.jnsq.client;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Subscribes to one topic and channel on every nsqd that has it, found through lookupd's
 * {@code /lookup} (polled every {@code lookupd_poll_interval} with {@code lookupd_poll_jitter}) or
 * given directly, and hands each message to a {@link MessageHandler} on {@code concurrency} threads.
 *
 * <p>As in go-nsq: {@code max_in_flight} is spread evenly over the connections (each gets
 * {@code max_in_flight / connections} as RDY, at least 1; with fewer than connections, RDY 1 rotates
 * among them every {@code rdy_redistribute_interval}) and spread again when connections come and go;
 * a failed message (the handler threw, or {@link Message#requeue}) puts the consumer in exponential
 * backoff (RDY 0 everywhere for {@code backoff_multiplier * 2^n}, then one message to test the water);
 * a message delivered more than {@code max_attempts} times is logged and FINed without the handler.
 * A direct nsqd connection that drops is redialled with backoff; lookupd-found ones are found again by
 * the next poll. {@link #stop()} sends CLS, waits for the handlers of in-flight messages and closes.
 *
 * <pre>{@code
 * Consumer c = new Consumer("events", "archive", new ClientConfig().maxInFlight(100),
 *     m -> System.out.println(m.bodyAsString()));
 * c.connectToNsqLookupd("127.0.0.1:4161");
 * // ...
 * c.stop();
 * }</pre>
 */
public final class Consumer {
  private static final System.Logger LOG = System.getLogger(Consumer.class.getName());

  private final String topic;
  private final String channel;
  private final ClientConfig config;
  private final MessageHandler handler;
  private final ExecutorService handlers;
  private final ScheduledExecutorService timers;
  private final ExecutorService dialer;   // lookupd queries and dials, which block, off the timer thread
  private final HttpClient http;
  private final List<Conn> conns = new CopyOnWriteArrayList<>();
  private final Set<String> direct = ConcurrentHashMap.newKeySet();
  private final List<String> lookupds = new CopyOnWriteArrayList<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong received = new AtomicLong();
  private final AtomicLong finished = new AtomicLong();
  private final AtomicLong requeued = new AtomicLong();
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private final Object rdyLock = new Object();
  private volatile boolean stopping;
  private int backoffCounter;   // guarded by rdyLock
  private boolean backoffWaiting;   // RDY 0 until the backoff timer fires; guarded by rdyLock
  private int rotation;   // guarded by rdyLock
  private int lookupdIndex;
  private volatile int maxInFlight;   // config's max_in_flight until changeMaxInFlight
  private ScheduledFuture<?> lookupdPoll;

  /**
   * A consumer of {@code topic}/{@code channel}; it connects when told where ({@link #connectToNsqd},
   * {@link #connectToNsqLookupd}).
   */
  public Consumer(String topic, String channel, ClientConfig config, MessageHandler handler) {
    this.topic = topic;
    this.channel = channel;
    this.config = config;
    this.handler = handler;
    this.maxInFlight = config.maxInFlight;
    AtomicInteger n = new AtomicInteger();
    this.handlers = Executors.newFixedThreadPool(config.concurrency, r -> daemon(r, "jnsq-handler-" + n.incrementAndGet()));
    this.timers = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "jnsq-consumer-timers"));
    this.dialer = Executors.newSingleThreadExecutor(r -> daemon(r, "jnsq-consumer-dialer"));
    this.http = HttpClient.newBuilder().connectTimeout(config.dialTimeout).build();
    timers.scheduleWithFixedDelay(this::redistribute, config.rdyRedistributeInterval.toMillis(),
        Math.max(1, config.rdyRedistributeInterval.toMillis()), TimeUnit.MILLISECONDS);
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /**
   * Connects to one nsqd ({@code host:port} of its TCP listener) and subscribes; if the connection
   * later drops, it is redialled with backoff until {@link #stop()}.
   *
   * @throws IOException if the first connection fails
   */
  public void connectToNsqd(String address) throws IOException {
    if (stopping) throw new IllegalStateException("consumer stopped");
    if (!direct.add(address)) return;
    try {
      connect(address, true);
    } catch (IOException | RuntimeException e) {
      direct.remove(address);
      throw e;
    }
  }

  /** Polls this lookupd's HTTP API ({@code host:port} or a URL) for the topic's producers, now and then periodically. */
  public void connectToNsqLookupd(String address) {
    if (stopping) throw new IllegalStateException("consumer stopped");
    if (lookupds.contains(address)) return;
    lookupds.add(address);
    synchronized (this) {
      if (lookupdPoll == null) {
        dialer.execute(this::queryLookupd);
        long interval = Math.max(1, config.lookupdPollInterval.toMillis());
        long jitter = (long) (ThreadLocalRandom.current().nextDouble() * config.lookupdPollJitter * interval);
        lookupdPoll = timers.scheduleWithFixedDelay(() -> onDialer(this::queryLookupd), interval + jitter, interval,
            TimeUnit.MILLISECONDS);
      }
    }
  }

  /**
   * Changes {@code max_in_flight} (go-nsq's {@code ChangeMaxInFlight}) and sends every connection its
   * new share as RDY at once; 0 sets RDY 0 everywhere, so nsqd sends nothing more until it is raised.
   */
  public void changeMaxInFlight(int n) {
    if (n < 0) throw new IllegalArgumentException("max_in_flight must not be negative: " + n);
    if (maxInFlight == n) return;
    maxInFlight = n;
    updateRdy();
  }

  /** The current {@code max_in_flight}. */
  public int maxInFlight() { return maxInFlight; }

  /** Messages received, FINed and REQed so far, and the open connections. */
  public record Stats(long received, long finished, long requeued, int connections) {}

  /** Counts so far. */
  public Stats stats() { return new Stats(received.get(), finished.get(), requeued.get(), conns.size()); }

  /**
   * Whether any connection holds 85% or more of its RDY in flight, i.e. nsqd will send no more until
   * some are answered (go-nsq's {@code IsStarved}); a batching handler should flush then.
   */
  public boolean isStarved() {
    for (Conn c : conns) {
      int held = c.inFlightHere.get();
      int rdy;
      synchronized (rdyLock) {
        rdy = c.rdy;
      }
      if (held > 0 && held >= (int) (rdy * 0.85) && !c.connection.isClosed()) return true;
    }
    return false;
  }

  /** Stops: RDY 0 and CLS on every connection, waits for the handlers of in-flight messages, closes. */
  public CompletableFuture<Void> stopAsync() {
    if (!stopping) {
      stopping = true;
      synchronized (this) {
        if (lookupdPoll != null) lookupdPoll.cancel(false);
      }
      for (Conn c : conns) {
        c.connection.send(Connection.line("RDY 0"));
        c.connection.send(Connection.line("CLS"));
      }
      try {
        timers.schedule(this::forceStop, 30, TimeUnit.SECONDS);
        timers.execute(this::maybeFinishStop);
      } catch (java.util.concurrent.RejectedExecutionException alreadyStopped) {
        // finished meanwhile
      }
    }
    return stopped;
  }

  /** {@link #stopAsync()} and wait for it (at most 30 s). */
  public void stop() {
    try {
      stopAsync().get(35, TimeUnit.SECONDS);
    } catch (Exception e) {
      forceStop();
    }
  }

  /** Completes when the consumer has stopped. */
  public CompletableFuture<Void> stopped() { return stopped; }

  private void onDialer(Runnable r) {
    try {
      dialer.execute(r);
    } catch (java.util.concurrent.RejectedExecutionException stopped) {
      // nothing left to do
    }
  }

  /** Runs on the timer thread, unless the consumer has stopped already. */
  private void later(Runnable r) {
    try {
      timers.execute(r);
    } catch (java.util.concurrent.RejectedExecutionException stopped) {
      // nothing left to do
    }
  }

  private void maybeFinishStop() {
    if (!stopping || inFlight.get() > 0) return;
    for (Conn c : conns) c.connection.flushAndClose(5000);   // the last FINs and CLS go out first
    finishStop();
  }

  private void forceStop() {
    if (stopped.isDone()) return;
    for (Conn c : conns) c.connection.closeQuietly();
    finishStop();
  }

  private void finishStop() {
    conns.clear();
    handlers.shutdown();
    dialer.shutdownNow();
    stopped.complete(null);
    timers.shutdownNow();   // also drops the pending forceStop
  }

  // ---- connections ----

  private final class Conn implements Message.Responder {
    final Connection connection;
    final boolean isDirect;
    final AtomicInteger inFlightHere = new AtomicInteger();
    int rdy;   // guarded by rdyLock

    Conn(Connection connection, boolean isDirect) {
      this.connection = connection;
      this.isDirect = isDirect;
    }

    @Override public void finish(Message m) {
      connection.send(Connection.line("FIN " + m.id()));
      finished.incrementAndGet();
      done(true);
    }

    @Override public void requeue(Message m, Duration delay, boolean backoff) {
      long ms = delay == null || delay.isNegative() ? requeueDelay(m.attempts()) : delay.toMillis();
      connection.send(Connection.line("REQ " + m.id() + " " + ms));
      requeued.incrementAndGet();
      done(!backoff);
    }

    @Override public void touch(Message m) {
      connection.send(Connection.line("TOUCH " + m.id()));
    }

    private void done(boolean success) {
      inFlightHere.decrementAndGet();
      if (inFlight.decrementAndGet() == 0 && stopping) later(Consumer.this::maybeFinishStop);
      if (!stopping) onResult(success);
    }
  }

  private long requeueDelay(int attempts) {
    long d = config.defaultRequeueDelay.toMillis() * Math.max(1, attempts);
    return Math.min(d, config.maxRequeueDelay.toMillis());
  }

  private void connect(String address, boolean isDirect) throws IOException {
    for (Conn c : conns) if (c.connection.address.equals(address)) return;
    Connection connection = Connection.open(address, config);
    try {
      connection.write(Connection.line("SUB " + topic + " " + channel));
      Connection.Frame f = connection.readFrame();
      while (f.type() == Connection.FRAME_RESPONSE && f.text().equals(Connection.HEARTBEAT)) f = connection.readFrame();
      if (f.type() == Connection.FRAME_ERROR) throw NsqException.fromFrame(f.text());
    } catch (IOException | RuntimeException e) {
      connection.closeQuietly();
      throw e;
    }
    Conn c = new Conn(connection, isDirect);
    conns.add(c);
    Thread reader = daemon(() -> readLoop(c), "jnsq-consumer-" + address);
    reader.start();
    LOG.log(System.Logger.Level.INFO, "consuming " + topic + "/" + channel + " from " + address);
    updateRdy();
  }

  private void readLoop(Conn c) {
    try {
      while (true) {
        Connection.Frame f = c.connection.readFrame();
        if (f.type() == Connection.FRAME_MESSAGE) {
          Message m = Message.decode(f.data(), c.connection.address, c);
          received.incrementAndGet();
          inFlight.incrementAndGet();
          c.inFlightHere.incrementAndGet();
          handlers.execute(() -> handle(m, c));
        } else if (f.type() == Connection.FRAME_RESPONSE) {
          if (f.text().equals(Connection.HEARTBEAT)) c.connection.send(Connection.line("NOP"));
        } else {
          LOG.log(System.Logger.Level.WARNING, "nsqd " + c.connection.address + ": " + f.text());
        }
      }
    } catch (IOException | RuntimeException e) {
      c.connection.closeQuietly();
      conns.remove(c);
      if (!stopping) {
        LOG.log(System.Logger.Level.WARNING, "lost " + c.connection.address + ": " + e.getMessage());
        updateRdy();
        if (c.isDirect) scheduleReconnect(c.connection.address, 1);
      } else {
        later(this::maybeFinishStop);
      }
    }
  }

  private void scheduleReconnect(String address, int attempt) {
    long delay = Math.min(15_000, 100L << Math.min(attempt, 8));
    try {
      timers.schedule(() -> onDialer(() -> {
        if (stopping || !direct.contains(address)) return;
        try {
          connect(address, true);
        } catch (IOException | RuntimeException e) {
          LOG.log(System.Logger.Level.INFO, "reconnect to " + address + " failed: " + e.getMessage());
          scheduleReconnect(address, attempt + 1);
        }
      }), delay, TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException ignored) {
      // stopped meanwhile
    }
  }

  private void handle(Message m, Conn c) {
    if (c.connection.isClosed() && !stopping) {
      // nsqd requeues it itself when its connection closes
      c.inFlightHere.decrementAndGet();
      inFlight.decrementAndGet();
      return;
    }
    if (config.maxAttempts > 0 && m.attempts() > config.maxAttempts) {
      LOG.log(System.Logger.Level.WARNING, "message " + m.id() + " delivered " + m.attempts()
          + " times (max_attempts " + config.maxAttempts + "): giving up and sending FIN");
      m.finish();
      return;
    }
    ScheduledFuture<?> toucher = null;
    if (config.autoTouch) {
      long every = Math.max(100, c.connection.msgTimeoutMs / 2);
      toucher = timers.scheduleAtFixedRate(m::touch, every, every, TimeUnit.MILLISECONDS);
    }
    try {
      handler.handle(m);
      if (m.isAutoResponseEnabled()) m.finish();
    } catch (Exception | Error e) {
      LOG.log(System.Logger.Level.WARNING, "handler failed on message " + m.id() + ": " + e);
      if (m.isAutoResponseEnabled()) m.requeue(null);
    } finally {
      if (toucher != null) toucher.cancel(false);
    }
  }

  // ---- RDY and backoff ----

  private void onResult(boolean success) {
    synchronized (rdyLock) {
      if (success) {
        if (backoffCounter == 0) return;
        backoffCounter--;
      } else {
        backoffCounter = Math.min(backoffCounter + 1, 30);
      }
      if (backoffCounter > 0) {
        backoffWaiting = true;
        long ms = Math.min(config.maxBackoffDuration.toMillis(), config.backoffMultiplier.toMillis() << Math.min(backoffCounter, 20));
        timers.schedule(() -> {
          synchronized (rdyLock) {
            backoffWaiting = false;
          }
          updateRdy();
        }, ms, TimeUnit.MILLISECONDS);
      }
    }
    updateRdy();
  }

  private void redistribute() {
    synchronized (rdyLock) {
      rotation++;
    }
    if (maxInFlight < conns.size()) updateRdy();
  }

  /** Sends each connection the RDY it should have now; only changes are sent. */
  private void updateRdy() {
    synchronized (rdyLock) {
      List<Conn> all = new ArrayList<>(conns);
      int n = all.size();
      if (n == 0) return;
      int mif = maxInFlight;
      for (int i = 0; i < n; i++) {
        Conn c = all.get(i);
        long target;
        if (stopping || mif == 0) {
          target = 0;
        } else if (backoffCounter > 0) {
          target = !backoffWaiting && i == rotation % n ? 1 : 0;   // one message tests the water
        } else if (mif >= n) {
          target = Math.min(c.connection.maxRdyCount, Math.max(1, mif / n));
        } else {
          target = ((i - rotation % n + n) % n) < mif ? 1 : 0;
        }
        if (c.rdy != target) {
          c.rdy = (int) target;
          c.connection.send(Connection.line("RDY " + target));
        }
      }
    }
  }

  // ---- lookupd ----

  private void queryLookupd() {
    if (stopping || lookupds.isEmpty()) return;
    String base = lookupds.get(lookupdIndex++ % lookupds.size());
    String url = (base.startsWith("http://") || base.startsWith("https://") ? base : "http://" + base);
    if (url.endsWith("/")) url = url.substring(0, url.length() - 1);
    url += "/lookup?topic=" + URLEncoder.encode(topic, StandardCharsets.UTF_8);
    List<String> producers = new ArrayList<>();
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(5))
          .header("Accept", "application/vnd.nsq; version=1.0").build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 404) return;   // the topic does not exist yet
      if (r.statusCode() != 200) {
        LOG.log(System.Logger.Level.WARNING, "lookupd " + url + " answered " + r.statusCode());
        return;
      }
      Object parsed = Json.parse(r.body());
      Object ps = parsed instanceof Map<?, ?> m ? m.get("producers") : null;
      if (ps == null && parsed instanceof Map<?, ?> m && m.get("data") instanceof Map<?, ?> d) ps = d.get("producers");
      if (ps instanceof List<?> list) {
        for (Object p : list) {
          if (p instanceof Map<?, ?> pm) {
            String host = Json.string(pm, "broadcast_address", null);
            long port = Json.number(pm, "tcp_port", -1);
            if (host != null && port > 0) producers.add((host.contains(":") ? "[" + host + "]" : host) + ":" + port);
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      LOG.log(System.Logger.Level.WARNING, "lookupd " + url + ": " + e.getMessage());
      return;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return;
    }
    for (String p : producers) {
      if (stopping) return;
      try {
        connect(p, false);
      } catch (IOException | RuntimeException e) {
        LOG.log(System.Logger.Level.WARNING, "cannot consume from " + p + ": " + e.getMessage());
      }
    }
  }
}
