package io.jnsq.protocol;

import org.apache.pekko.util.ByteStringBuilder;

/** Message ids on the wire: 16 lowercase hex ASCII digits of a 64-bit number, as nsqd renders them. */
public final class MessageIds {
  private static final byte[] HEX = "0123456789abcdef".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

  private MessageIds() {}

  /** Appends the 16 hex digits of {@code id}. */
  public static void writeHex(long id, ByteStringBuilder b) {
    for (int shift = 60; shift >= 0; shift -= 4) b.putByte(HEX[(int) (id >>> shift) & 0xf]);
  }

  public static String toHex(long id) {
    char[] c = new char[16];
    for (int i = 0; i < 16; i++) c[i] = (char) HEX[(int) (id >>> (60 - 4 * i)) & 0xf];
    return new String(c);
  }

  /** True for exactly 16 lowercase hex digits, the only ids this node hands out. */
  public static boolean isHex(String id) {
    if (id.length() != 16) return false;
    for (int i = 0; i < 16; i++) {
      char c = id.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
    }
    return true;
  }

  /** The number behind an id for which {@link #isHex} holds. */
  public static long parseHex(String id) {
    long v = 0;
    for (int i = 0; i < 16; i++) {
      char c = id.charAt(i);
      v = (v << 4) | (c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return v;
  }
}
