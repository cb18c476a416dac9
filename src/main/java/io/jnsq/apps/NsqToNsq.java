package io.jnsq.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import io.jnsq.client.Message;
import io.jnsq.client.Producer;
import java.io.IOException;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** NSQ's {@code nsq_to_nsq}: republishes a channel's messages to a topic on other nsqds, optionally filtered. */
@Command(name = "nsq_to_nsq", sortOptions = false,
    description = "Consumes -topic/-channel and publishes each message to -destination-topic on a -destination-nsqd-tcp-address; FIN once it is accepted there.")
public final class NsqToNsq implements Callable<Integer> {
  static final String NAME = "nsq_to_nsq";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = {"-topic", "--topic"}, paramLabel = "<topic>", description = "nsq topic")
  String topic = "";
  @Option(names = {"-channel", "--channel"}, paramLabel = "<channel>", description = "nsq channel (default: nsq_to_nsq)")
  String channel = "nsq_to_nsq";
  @Option(names = {"-destination-topic", "--destination-topic"}, paramLabel = "<topic>", description = "use this destination topic for all consumed topics (default is consumed topic name)")
  String destinationTopic = "";
  @Option(names = {"-destination-nsqd-tcp-address", "--destination-nsqd-tcp-address"}, paramLabel = "<addr>", description = "destination nsqd TCP address (may be given multiple times)")
  List<String> destinations = new ArrayList<>();
  @Option(names = {"-max-in-flight", "--max-in-flight"}, paramLabel = "<n>", description = "max number of messages to allow in flight (default: 200)")
  int maxInFlight = 200;
  @Option(names = {"-mode", "--mode"}, paramLabel = "<mode>", description = "the upstream request mode options: round-robin, hostpool (default), epsilon-greedy")
  String mode = "hostpool";
  @Option(names = {"-status-every", "--status-every"}, paramLabel = "<n>", description = "the # of requests between logging status (per destination), 0 disables (default: 250)")
  int statusEvery = 250;
  @Option(names = {"-require-json-field", "--require-json-field"}, paramLabel = "<field>", description = "for JSON messages: only pass messages that contain this field")
  String requireJsonField = "";
  @Option(names = {"-require-json-value", "--require-json-value"}, paramLabel = "<value>", description = "for JSON messages: only pass messages in which the required field has this value")
  String requireJsonValue = "";
  @Option(names = {"-whitelist-json-field", "--whitelist-json-field"}, paramLabel = "<field>", description = "for JSON messages: pass this field (may be given multiple times)")
  List<String> whitelistJsonFields = new ArrayList<>();
  @Option(names = {"-producer-opt", "--producer-opt"}, paramLabel = "<name,value>", description = "option to passthrough to the producers (may be given multiple times), go-nsq's names")
  List<String> producerOpts = new ArrayList<>();
  @Mixin ConsumerFlags flags = new ConsumerFlags();
  @Option(names = {"-version", "--version"}, description = "print version string")
  boolean version;
  @Option(names = {"-h", "-help", "--help"}, usageHelp = true, description = "show this help")
  boolean help;

  PrintStream out = System.out;
  PrintStream err = System.err;
  private final CountDownLatch terminate = new CountDownLatch(1);
  private final List<Producer> producers = new ArrayList<>();
  private final Map<String, TimerMetrics> perAddress = new HashMap<>();
  private HostPool pool;

  @Override public Integer call() throws Exception {
    if (version) {
      out.println(NAME + " v" + Apps.version());
      return 0;
    }
    Consumer consumer;
    try {
      if (topic.isEmpty() || channel.isEmpty()) throw new Apps.Usage("--topic and --channel are required");
      if (destinationTopic.isEmpty()) destinationTopic = topic;
      flags.check();
      if (destinations.isEmpty()) throw new Apps.Usage("--destination-nsqd-tcp-address required");
      if (!HostPool.validMode(mode)) throw new Apps.Usage("invalid --mode " + mode + " (round-robin, hostpool, epsilon-greedy)");
      if (!requireJsonValue.isEmpty() && requireJsonField.isEmpty()) throw new Apps.Usage("--require-json-value requires --require-json-field");
      ClientConfig pcfg = Apps.config(NAME, producerOpts);
      for (String d : destinations) {
        producers.add(new Producer(List.of(d), pcfg));
        perAddress.put(d, new TimerMetrics(statusEvery, "[" + d + "]:", NAME, err));
      }
      pool = new HostPool(destinations, mode);
      ClientConfig ccfg = Apps.config(NAME, flags.consumerOpts).maxInFlight(maxInFlight);
      consumer = new Consumer(topic, channel, ccfg, this::handle);
    } catch (IllegalArgumentException e) {
      producers.forEach(Producer::close);
      Apps.log(err, NAME, "FATAL: " + e.getMessage());
      return 1;
    }
    // The consumer's stop waits until every message in flight was published (FIN) or given back (REQ).
    return Apps.consumeUntilTerminated(NAME, err, consumer, flags, terminate, () -> producers.forEach(Producer::close));
  }
  /** What SIGINT/SIGTERM do: stop consuming once every message in flight is published or requeued. */
  void terminate() { terminate.countDown(); }



  private void handle(Message m) {
    byte[] body = m.body();
    if (!requireJsonField.isEmpty() || !whitelistJsonFields.isEmpty()) {
      body = filter(m);
      if (body == null) return;   // filtered out: FIN, as nsq_to_nsq does
    }
    m.disableAutoResponse();
    long start = System.nanoTime();
    int i = pool.pick();
    String addr = pool.host(i);
    producers.get(i).publish(destinationTopic, body).whenComplete((ok, e) -> {
      pool.mark(i, e == null);
      if (e == null) {
        perAddress.get(addr).status(start);
        m.finish();
      } else {
        Apps.log(err, NAME, "ERROR: publishing to " + addr + ": " + (e.getCause() != null ? e.getCause().getMessage() : e.getMessage()));
        m.requeue(null);
      }
    });
  }

  /** The body to publish, or null to drop the message. */
  private byte[] filter(Message m) {
    JsonNode doc;
    try {
      doc = JSON.readTree(m.body());
    } catch (IOException e) {
      Apps.log(err, NAME, "ERROR: Unable to decode json: " + new String(m.body(), java.nio.charset.StandardCharsets.UTF_8));
      return null;
    }
    if (doc == null || !doc.isObject()) return null;
    if (!requireJsonField.isEmpty()) {
      JsonNode v = at(doc, requireJsonField);
      if (v == null) return null;
      if (!requireJsonValue.isEmpty() && !(v.isValueNode() ? v.asText() : v.toString()).equals(requireJsonValue)) return null;
    }
    if (whitelistJsonFields.isEmpty()) return m.body();
    ObjectNode kept = JSON.createObjectNode();
    for (String field : whitelistJsonFields) {
      JsonNode v = at(doc, field);
      if (v == null) continue;
      String[] path = field.split("\\.");
      ObjectNode at = kept;
      for (int k = 0; k < path.length - 1; k++) {
        at = at.get(path[k]) instanceof ObjectNode o ? o : at.putObject(path[k]);
      }
      at.set(path[path.length - 1], v);
    }
    try {
      return JSON.writeValueAsBytes(kept);
    } catch (IOException e) {
      return null;
    }
  }

  /** The value at a dotted path ({@code a.b.c}), or null. */
  private static JsonNode at(JsonNode doc, String dotted) {
    JsonNode at = doc;
    for (String p : dotted.split("\\.")) {
      if (at == null || !at.isObject()) return null;
      at = at.get(p);
    }
    return at;
  }
}
