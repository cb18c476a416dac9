package io.jnsq.tcp;

import io.jnsq.app.Node;
import java.util.HashMap;
import java.util.Map;

/** Starts in-process nodes on free loopback ports for tests. */
public final class TestNodes {
  private TestNodes() {}

  /** A node on 127.0.0.1 with free ports; {@code settings} are extra {@code jnsq.*} keys without the prefix. */
  public static Node start(Map<String, Object> settings) {
    Map<String, Object> all = new HashMap<>();
    all.put("jnsq.tcp-address", "127.0.0.1:0");
    all.put("jnsq.http-address", "127.0.0.1:0");
    all.put("jnsq.node-id", 7);
    all.put("pekko.loglevel", "WARNING");
    all.put("jnsq.data-path", io.jnsq.storage.TestStores.freshDataPath());
    all.put("jnsq.lookup-http-address", "127.0.0.1:0");
    all.put("jnsq.admin-http-address", "127.0.0.1:0");
    all.put("jnsq.lookup-tcp-address", "127.0.0.1:0");
    all.put("jnsq.https-address", "127.0.0.1:0");
    settings.forEach((k, v) -> all.put("jnsq." + k, v));
    return Node.start(Node.loadConfig(null, all)).toCompletableFuture().join();
  }
}
