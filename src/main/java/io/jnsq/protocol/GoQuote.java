package io.jnsq.protocol;

import java.nio.charset.StandardCharsets;

/**
 * Go's {@code %q} rendering of a string, which nsqd uses to quote bad names in its error texts:
 * double quotes, backslash escapes, printable UTF-8 kept, anything else as {@code \xNN}.
 */
public final class GoQuote {
  private GoQuote() {}

  /** Quotes {@code s}, whose chars are the raw bytes of the command line (ISO-8859-1 decoded). */
  public static String quote(String s) {
    byte[] b = s.getBytes(StandardCharsets.ISO_8859_1);
    StringBuilder out = new StringBuilder(b.length + 2).append('"');
    int i = 0;
    while (i < b.length) {
      int c = b[i] & 0xff;
      if (c < 0x80) {
        switch (c) {
          case '"' -> out.append("\\\"");
          case '\\' -> out.append("\\\\");
          case 7 -> out.append("\\a");
          case '\b' -> out.append("\\b");
          case '\f' -> out.append("\\f");
          case '\n' -> out.append("\\n");
          case '\r' -> out.append("\\r");
          case '\t' -> out.append("\\t");
          case 11 -> out.append("\\v");
          default -> {
            if (c >= 0x20 && c < 0x7f) out.append((char) c);
            else out.append(String.format("\\x%02x", c));
          }
        }
        i++;
        continue;
      }
      int len = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 0;
      int cp = len == 0 || i + len > b.length ? -1 : decode(b, i, len);
      if (cp < 0) {
        out.append(String.format("\\x%02x", c));
        i++;
      } else {
        if (Character.isISOControl(cp) || !Character.isDefined(cp) || Character.getType(cp) == Character.FORMAT) {
          out.append(cp > 0xffff ? String.format("\\U%08x", cp) : String.format("\\u%04x", cp));
        } else {
          out.appendCodePoint(cp);
        }
        i += len;
      }
    }
    return out.append('"').toString();
  }

  private static int decode(byte[] b, int at, int len) {
    int cp = (b[at] & 0xff) & (0xff >> (len + 1));
    for (int k = 1; k < len; k++) {
      int cont = b[at + k] & 0xff;
      if ((cont & 0xc0) != 0x80) return -1;
      cp = (cp << 6) | (cont & 0x3f);
    }
    int min = len == 2 ? 0x80 : len == 3 ? 0x800 : 0x10000;
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return -1;
    return cp;
  }
}
