package io.jnsq.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sproutsocial.nsq.Client;
import com.sproutsocial.nsq.DirectSubscriber;
import com.sproutsocial.nsq.MessageHandler;
import com.sproutsocial.nsq.Publisher;
import com.sproutsocial.nsq.Subscriber;
import io.jnsq.app.Node;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A second unmodified third-party client, the Java library nsq-j 1.2, publishing and consuming through a node. */
class NsqjEndToEndTest {
  private static Node node;
  private static String address;

  @BeforeAll
  static void start() {
    node = Node.start(Node.loadConfig(null, Map.of("jnsq.data-path", io.jnsq.storage.TestStores.freshDataPath(), "jnsq.lookup-http-address", "127.0.0.1:0", "jnsq.admin-http-address", "127.0.0.1:0", "jnsq.lookup-tcp-address", "127.0.0.1:0", "jnsq.tcp-address", "127.0.0.1:0", "jnsq.http-address", "127.0.0.1:0",
        "pekko.loglevel", "WARNING"))).toCompletableFuture().join();
    address = "127.0.0.1:" + node.tcpAddress().getPort();
  }

  @AfterAll
  static void stop() {
    Client.getDefaultClient().stop();
    node.stop().toCompletableFuture().join();
  }

  private static byte[] bytes(String s) { return s.getBytes(StandardCharsets.UTF_8); }

  private static void awaitCount(Set<String> seen, int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (seen.size() < count && System.nanoTime() < deadline) Thread.sleep(20);
  }

  @Test
  void publishSinglesBatchesAndDeferredAndConsumeThemAll() throws Exception {
    Set<String> seen = ConcurrentHashMap.newKeySet();
    Subscriber sub = new DirectSubscriber(60, address);
    sub.subscribe("nsqj_all", "ch", (MessageHandler) msg -> {
      seen.add(new String(msg.getData(), StandardCharsets.UTF_8));
      msg.finish();
    });
    Publisher pub = new Publisher(address);
    for (int i = 0; i < 100; i++) pub.publish("nsqj_all", bytes("single-" + i));
    for (int b = 0; b < 10; b++) {
      List<byte[]> batch = new ArrayList<>();
      for (int i = 0; i < 100; i++) batch.add(bytes("batch-" + b + "-" + i));
      pub.publish("nsqj_all", batch);
    }
    pub.publishDeferred("nsqj_all", bytes("deferred"), 300, TimeUnit.MILLISECONDS);
    awaitCount(seen, 1101);
    pub.stop();
    sub.stop();
    assertEquals(1101, seen.size());
    assertTrue(seen.contains("deferred") && seen.contains("batch-9-99") && seen.contains("single-0"));
  }

  @Test
  void aRequeuedMessageComesBackWithAnotherAttempt() throws Exception {
    Map<String, Integer> attempts = new ConcurrentHashMap<>();
    Set<String> done = ConcurrentHashMap.newKeySet();
    Subscriber sub = new DirectSubscriber(60, address);
    sub.subscribe("nsqj_req", "ch", (MessageHandler) msg -> {
      String body = new String(msg.getData(), StandardCharsets.UTF_8);
      attempts.merge(body, msg.getAttempts(), Math::max);
      if (msg.getAttempts() == 1) {
        msg.requeue(0);
      } else {
        msg.finish();
        done.add(body);
      }
    });
    Publisher pub = new Publisher(address);
    pub.publish("nsqj_req", bytes("again"));
    awaitCount(done, 1);
    pub.stop();
    sub.stop();
    assertEquals(Set.of("again"), done);
    assertEquals(2, attempts.get("again"));
  }
}
