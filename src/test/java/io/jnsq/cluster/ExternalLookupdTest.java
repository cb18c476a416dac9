package io.jnsq.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.jnsq.app.Node;
import io.jnsq.storage.TestStores;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * --lookupd-tcp-address: a node registers with an nsqlookupd over TCP as nsqd does. The nsqlookupd here is
 * another, separate jnsq node's lookup TCP port (it speaks nsqlookupd's protocol V1).
 */
class ExternalLookupdTest {

  @Test
  void aNodeRegistersItsTopicsAndChannelsWithAnExternalLookupdAndFollowsChanges() throws Exception {
    Node lookupd = ClusterLookupTest.start(List.of());
    Map<String, Object> cfg = new HashMap<>(Map.of("jnsq.tcp-address", "127.0.0.1:0", "jnsq.http-address", "127.0.0.1:0",
        "jnsq.lookup-http-address", "", "jnsq.lookup-tcp-address", "", "jnsq.admin-http-address", "", "jnsq.broadcast-address", "127.0.0.1",
        "jnsq.data-path", TestStores.freshDataPath(), "pekko.loglevel", "WARNING",
        "jnsq.lookupd-tcp-address", List.of("127.0.0.1:" + lookupd.lookupTcpAddress().getPort())));
    Node nsqd = Node.start(Node.loadConfig(null, cfg)).toCompletableFuture().join();
    try {
      var l = lookupd.lookupHttpAddress();
      ClusterLookupTest.post(nsqd.httpAddress(), "/topic/create?topic=ext_topic");
      ClusterLookupTest.post(nsqd.httpAddress(), "/channel/create?topic=ext_topic&channel=one");
      ClusterLookupTest.post(nsqd.httpAddress(), "/channel/create?topic=ext_topic&channel=two");
      ClusterLookupTest.await(l, "/lookup?topic=ext_topic",
          r -> ClusterLookupTest.hasProducer(r, nsqd) && r.body().contains("\"channels\":[\"one\",\"two\"]"));
      ClusterLookupTest.post(nsqd.httpAddress(), "/channel/delete?topic=ext_topic&channel=one");
      ClusterLookupTest.await(l, "/channels?topic=ext_topic", r -> r.body().equals("{\"channels\":[\"two\"]}"));
      ClusterLookupTest.post(nsqd.httpAddress(), "/topic/delete?topic=ext_topic");
      ClusterLookupTest.await(l, "/lookup?topic=ext_topic", r -> r.statusCode() == 404);

      // Runtime change, as nsqd: PUT /config/nsqlookupd_tcp_addresses with [] drops the registration.
      ClusterLookupTest.post(nsqd.httpAddress(), "/topic/create?topic=ext_again");
      ClusterLookupTest.await(l, "/lookup?topic=ext_again", r -> ClusterLookupTest.hasProducer(r, nsqd));
      HttpResponse<String> put = ClusterLookupTest.HTTP.send(HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + nsqd.httpAddress().getPort() + "/config/nsqlookupd_tcp_addresses"))
          .PUT(HttpRequest.BodyPublishers.ofString("[]")).build(), HttpResponse.BodyHandlers.ofString());
      assertEquals(200, put.statusCode());
      ClusterLookupTest.await(l, "/lookup?topic=ext_again", r -> r.statusCode() == 404);
    } finally {
      nsqd.stop().toCompletableFuture().join();
      lookupd.stop().toCompletableFuture().join();
    }
  }
}
