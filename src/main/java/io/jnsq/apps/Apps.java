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
   * Runs {@code stop} when the JVM is told to end (SIGINT, SIGTERM) and holds the exit until
   * {@code finished} opens (at most 30 s), so what was written is FINed first. Returns the hook so a
   * normal end can take it away again.
   */
  static Thread onTerminate(Runnable stop, CountDownLatch finished) {
    Thread hook = new Thread(() -> {
      stop.run();
      try {
        finished.await(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }, "jnsq-app-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    return hook;
  }

  static void removeHook(Thread hook) {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException shuttingDown) {
      // the hook is running: that is what ended us
    }
  }
}
