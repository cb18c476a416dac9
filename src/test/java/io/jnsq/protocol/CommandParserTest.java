package io.jnsq.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Exact decoding of every command and every decoder-level error text of nsqd 1.3.0. */
class CommandParserTest {
  static final Limits LIMITS = Limits.defaults();

  static ByteString bytes(Object... parts) {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (Object p : parts) {
      byte[] x = p instanceof String s ? s.getBytes(StandardCharsets.ISO_8859_1)
          : p instanceof Integer i ? ByteBuffer.allocate(4).putInt(i).array() : (byte[]) p;
      b.write(x, 0, x.length);
    }
    return ByteString.fromArray(b.toByteArray());
  }

  static Inbound parseWhole(ByteString buf) {
    CommandParser.Parsed p = CommandParser.next(buf, LIMITS);
    CommandParser.Ok ok = assertInstanceOf(CommandParser.Ok.class, p, "expected a whole command");
    assertEquals(buf.size(), ok.consumed(), "consumes exactly the command");
    return ok.item();
  }

  static String errorText(ByteString buf) {
    CommandParser.Ok ok = assertInstanceOf(CommandParser.Ok.class, CommandParser.next(buf, LIMITS));
    return assertInstanceOf(ProtocolError.class, ok.item()).frameText();
  }

  @Test
  void decodesEveryCommand() {
    assertEquals(new Command.Nop(), parseWhole(bytes("NOP\n")));
    assertEquals(new Command.Cls(), parseWhole(bytes("CLS\r\n")));
    assertEquals(new Command.Sub("t", "c#ephemeral"), parseWhole(bytes("SUB t c#ephemeral\n")));
    assertEquals(new Command.Rdy(1), parseWhole(bytes("RDY\n")));
    assertEquals(new Command.Rdy(0), parseWhole(bytes("RDY \n")));
    assertEquals(new Command.Rdy(2500), parseWhole(bytes("RDY 2500\n")));
    assertEquals(new Command.Fin("0123456789abcdef"), parseWhole(bytes("FIN 0123456789abcdef\n")));
    assertEquals(new Command.Touch("0123456789abcdef"), parseWhole(bytes("TOUCH 0123456789abcdef\n")));
    assertEquals(new Command.Req("0123456789abcdef", 0), parseWhole(bytes("REQ 0123456789abcdef \n")));
    assertEquals(new Command.Req("0123456789abcdef", 99999999), parseWhole(bytes("REQ 0123456789abcdef 99999999\n")));
    assertEquals(new Command.Pub("t", ByteString.fromString("hello")), parseWhole(bytes("PUB t extra\n", 5, "hello")));
    assertEquals(new Command.DPub("t", 1000, ByteString.fromString("dly")), parseWhole(bytes("DPUB t 1000\n", 3, "dly")));
    assertEquals(new Command.DPub("t", 0, ByteString.fromString("x")), parseWhole(bytes("DPUB t \n", 1, "x")));
    assertEquals(new Command.MPub("t", List.of(ByteString.fromString("a"), ByteString.fromString("bb"))),
        parseWhole(bytes("MPUB t\n", 15, 2, 1, "a", 2, "bb")));
    assertEquals(new Command.Identify(ByteString.fromString("{}")), parseWhole(bytes("IDENTIFY\n", 2, "{}")));
    assertEquals(new Command.Auth(ByteString.fromString("s3cret")), parseWhole(bytes("AUTH\n", 6, "s3cret")));
  }

  @Test
  void mpubReadsExactlyItsCountWhateverBodySizeSays() {
    // nsqd checks body_size against the limit only; the messages themselves delimit the command.
    ByteString buf = bytes("MPUB t\n", 4000, 1, 2, "hi", "NOP\n");
    CommandParser.Ok ok = assertInstanceOf(CommandParser.Ok.class, CommandParser.next(buf, LIMITS));
    assertEquals(new Command.MPub("t", List.of(ByteString.fromString("hi"))), ok.item());
    assertEquals(buf.size() - 4, ok.consumed());
  }

  @Test
  void waitsForIncompleteCommands() {
    for (ByteString partial : List.of(bytes("NOP"), bytes("PUB t\n"), bytes("PUB t\n", 5, "hel"), bytes("MPUB t\n", 15, 2, 1, "a"),
        bytes("MPUB t\n", 15, 2, 1, "a", 2, "b"), bytes("IDENTIFY\n", 2), bytes("DPUB t 5\n"))) {
      assertSame(CommandParser.NeedMore.INSTANCE, CommandParser.next(partial, LIMITS), partial.utf8String());
    }
  }

