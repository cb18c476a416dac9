package io.jnsq.bench;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * A fixed reference for the machine: raw loopback TCP throughput between two threads of one JVM, no NSQ
 * at all. Figures on shared 2-core machines drift by tens of percent; comparing against this probe, run
 * in the same session, tells a slower node from a slower machine.
 */
@Command(name = "loopback", mixinStandardHelpOptions = true, description = "Measure raw loopback TCP throughput (a reference).")
final class LoopbackProbe implements Callable<Integer> {
  @Option(names = "--runfor", defaultValue = "3s", description = "how long to run (default: ${DEFAULT-VALUE})")
  String runfor;
  @Option(names = "--json", description = "also write the figures to this file as JSON")
  java.io.File json;

  @Override public Integer call() throws Exception {
    long runNanos = BenchCommand.parseDuration(runfor).toNanos();
    long[] received = new long[1];
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread reader = new Thread(() -> {
        try (Socket s = server.accept(); InputStream in = s.getInputStream()) {
          byte[] buf = new byte[1 << 16];
          int r;
          while ((r = in.read(buf)) > 0) received[0] += r;
        } catch (Exception ignored) {
          // the writer closed
        }
      });
      reader.start();
      long start = System.nanoTime();
      try (Socket s = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort()); OutputStream out = s.getOutputStream()) {
        byte[] chunk = new byte[1 << 16];
        while (System.nanoTime() - start < runNanos) out.write(chunk);
      }
      reader.join();
      double secs = (System.nanoTime() - start) / 1e9;
      double mbps = received[0] / secs / 1048576.0;
      System.out.printf("loopback: %.0f MB/s%n", mbps);
      if (json != null) {
        java.nio.file.Files.writeString(json.toPath(), BenchCommand.JSON.createObjectNode()
            .put("scenario", "loopback").put("mb_per_sec", mbps).put("seconds", secs).toPrettyString());
      }
    }
    return 0;
  }
}
