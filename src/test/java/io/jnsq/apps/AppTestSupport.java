package io.jnsq.apps;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine;

/** Runs an app's command line in-process with its output captured. */
final class AppTestSupport {
  private AppTestSupport() {}

  /** Captured stdout/stderr of one run, and its exit code once it ends. */
  static final class Run {
    final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    final PrintStream out = new PrintStream(stdout, true, StandardCharsets.UTF_8);
    final PrintStream err = new PrintStream(stderr, true, StandardCharsets.UTF_8);
    CompletableFuture<Integer> exit;

    String out() { return stdout.toString(StandardCharsets.UTF_8); }
    String err() { return stderr.toString(StandardCharsets.UTF_8); }
  }

  /** Starts the app on its own thread (as bin/jnsq would parse {@code args}). */
  static Run start(Callable<Integer> app, Run run, String... args) {
    CommandLine cl = new CommandLine(app);
    cl.setOut(new java.io.PrintWriter(run.out, true));
    cl.setErr(new java.io.PrintWriter(run.err, true));
    run.exit = CompletableFuture.supplyAsync(() -> cl.execute(args));
    return run;
  }

  static Run run(Callable<Integer> app, Run run, String... args) {
    start(app, run, args).exit.join();
    return run;
  }
}
