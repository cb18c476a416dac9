package io.jnsq.apps;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.jnsq.app.Node;
import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import io.jnsq.client.Message;
import io.jnsq.client.Producer;
import io.jnsq.tcp.TestNodes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** nsq_to_nsq between two nodes in the test, with the JSON filter and whitelist. */
class NsqToNsqTest {

  @Test
  void copiesFilteredMessagesToTheOtherNode() throws Exception {
    Node source = TestNodes.start(new HashMap<>());
    Node dest = TestNodes.start(new HashMap<>());
    String src = "127.0.0.1:" + source.tcpAddress().getPort();
    String dst = "127.0.0.1:" + dest.tcpAddress().getPort();
    BlockingQueue<Message> got = new LinkedBlockingQueue<>();
    Consumer reader = new Consumer("copied", "ch", new ClientConfig().maxInFlight(100), got::add);
    try {
      try (Producer p = new Producer(src)) {
        for (int i = 0; i < 100; i++) {
          p.publish("orig", "{\"kind\":\"" + (i % 2 == 0 ? "keep" : "drop") + "\",\"n\":" + i
              + ",\"secret\":\"x\",\"nested\":{\"a\":1,\"b\":2}}");
        }
        p.publish("orig", "not json").get(10, TimeUnit.SECONDS);
      }
      NsqToNsq app = new NsqToNsq();
      AppTestSupport.Run run = new AppTestSupport.Run();
      app.err = run.err;
      AppTestSupport.start(app, run, "-topic", "orig", "-nsqd-tcp-address", src, "-destination-topic", "copied",
          "-destination-nsqd-tcp-address", dst, "-require-json-field", "kind", "-require-json-value", "keep",
          "-whitelist-json-field", "n", "--whitelist-json-field", "nested.a", "-status-every", "25");
      reader.connectToNsqd(dst);
      List<String> bodies = new ArrayList<>();
      for (int i = 0; i < 50; i++) {
        Message m = got.poll(20, TimeUnit.SECONDS);
        if (m == null) throw new AssertionError("only " + bodies.size() + " copied: " + run.err());
        bodies.add(m.bodyAsString());
      }
      app.terminate();
      assertEquals(0, run.exit.get(30, TimeUnit.SECONDS), run.err());
      assertEquals(50, new HashSet<>(bodies).size());
      assertTrue(bodies.contains("{\"n\":0,\"nested\":{\"a\":1}}") && bodies.contains("{\"n\":98,\"nested\":{\"a\":1}}"), bodies.get(0));
      assertTrue(bodies.stream().noneMatch(b -> b.contains("secret") || b.contains("\"n\":1,")));
      assertTrue(run.err().contains("finished 25 - 99th: "), run.err());
      assertTrue(run.err().contains("Unable to decode json: not json"), run.err());
      assertEquals(null, got.poll(200, TimeUnit.MILLISECONDS), "nothing else was copied");
    } finally {
      reader.stop();
      source.stop().toCompletableFuture().join();
      dest.stop().toCompletableFuture().join();
    }
  }

  @Test
  void refusesAValueWithoutItsField() {
    NsqToNsq app = new NsqToNsq();
    AppTestSupport.Run run = new AppTestSupport.Run();
    app.err = run.err;
    AppTestSupport.run(app, run, "-topic", "t", "-nsqd-tcp-address", "127.0.0.1:4150", "-destination-nsqd-tcp-address",
        "127.0.0.1:4150", "-require-json-value", "x");
    assertEquals(1, run.exit.join());
    assertTrue(run.err().contains("--require-json-value requires --require-json-field"), run.err());
  }
}
