package io.jnsq.bench.jmh;

import io.jnsq.protocol.CommandParser;
import io.jnsq.protocol.Frames;
import io.jnsq.protocol.Limits;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/** The wire codec's hot paths: decoding an MPUB of 200 messages, and encoding message frames for a consumer. */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class CodecBenchmark {
  @Param({"200"})
  int size;

  private ByteString mpub;
  private ByteString body;
  private final Limits limits = Limits.defaults();

  @Setup
  public void setup() {
    byte[] line = "MPUB bench\n".getBytes(StandardCharsets.US_ASCII);
    ByteBuffer b = ByteBuffer.allocate(line.length + 8 + 200 * (4 + size));
    b.put(line).putInt(4 + 200 * (4 + size)).putInt(200);
    for (int i = 0; i < 200; i++) b.putInt(size).put(new byte[size]);
    mpub = ByteString.fromArray(b.array());
    body = ByteString.fromArray(new byte[size]);
  }

  /** One MPUB of 200 messages decoded (throughput × 200 = messages/s). */
  @Benchmark
  public Object decodeMpub200() { return CommandParser.next(mpub, limits); }

  /** 100 message frames encoded into one output buffer, as a consumer's delivery batch is. */
  @Benchmark
  public ByteString encode100Frames() {
    ByteStringBuilder out = new ByteStringBuilder();
    for (int i = 0; i < 100; i++) Frames.appendMessage(out, 1_700_000_000_000_000_000L, 1, 0x18a5b03304a69000L + i, body);
    return out.result();
  }
}
