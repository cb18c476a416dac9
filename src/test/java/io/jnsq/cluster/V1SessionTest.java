package io.jnsq.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/** nsqlookupd's V1 answers, as captured from a real nsqlookupd 1.3.0 (samples/lookupd-v1-transcript.txt). */
class V1SessionTest {
  private static final String REPLY =
      "{\"broadcast_address\":\"127.0.0.1\",\"hostname\":\"vm\",\"http_port\":40797,\"tcp_port\":45549,\"version\":\"1.3.0\"}";
  private static final String ID = "{\"broadcast_address\": \"b1\", \"tcp_port\": 1, \"http_port\": 2, \"version\": \"1.3.0\"}";

  private final List<Registry.Entry> published = new ArrayList<>();
  private final V1Session session = new V1Session("127.0.0.1:5000", () -> REPLY, published::add);

  private static ByteString identify(String json) {
    byte[] body = json.getBytes(StandardCharsets.UTF_8);
    return ByteString.fromString("IDENTIFY\n").concat(ByteString.fromArray(ByteBuffer.allocate(4).putInt(body.length).array()))
        .concat(ByteString.fromArray(body));
  }

  /** Replies as "[size] text" strings, "(closed)" for the close marker. */
  private static List<String> show(List<ByteString> replies) {
    List<String> out = new ArrayList<>();
    for (ByteString r : replies) {
      if (r.equals(V1Session.CLOSE)) {
        out.add("(closed)");
        continue;
      }
      int size = r.iterator().getInt(java.nio.ByteOrder.BIG_ENDIAN);
      assertEquals(r.size() - 4, size, "size prefix");
      out.add("[size " + size + "] " + r.drop(4).utf8String());
    }
    return out;
  }

  private List<String> send(String... parts) {
    ByteString all = ByteString.fromString("  V1");
    for (String p : parts) all = all.concat(p.startsWith("IDENTIFY ") ? identify(p.substring(9)) : ByteString.fromString(p + "\n"));
    return show(session.feed(all));
  }

  @Test
  void aWrongMagicIsRefused() {
    assertEquals(List.of("[size 14] E_BAD_PROTOCOL", "(closed)"), show(session.feed(ByteString.fromString("  V2PING\n"))));
  }

  @Test
  void pingAndUnknownCommands() {
    assertEquals(List.of("[size 2] OK"), send("PING"));
    assertEquals(List.of("[size 29] E_INVALID invalid command FOO", "(closed)"), show(session.feed(ByteString.fromString("FOO\n"))));
  }

  @Test
  void registerNeedsIdentify() {
    assertEquals(List.of("[size 30] E_INVALID client must IDENTIFY", "(closed)"), send("REGISTER lt1"));
  }

  @Test
  void identifyAnswersWithTheLookupServersOwnDetailsAndOnlyOnce() {
    assertEquals(List.of("[size 102] " + REPLY, "[size 31] E_INVALID cannot IDENTIFY again", "(closed)"),
        send("IDENTIFY " + ID, "IDENTIFY " + ID));
    Registry.Producer p = published.get(0).producer();
    assertEquals("b1", p.broadcastAddress());
    assertEquals(1, p.tcpPort());
    assertEquals("127.0.0.1:5000", p.remoteAddress());
  }

  @Test
  void badIdentifyBodies() {
    assertEquals(List.of("[size 34] E_BAD_BODY IDENTIFY missing fields", "(closed)"), send("IDENTIFY {}"));
    V1Session other = new V1Session("x", () -> REPLY, e -> { });
    assertEquals(List.of("[size 46] E_BAD_BODY IDENTIFY failed to decode JSON body", "(closed)"),
        show(other.feed(ByteString.fromString("  V1").concat(identify("{x")))));
  }

  @Test
  void registerArgumentsAreChecked() {
    assertEquals(List.of("[size 102] " + REPLY, "[size 48] E_INVALID REGISTER insufficient number of params", "(closed)"),
        send("IDENTIFY " + ID, "REGISTER"));
    V1Session s2 = new V1Session("x", () -> REPLY, e -> { });
    assertEquals("[size 50] E_BAD_TOPIC REGISTER topic name 'a/b' is not valid",
        show(s2.feed(ByteString.fromString("  V1").concat(identify(ID)).concat(ByteString.fromString("REGISTER a/b\n")))).get(1));
    V1Session s3 = new V1Session("x", () -> REPLY, e -> { });
    assertEquals("[size 54] E_BAD_CHANNEL REGISTER channel name 'a/b' is not valid",
        show(s3.feed(ByteString.fromString("  V1").concat(identify(ID)).concat(ByteString.fromString("REGISTER lt1 a/b\n")))).get(1));
    V1Session s4 = new V1Session("x", () -> REPLY, e -> { });
    assertEquals("[size 52] E_BAD_TOPIC UNREGISTER topic name 'a/b' is not valid",
        show(s4.feed(ByteString.fromString("  V1").concat(identify(ID)).concat(ByteString.fromString("UNREGISTER a/b\n")))).get(1));
  }

  @Test
  void registrationsFollowRegisterAndUnregisterAndGoWithTheConnection() {
    assertEquals(List.of("[size 102] " + REPLY, "[size 2] OK", "[size 2] OK", "[size 2] OK", "[size 2] OK", "[size 2] OK"),
        send("IDENTIFY " + ID, "REGISTER lt1 c", "REGISTER other", "UNREGISTER lt1 c", "UNREGISTER other",
            "UNREGISTER never_registered"));
    assertEquals("{lt1=[c], other=[]}", published.get(2).topics().toString());
    assertEquals("{lt1=[]}", published.get(published.size() - 1).topics().toString());
    session.closed();
    assertNull(published.get(published.size() - 1));
  }

  @Test
  void commandsSplitAtEveryByteGiveTheSameReplies() {
    ByteString all = ByteString.fromString("  V1").concat(identify(ID)).concat(ByteString.fromString("REGISTER lt1 c\nPING\n"));
    for (int cut = 0; cut <= all.size(); cut++) {
      V1Session s = new V1Session("x", () -> REPLY, e -> { });
      List<ByteString> out = new ArrayList<>(s.feed(all.take(cut)));
      out.addAll(s.feed(all.drop(cut)));
      assertEquals(List.of("[size 102] " + REPLY, "[size 2] OK", "[size 2] OK"), show(out), "cut at " + cut);
    }
  }
}
