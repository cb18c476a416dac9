package io.jnsq.config;

/** A listen address such as {@code 0.0.0.0:4150}; port 0 asks the OS for a free one. */
public record HostPort(String host, int port) {

  /** Parses {@code host:port}, {@code :port} (all interfaces) or {@code [v6]:port}. */
  public static HostPort parse(String s) {
    int colon = s.lastIndexOf(':');
    if (colon < 0) throw new IllegalArgumentException("address must be host:port, got \"" + s + "\"");
    String host = s.substring(0, colon);
    if (host.startsWith("[") && host.endsWith("]")) host = host.substring(1, host.length() - 1);
    if (host.isEmpty()) host = "0.0.0.0";
    int port;
    try {
      port = Integer.parseInt(s.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("bad port in address \"" + s + "\"");
    }
    if (port < 0 || port > 65535) throw new IllegalArgumentException("port out of range in \"" + s + "\"");
    return new HostPort(host, port);
  }

  @Override public String toString() { return (host.contains(":") ? "[" + host + "]" : host) + ":" + port; }
}
