package io.jnsq.protocol;

import static org.junit.jupiter.api.Assertions.assertTrue;

import com.code_intelligence.jazzer.junit.FuzzTest;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/**
 * Fuzzing the parser: whatever the bytes, it never throws, and it either waits for more or consumes at
 * least one byte (so the decoder cannot spin). Under {@code mvn test} the Jazzer test replays its seed
 * corpus; run with {@code JAZZER_FUZZ=1} to fuzz with coverage guidance. The seeded test below runs a fixed
 * set of mutated streams so CI covers the same ground every time.
 */
class DecoderFuzzTest {
  private static final Limits SMALL = new Limits(1024, 4096, 2500, 3600000);
  private static final String[] SEEDS = {
      "PUB t\n\0\0\0\5hello", "MPUB t\n\0\0\0\17\0\0\0\2\0\0\0\1a\0\0\0\2bb", "DPUB t 10\n\0\0\0\1x",
      "IDENTIFY\n\0\0\0\2{}", "AUTH\n\0\0\0\1s", "SUB t c\n", "RDY 5\n", "FIN 0123456789abcdef\n",
      "REQ 0123456789abcdef 10\n", "TOUCH 0123456789abcdef\n", "CLS\n", "NOP\n"};

  @FuzzTest(maxDuration = "10s")
  void parserNeverThrowsAndAlwaysProgresses(byte[] data) {
    check(ByteString.fromArray(data));
  }

  @Test
  void seededMutationsNeverBreakTheParser() {
    Random r = new Random(42);
    for (int n = 0; n < 20_000; n++) {
      StringBuilder s = new StringBuilder();
      int k = 1 + r.nextInt(4);
      for (int i = 0; i < k; i++) s.append(SEEDS[r.nextInt(SEEDS.length)]);
      byte[] b = s.toString().getBytes(StandardCharsets.ISO_8859_1);
      int flips = r.nextInt(5);
      for (int i = 0; i < flips; i++) b[r.nextInt(b.length)] = (byte) r.nextInt(256);
      if (r.nextInt(4) == 0) b = java.util.Arrays.copyOf(b, r.nextInt(b.length + 1));
      check(ByteString.fromArray(b));
    }
  }

  private static void check(ByteString buf) {
    ByteString rest = buf;
    for (int guard = 0; guard < 10_000 && !rest.isEmpty(); guard++) {
      CommandParser.Parsed p = CommandParser.next(rest, SMALL);
      if (p == CommandParser.NeedMore.INSTANCE) return;
      CommandParser.Ok ok = (CommandParser.Ok) p;
      assertTrue(ok.consumed() > 0 && ok.consumed() <= rest.size(), "consumed " + ok.consumed() + " of " + rest.size());
      if (ok.item() instanceof ProtocolError e && e.framingLost()) return;
      rest = rest.drop(ok.consumed());
    }
  }
}
