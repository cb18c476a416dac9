package io.jnsq.apps;

import io.jnsq.client.ClientConfig;
import java.io.PrintStream;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** What NSQ's apps share here: the version, go-nsq option parsing, Go-style log lines, and stopping on SIGINT/SIGTERM. */
final class Apps {
  private Apps() {}

  private static final DateTimeFormatter LOG_TIME = DateTimeFormatter.ofPattern("yyyy/MM/dd HH:mm:ss");

  /** NSQ's apps print {@code <name> v<version>} for -version. */
  static String version() {
    Package p = Apps.class.getPackage();
    String v = p == null ? null : p.getImplementationVersion();
    return v == null ? "dev" : v;
  }

  /** A user agent like NSQ's ({@code nsq_tail/1.3.0 go-nsq/1.1.0}): the app, then the client. */
  static String userAgent(String app) {
    return app + "/" + version() + " jnsq-client/" + version();
  }

  /** Client settings from repeated {@code -consumer-opt}/{@code -producer-opt} values ({@code name,value}). */
  static ClientConfig config(String app, List<String> opts) {
    // one line per record on stderr, as Go's log package writes them
    if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
      System.setProperty("java.util.logging.SimpleFormatter.format", "%1$tY/%1$tm/%1$td %1$tH:%1$tM:%1$tS %4$.3s %5$s%6$s%n");
    }
    ClientConfig cfg = new ClientConfig().userAgent(userAgent(app));
    for (String o : opts) cfg.setOption(o);
    return cfg;
  }

  /** Writes a Go-style log line: {@code 2006/01/02 15:04:05 [app] message}. */
  static void log(PrintStream err, String app, String message) {
    err.println(LocalDateTime.now().format(LOG_TIME) + " [" + app + "] " + message);
  }

  /** A refusal of the command line, reported as NSQ's apps do (they exit 1 via log.Fatal). */
  static final class Usage extends RuntimeException {
    private static final long serialVersionUID = 1L;
    Usage(String message) { super(message); }
  }

  /**
   * Runs {@code stop} on SIGINT and SIGTERM, so the app ends its work and returns 0 as NSQ's apps do.
   * Where the JVM does not let us take those signals, a shutdown hook runs {@code stop} instead and
   * holds the exit until {@code finished} opens (at most 30 s). Returns what {@link #removeHook} undoes.
   */
  static Object onTerminate(Runnable stop, CountDownLatch finished) {
    try {
      List<Object[]> previous = new java.util.ArrayList<>();
      for (String name : List.of("INT", "TERM")) {
        sun.misc.Signal signal = new sun.misc.Signal(name);
        previous.add(new Object[] {signal, sun.misc.Signal.handle(signal, s -> new Thread(stop, "jnsq-app-stop").start())});
      }
      return previous;
    } catch (IllegalArgumentException | LinkageError e) {
      Thread hook = new Thread(() -> {
        stop.run();
        try {
          finished.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
        }
      }, "jnsq-app-stop");
      Runtime.getRuntime().addShutdownHook(hook);
      return hook;
    }
  }

  /**
   * Runs a consuming app until SIGINT/SIGTERM opens {@code terminate}: connects {@code consumer} as
   * {@code flags} say, waits, then stops the consumer (which waits for what is in flight) and runs
   * {@code after}. Returns the exit status: 0, or 1 with a FATAL line when connecting failed.
   */
  static int consumeUntilTerminated(String app, PrintStream err, io.jnsq.client.Consumer consumer, ConsumerFlags flags,
      CountDownLatch terminate, Runnable after) throws InterruptedException {
    CountDownLatch finished = new CountDownLatch(1);
    Object hook = onTerminate(terminate::countDown, finished);
    try {
      flags.connect(consumer);
      terminate.await();
      return 0;
    } catch (java.io.IOException | RuntimeException e) {
      log(err, app, "FATAL: " + e.getMessage());
      return 1;
    } finally {
      consumer.stop();
      after.run();
      finished.countDown();
      removeHook(hook);
    }
  }

  /** Runs {@code action} on each signal {@code name} (e.g. HUP) where the JVM allows it; null where it does not. */
  static Object onSignal(String name, Runnable action) {
    try {
      sun.misc.Signal signal = new sun.misc.Signal(name);
      List<Object[]> previous = new java.util.ArrayList<>();
      previous.add(new Object[] {signal, sun.misc.Signal.handle(signal, s -> new Thread(action, "jnsq-app-" + name).start())});
      return previous;
    } catch (IllegalArgumentException | LinkageError e) {
      return null;
    }
  }

  /** Gives the signals back to the JVM (or takes the shutdown hook away) once the app has ended. */
  static void removeHook(Object installed) {
    if (installed instanceof Thread hook) {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running: that is what ended us
      }
    } else if (installed instanceof List<?> previous) {
      for (Object o : previous) {
        Object[] pair = (Object[]) o;
        sun.misc.Signal.handle((sun.misc.Signal) pair[0], (sun.misc.SignalHandler) pair[1]);
      }
    }
  }
}
