package io.jnsq.client;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The little JSON the client needs (IDENTIFY and AUTH answers, lookupd's /lookup): objects become
 * maps, arrays lists, numbers doubles. Kept here so the client jar needs no JSON library.
 */
final class Json {
  private final String s;
  private int i;

  private Json(String s) { this.s = s; }

  /** Parses one JSON value; throws IllegalArgumentException on malformed input. */
  static Object parse(String text) {
    Json p = new Json(text);
    p.ws();
    Object v = p.value();
    p.ws();
    if (p.i != p.s.length()) throw p.bad("trailing data");
    return v;
  }

  /** A JSON string literal. */
  static String quote(String v) {
    StringBuilder b = new StringBuilder("\"");
    for (int k = 0; k < v.length(); k++) {
      char c = v.charAt(k);
      if (c == '"' || c == '\\') b.append('\\').append(c);
      else if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
      else b.append(c);
    }
    return b.append('"').toString();
  }

  static String string(Map<?, ?> m, String key, String dflt) {
    Object v = m.get(key);
    return v instanceof String str ? str : dflt;
  }

  static long number(Map<?, ?> m, String key, long dflt) {
    Object v = m.get(key);
    return v instanceof Double d ? d.longValue() : dflt;
  }

  static boolean bool(Map<?, ?> m, String key) {
    return Boolean.TRUE.equals(m.get(key));
  }

  private Object value() {
    if (i >= s.length()) throw bad("unexpected end");
    char c = s.charAt(i);
    switch (c) {
      case '{': return object();
      case '[': return array();
      case '"': return str();
      case 't': return word("true", Boolean.TRUE);
      case 'f': return word("false", Boolean.FALSE);
      case 'n': return word("null", null);
      default: return num();
    }
  }

  private Map<String, Object> object() {
    Map<String, Object> m = new LinkedHashMap<>();
    i++;
    ws();
    if (peek() == '}') { i++; return m; }
    while (true) {
      ws();
      if (peek() != '"') throw bad("expected a key");
      String k = str();
      ws();
      if (peek() != ':') throw bad("expected ':'");
      i++;
      ws();
      m.put(k, value());
      ws();
      char c = peek();
      i++;
      if (c == '}') return m;
      if (c != ',') throw bad("expected ',' or '}'");
    }
  }

  private List<Object> array() {
    List<Object> l = new ArrayList<>();
    i++;
    ws();
    if (peek() == ']') { i++; return l; }
    while (true) {
      ws();
      l.add(value());
      ws();
      char c = peek();
      i++;
      if (c == ']') return l;
      if (c != ',') throw bad("expected ',' or ']'");
    }
  }

  private String str() {
    StringBuilder b = new StringBuilder();
    i++;
    while (true) {
      if (i >= s.length()) throw bad("unterminated string");
      char c = s.charAt(i++);
      if (c == '"') return b.toString();
      if (c != '\\') { b.append(c); continue; }
      if (i >= s.length()) throw bad("unterminated escape");
      char e = s.charAt(i++);
      switch (e) {
        case 'n': b.append('\n'); break;
        case 't': b.append('\t'); break;
        case 'r': b.append('\r'); break;
        case 'b': b.append('\b'); break;
        case 'f': b.append('\f'); break;
        case 'u':
          if (i + 4 > s.length()) throw bad("short \\u escape");
          b.append((char) Integer.parseInt(s.substring(i, i + 4), 16));
          i += 4;
          break;
        default: b.append(e);
      }
    }
  }

  private Object word(String w, Object v) {
    if (!s.startsWith(w, i)) throw bad("unexpected token");
    i += w.length();
    return v;
  }

  private Double num() {
    int start = i;
    while (i < s.length() && "+-0123456789.eE".indexOf(s.charAt(i)) >= 0) i++;
    if (start == i) throw bad("unexpected character");
    try {
      return Double.parseDouble(s.substring(start, i));
    } catch (NumberFormatException e) {
      throw bad("bad number");
    }
  }

  private char peek() {
    if (i >= s.length()) throw bad("unexpected end");
    return s.charAt(i);
  }

  private void ws() {
    while (i < s.length() && Character.isWhitespace(s.charAt(i))) i++;
  }

  private IllegalArgumentException bad(String why) {
    return new IllegalArgumentException("bad JSON at " + i + ": " + why);
  }
}
