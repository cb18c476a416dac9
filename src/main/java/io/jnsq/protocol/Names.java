package io.jnsq.protocol;

/** NSQ's rules for topic and channel names: 1–64 bytes of {@code [.a-zA-Z0-9_-]}, optionally ending in {@code #ephemeral}. */
public final class Names {
  private static final String EPHEMERAL = "#ephemeral";

  private Names() {}

  public static boolean isValidTopic(String name) { return isValid(name); }

  public static boolean isValidChannel(String name) { return isValid(name); }

  public static boolean isEphemeral(String name) { return name.endsWith(EPHEMERAL); }

  private static boolean isValid(String name) {
    int len = name.length();
    if (len < 1 || len > 64) return false;
    int end = name.endsWith(EPHEMERAL) ? len - EPHEMERAL.length() : len;
    if (end == 0) return false;
    for (int i = 0; i < end; i++) {
      char c = name.charAt(i);
      boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
      if (!ok) return false;
    }
    return true;
  }
}
