package io.jnsq.http;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * A URL query string read the way nsqd reads it: {@code &}-separated {@code key=value} pairs, percent- and
 * plus-decoded, the first value of a repeated key winning. A malformed string (a bad escape, or a
 * {@code ;} separator, which Go rejects) makes the whole request {@code INVALID_REQUEST}.
 */
final class Query {
  private final Map<String, String> values;

  private Query(Map<String, String> values) { this.values = values; }

  /** Parses {@code raw} (without the {@code ?}); empty when it is malformed. */
  static Optional<Query> parse(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) return Optional.of(new Query(out));
    for (String pair : raw.split("&", -1)) {
      if (pair.isEmpty()) continue;
      if (pair.indexOf(';') >= 0) return Optional.empty();
      int eq = pair.indexOf('=');
      String k = decode(eq < 0 ? pair : pair.substring(0, eq));
      String v = decode(eq < 0 ? "" : pair.substring(eq + 1));
      if (k == null || v == null) return Optional.empty();
      out.putIfAbsent(k, v);
    }
    return Optional.of(new Query(out));
  }

  Optional<String> get(String key) { return Optional.ofNullable(values.get(key)); }

  boolean has(String key) { return values.containsKey(key); }

  /** nsqd's boolean flags: {@code false} and {@code 0} are false, anything else (when present) true. */
  boolean flag(String key, boolean absent) {
    String v = values.get(key);
    if (v == null) return absent;
    return !(v.equals("false") || v.equals("0"));
  }

  private static String decode(String s) {
    ByteArrayOutputStream out = new ByteArrayOutputStream(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '+') {
        out.write(' ');
      } else if (c == '%') {
        if (i + 2 >= s.length()) return null;
        int hi = Character.digit(s.charAt(i + 1), 16);
        int lo = Character.digit(s.charAt(i + 2), 16);
        if (hi < 0 || lo < 0) return null;
        out.write(hi * 16 + lo);
        i += 2;
      } else {
        byte[] b = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out.write(b, 0, b.length);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }
}