  @ParameterizedTest(name = "{0}")
  @CsvSource(delimiter = '|', value = {
      "FOO|E_INVALID invalid command FOO",
      "pub t|E_INVALID invalid command pub",
      "|'E_INVALID invalid command '",
      "SUB t|E_INVALID SUB insufficient number of parameters",
      "SUB a/b c|E_BAD_TOPIC SUB topic name \"a/b\" is not valid",
      "SUB t a*b|E_BAD_CHANNEL SUB channel name \"a*b\" is not valid",
      "SUB #ephemeral c|E_BAD_TOPIC SUB topic name \"#ephemeral\" is not valid",
      "SUB t x#ephemeralx|E_BAD_CHANNEL SUB channel name \"x#ephemeralx\" is not valid",
      "RDY -1|E_INVALID RDY could not parse count -1",
      "RDY 2501|E_INVALID RDY count 2501 out of range 0-2500",
      "FIN|E_INVALID FIN insufficient number of params",
      "FIN abc|E_INVALID invalid message ID",
      "TOUCH|E_INVALID TOUCH insufficient number of params",
      "TOUCH 0123456789abcdef0|E_INVALID invalid message ID",
      "REQ 0123456789abcdef|E_INVALID REQ insufficient number of params",
      "REQ abc 0|E_INVALID invalid message ID",
      "REQ 0123456789abcdef -5|E_INVALID REQ could not parse timeout -5",
      "AUTH x|E_INVALID AUTH invalid number of parameters",
      "PUB|E_INVALID PUB insufficient number of parameters",
      "PUB a/b|E_BAD_TOPIC PUB topic name \"a/b\" is not valid",
      "MPUB|E_INVALID MPUB insufficient number of parameters",
      "MPUB a/b|E_BAD_TOPIC E_BAD_TOPIC MPUB topic name \"a/b\" is not valid",
      "DPUB t|E_INVALID DPUB insufficient number of parameters",
      "DPUB a/b 5|E_BAD_TOPIC DPUB topic name \"a/b\" is not valid",
      "DPUB t -1|E_INVALID DPUB could not parse timeout -1",
      "DPUB t 3600001|E_INVALID DPUB timeout 3600001 out of range 0-3600000",
  })
  void refusesBadLinesWithNsqdsText(String line, String expected) {
    assertEquals(expected, errorText(bytes((line == null ? "" : line) + "\n")));
  }

  @Test
  void refusesBadBodiesWithNsqdsText() {
    assertEquals("E_BAD_MESSAGE PUB invalid message body size 0", errorText(bytes("PUB t\n", 0)));
    assertEquals("E_BAD_MESSAGE PUB invalid message body size -3", errorText(bytes("PUB t\n", -3)));
    assertEquals("E_BAD_MESSAGE PUB message too big 1048577 > 1048576", errorText(bytes("PUB t\n", 1048577)));
    assertEquals("E_BAD_MESSAGE DPUB invalid message body size 0", errorText(bytes("DPUB t 5\n", 0)));
    assertEquals("E_BAD_MESSAGE DPUB message too big 1048577 > 1048576", errorText(bytes("DPUB t 5\n", 1048577)));
    assertEquals("E_BAD_BODY MPUB invalid body size 0", errorText(bytes("MPUB t\n", 0)));
    assertEquals("E_BAD_BODY MPUB body too big 5242881 > 5242880", errorText(bytes("MPUB t\n", 5242881)));
    assertEquals("E_BAD_BODY MPUB invalid message count 0", errorText(bytes("MPUB t\n", 4, 0)));
    assertEquals("E_BAD_BODY MPUB invalid message count 1048576", errorText(bytes("MPUB t\n", 8, 1048576)));
    assertEquals("E_BAD_MESSAGE MPUB invalid message(1) body size 0", errorText(bytes("MPUB t\n", 13, 2, 1, "a", 0)));
    assertEquals("E_BAD_MESSAGE MPUB message too big 1048577 > 1048576", errorText(bytes("MPUB t\n", 13, 2, 1048577)));
    assertEquals("E_BAD_BODY IDENTIFY invalid body size 0", errorText(bytes("IDENTIFY\n", 0)));
    assertEquals("E_BAD_BODY IDENTIFY body too big 5242881 > 5242880", errorText(bytes("IDENTIFY\n", 5242881)));
    assertEquals("E_BAD_BODY AUTH invalid body size -1", errorText(bytes("AUTH\n", -1)));
  }

  @Test
  void bodyErrorsStopTheDecoderLineErrorsDoNot() {
    CommandParser.Ok body = (CommandParser.Ok) CommandParser.next(bytes("PUB t\n", 0), LIMITS);
    assertTrue(((ProtocolError) body.item()).framingLost());
    CommandParser.Ok line = (CommandParser.Ok) CommandParser.next(bytes("RDY -1\nNOP\n"), LIMITS);
    assertEquals(7, line.consumed());
    assertTrue(!((ProtocolError) line.item()).framingLost());
    assertEquals("RDY", ((ProtocolError) line.item()).verb());
  }

  @Test
  void anOverlongLineClosesSilently() {
    ByteString noNewline = ByteString.fromArray(new byte[CommandParser.MAX_LINE]);
    ProtocolError e = (ProtocolError) ((CommandParser.Ok) CommandParser.next(noNewline, LIMITS)).item();
    assertTrue(e.silent() && e.framingLost());
    ByteString fits = bytes("NOP" + " ".repeat(CommandParser.MAX_LINE - 5) + "\n");
    assertEquals(new Command.Nop(), ((CommandParser.Ok) CommandParser.next(fits, LIMITS)).item());
  }

  @Test
  void quotesBadNamesAsGoDoes() {
    assertEquals("\"a\\\"b\"", GoQuote.quote("a\"b"));
    assertEquals("\"tab\\there\"", GoQuote.quote("tab\there"));
    assertEquals("\"\\x01\"", GoQuote.quote("\u0001"));
    assertEquals("\"\\xff\"", GoQuote.quote("\u00ff"));
    assertEquals("\"é\"", GoQuote.quote(new String("é".getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1)));
  }
}
