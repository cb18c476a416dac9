package io.jnsq.tcp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import java.io.DataInputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.zip.Deflater;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The exact bytes of a deflate upgrade: IDENTIFY's answer plain, then an OK and everything else compressed. */
class CompressionTest {
  private static Node node;

  @BeforeAll static void start() { node = TestNodes.start(new HashMap<>()); }

  @AfterAll static void stop() { node.stop().toCompletableFuture().join(); }

  private static byte[] frameOf(String line, byte[] body) {
    return NsqTestClient.lineWithBody(line, body);
  }

  @Test
  void deflateStartsRightAfterTheIdentifyAnswerInBothDirections() throws Exception {
    try (Socket s = new Socket("127.0.0.1", node.tcpAddress().getPort())) {
      s.setSoTimeout(5000);
      OutputStream raw = s.getOutputStream();
      DataInputStream plainIn = new DataInputStream(s.getInputStream());
      raw.write("  V2".getBytes(StandardCharsets.US_ASCII));
      raw.write(frameOf("IDENTIFY", "{\"feature_negotiation\":true,\"deflate\":true,\"deflate_level\":9}".getBytes()));
      raw.flush();
      int size = plainIn.readInt();
      byte[] answer = new byte[size];
      plainIn.readFully(answer);
      String json = new String(answer, 4, size - 4, StandardCharsets.UTF_8);
      assertTrue(json.contains("\"deflate\":true") && json.contains("\"deflate_level\":6"), "level capped at the max: " + json);

      DataInputStream in = new DataInputStream(new InflaterInputStream(s.getInputStream(), new Inflater(true), 1));
      assertEquals("OK", readFrame(in));
      Deflater deflater = new Deflater(6, true);
      byte[] pub = frameOf("PUB compressed", "hello".getBytes());
      deflater.setInput(pub);
      byte[] buf = new byte[4096];
      int n = deflater.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
      raw.write(buf, 0, n);
      raw.flush();
      assertEquals("OK", readFrame(in));
    }
  }

  private static String readFrame(DataInputStream in) throws Exception {
    int size = in.readInt();
    int type = in.readInt();
    byte[] data = new byte[size - 4];
    in.readFully(data);
    assertEquals(0, type);
    return new String(data, StandardCharsets.UTF_8);
  }

  @Test
  void askingForBothIsRefused() throws Exception {
    try (NsqTestClient c = NsqTestClient.connect(node.tcpAddress())) {
      NsqTestClient.Frame f = c.withBody("IDENTIFY",
          "{\"feature_negotiation\":true,\"deflate\":true,\"snappy\":true}".getBytes(StandardCharsets.UTF_8)).read();
      assertEquals("E_IDENTIFY_FAILED cannot enable both deflate and snappy compression", f.text());
    }
  }
}
