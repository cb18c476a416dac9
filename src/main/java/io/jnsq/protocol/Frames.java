package io.jnsq.protocol;

import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * Server-to-client frames:
 * <pre>
 * [int32 size = 4 + len(data)][int32 type: 0 response, 1 error, 2 message][data]
 * </pre>
 * A message frame's data is
 * <pre>
 * [int64 timestamp ns][uint16 attempts][16 bytes hex id][body]   (size = 30 + len(body))
 * </pre>
 */
public final class Frames {
  public static final int TYPE_RESPONSE = 0;
  public static final int TYPE_ERROR = 1;
  public static final int TYPE_MESSAGE = 2;
  private static final ByteOrder BE = ByteOrder.BIG_ENDIAN;

  public static final ByteString OK = response("OK");
  public static final ByteString HEARTBEAT = response("_heartbeat_");
  public static final ByteString CLOSE_WAIT = response("CLOSE_WAIT");

  private Frames() {}

  public static ByteString response(String text) { return frame(TYPE_RESPONSE, ascii(text)); }

  public static ByteString response(ByteString data) { return frame(TYPE_RESPONSE, data); }

  /** An error frame; {@code text} is the whole payload, e.g. {@code E_INVALID invalid command FOO}. */
  public static ByteString error(String text) { return frame(TYPE_ERROR, ascii(text)); }

  static ByteString frame(int type, ByteString data) {
    return new ByteStringBuilder().putInt(4 + data.size(), BE).putInt(type, BE).append(data).result();
  }

  /** Writes a whole message frame into {@code b}: the body is copied once, straight into the output. */
  public static void appendMessage(ByteStringBuilder b, long timestampNanos, int attempts, long id, ByteString body) {
    b.putInt(30 + body.size(), BE);
    b.putInt(TYPE_MESSAGE, BE);
    b.putLong(timestampNanos, BE);
    b.putShort(attempts, BE);
    MessageIds.writeHex(id, b);
    b.append(body);
  }

  private static ByteString ascii(String s) { return ByteString.fromArrayUnsafe(s.getBytes(StandardCharsets.UTF_8)); }
}
