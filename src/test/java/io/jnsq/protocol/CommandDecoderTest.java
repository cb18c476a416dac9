package io.jnsq.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** The decoding stage gives the same commands however the bytes are cut into reads. */
class CommandDecoderTest {
  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll static void shutdown() { testKit.shutdownTestKit(); }

  private static final ByteString STREAM = CommandParserTest.bytes(
      "  V2",
      "IDENTIFY\n", 31, "{\"client_id\":\"x\",\"hostname\":\"\"}",
      "SUB t c\n", "RDY 10\n",
      "PUB t\n", 5, "hello",
      "MPUB t\n", 15, 2, 1, "a", 2, "bb",
      "DPUB t 100\n", 3, "dly",
      "FIN 0123456789abcdef\r\n", "REQ 0123456789abcdef 5\n", "TOUCH 0123456789abcdef\n",
      "RDY -1\n", "NOP\n", "CLS\n");

  private static final List<Inbound> EXPECTED = List.of(
      new Command.Identify(ByteString.fromString("{\"client_id\":\"x\",\"hostname\":\"\"}")),
      new Command.Sub("t", "c"), new Command.Rdy(10),
      new Command.Pub("t", ByteString.fromString("hello")),
      new Command.MPub("t", List.of(ByteString.fromString("a"), ByteString.fromString("bb"))),
      new Command.DPub("t", 100, ByteString.fromString("dly")),
      new Command.Fin("0123456789abcdef"), new Command.Req("0123456789abcdef", 5), new Command.Touch("0123456789abcdef"),
      ProtocolError.of("RDY", "E_INVALID", "RDY could not parse count -1"),
      new Command.Nop(), new Command.Cls());

  private static List<Inbound> decode(List<ByteString> chunks) {
    List<List<Inbound>> batches = Source.from(chunks).via(CommandDecoder.flow(Limits.defaults()))
        .runWith(Sink.seq(), testKit.system()).toCompletableFuture().join();
    List<Inbound> all = new ArrayList<>();
    batches.forEach(all::addAll);
    return all;
  }

  @Test
  void decodesAWholeStreamInOneBatch() {
    List<List<Inbound>> batches = Source.single(STREAM).via(CommandDecoder.flow(Limits.defaults()))
        .runWith(Sink.seq(), testKit.system()).toCompletableFuture().join();
    assertEquals(1, batches.size(), "one read, one batch");
    assertEquals(EXPECTED, batches.get(0));
  }

  @Test
  void sameCommandsWhereverTheStreamIsSplitInTwo() {
    for (int cut = 0; cut <= STREAM.size(); cut++) {
      assertEquals(EXPECTED, decode(List.of(STREAM.take(cut), STREAM.drop(cut))), "split at " + cut);
    }
  }

  @Test
  void sameCommandsWhenSplitAtEveryPairOfOffsets() {
    for (int a = 0; a <= STREAM.size(); a += 3) {
      for (int b = a; b <= STREAM.size(); b += 7) {
        assertEquals(EXPECTED, decode(List.of(STREAM.take(a), STREAM.slice(a, b), STREAM.drop(b))), "split at " + a + "," + b);
      }
    }
  }

  @Test
  void sameCommandsOneByteAtATime() {
    List<ByteString> bytes = new ArrayList<>();
    for (int i = 0; i < STREAM.size(); i++) bytes.add(STREAM.slice(i, i + 1));
    assertEquals(EXPECTED, decode(bytes));
  }

  @Test
  void wrongMagicIsOneErrorAndNothingElse() {
    assertEquals(List.of(ProtocolError.framing("", "E_BAD_PROTOCOL", "")),
        decode(List.of(ByteString.fromString("  V1NOP\n"))));
    assertEquals("E_BAD_PROTOCOL", ProtocolError.framing("", "E_BAD_PROTOCOL", "").frameText());
  }

  @Test
  void stopsReadingAfterAnErrorThatLosesTheFraming() {
    ByteString s = CommandParserTest.bytes("  V2", "NOP\n", "PUB t\n", 0, "NOP\n");
    List<Inbound> got = Source.single(s).concat(Source.maybe().map(x -> ByteString.emptyByteString()))
        .via(CommandDecoder.flow(Limits.defaults()))
        .takeWithin(Duration.ofMillis(300))
        .runWith(Sink.seq(), testKit.system()).toCompletableFuture().join()
        .stream().flatMap(List::stream).toList();
    assertEquals(List.of(new Command.Nop(), ProtocolError.framing("PUB", "E_BAD_MESSAGE", "PUB invalid message body size 0")), got);
  }
}
