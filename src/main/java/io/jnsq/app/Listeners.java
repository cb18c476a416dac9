package io.jnsq.app;

import io.jnsq.config.HostPort;
import io.jnsq.config.NodeSettings;
import java.io.IOException;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The addresses a node listens on, each under the flag that sets it, and a check run before the node
 * starts that each can be bound: a busy port then ends in one line naming the flag, instead of Pekko's
 * stack trace from deep inside the listener actor.
 */
final class Listeners {
  private Listeners() {}

  /** Every listener the settings turn on, in the order the node binds them; port 0 ones included. */
  static Map<String, HostPort> of(NodeSettings s) {
    Map<String, HostPort> out = new LinkedHashMap<>();
    out.put("--tcp-address", s.tcpAddress());
    if (s.httpAddress() != null) out.put("--http-address", s.httpAddress());
    if (!s.tlsCert().isEmpty()) out.put("--https-address", s.httpsAddress());
    out.put("--cluster-address", s.clusterAddress());
    if (s.lookupHttpAddress() != null) out.put("--lookup-http-address", s.lookupHttpAddress());
    if (s.lookupTcpAddress() != null) out.put("--lookup-tcp-address", s.lookupTcpAddress());
    if (s.adminHttpAddress() != null) out.put("--admin-http-address", s.adminHttpAddress());
    return out;
  }

  /**
   * Binds every fixed-port listener at once and lets go again; returns why the first one cannot be
   * bound (busy, the same port twice, a host that is not this machine's), or null when all can. The
   * node binds them a moment later, so another process could still take one in between: that rare
   * case ends with the listener's own error.
   */
  static String firstProblem(NodeSettings s) {
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (Map.Entry<String, HostPort> e : of(s).entrySet()) {
        HostPort a = e.getValue();
        if (a.port() == 0) continue;
        ServerSocket socket = new ServerSocket();
        held.add(socket);
        socket.setReuseAddress(true);   // as the listeners do: a port in TIME_WAIT is free
        try {
          socket.bind(new InetSocketAddress(a.host(), a.port()));
        } catch (BindException busy) {
          String why = String.valueOf(busy.getMessage());
          if (why.contains("in use")) {
            return e.getKey() + " " + a + ": the port is already in use (another jnsq node or nsqd running?"
                + " give " + e.getKey() + " another port)";
          }
          return e.getKey() + " " + a + ": cannot listen there (" + why + "; is " + a.host() + " an address of this machine?)";
        } catch (IOException | IllegalArgumentException | SecurityException other) {
          return e.getKey() + " " + a + ": cannot listen there (" + other.getMessage() + ")";
        }
      }
      return null;
    } catch (IOException e) {
      return "cannot check the listen addresses: " + e.getMessage();
    } finally {
      for (ServerSocket socket : held) {
        try {
          socket.close();
        } catch (IOException ignored) {
          // only probed
        }
      }
    }
  }
}
