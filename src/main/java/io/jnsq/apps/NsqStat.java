package io.jnsq.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** NSQ's {@code nsq_stat}: polls /stats of every nsqd with a topic and prints one channel's totals. */
@Command(name = "nsq_stat", sortOptions = false,
    description = "Polls /stats for all the producers of -topic and prints -channel's aggregate figures every -interval.")
public final class NsqStat implements Callable<Integer> {
  static final String NAME = "nsq_stat";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = {"-topic", "--topic"}, paramLabel = "<topic>", description = "NSQ topic")
  String topic = "";
  @Option(names = {"-channel", "--channel"}, paramLabel = "<channel>", description = "NSQ channel")
  String channel = "";
  @Option(names = {"-interval", "--interval"}, paramLabel = "<duration>", description = "duration of time between polling/printing output (default: 2s)")
  String intervalFlag = "2s";
  @Option(names = {"-count", "--count"}, paramLabel = "<n>", description = "number of reports")
  Integer count;
  @Option(names = {"-nsqd-http-address", "--nsqd-http-address"}, paramLabel = "<addr>", description = "nsqd HTTP address (may be given multiple times)")
  List<String> nsqdHttpAddresses = new ArrayList<>();
  @Option(names = {"-lookupd-http-address", "--lookupd-http-address"}, paramLabel = "<addr>", description = "lookupd HTTP address (may be given multiple times)")
  List<String> lookupdHttpAddresses = new ArrayList<>();
  @Option(names = {"-http-client-connect-timeout", "--http-client-connect-timeout"}, paramLabel = "<duration>", description = "timeout for HTTP connect (default: 2s)")
  String connectTimeoutFlag = "2s";
  @Option(names = {"-http-client-request-timeout", "--http-client-request-timeout"}, paramLabel = "<duration>", description = "timeout for HTTP request (default: 5s)")
  String requestTimeoutFlag = "5s";
  @Option(names = {"-version", "--version"}, description = "print version")
  boolean version;
  @Option(names = {"-h", "-help", "--help"}, usageHelp = true, description = "show this help")
  boolean help;

  PrintStream out = System.out;
  PrintStream err = System.err;
  private final CountDownLatch terminate = new CountDownLatch(1);
  private HttpClient http;
  private Duration requestTimeout;

  /** One channel's figures summed over nodes, as nsqadmin's ChannelStats adds them. */
  record ChannelTotals(long depth, long memoryDepth, long backendDepth, long inFlight, long deferred, long requeued,
                       long timedOut, long messages, long clients) {}

  @Override public Integer call() throws Exception {
    if (version) {
      out.println(NAME + " v" + Apps.version());
      return 0;
    }
    Duration interval;
    try {
      if (topic.isEmpty() || channel.isEmpty()) throw new Apps.Usage("--topic and --channel are required");
      interval = positive("interval", intervalFlag);
      Duration connectTimeout = positive("http-client-connect-timeout", connectTimeoutFlag);
      requestTimeout = positive("http-client-request-timeout", requestTimeoutFlag);
      if (count != null && count <= 0) throw new Apps.Usage("--count should be positive");
      if (nsqdHttpAddresses.isEmpty() && lookupdHttpAddresses.isEmpty()) {
        throw new Apps.Usage("--nsqd-http-address or --lookupd-http-address required");
      }
      if (!nsqdHttpAddresses.isEmpty() && !lookupdHttpAddresses.isEmpty()) {
        throw new Apps.Usage("use --nsqd-http-address or --lookupd-http-address not both");
      }
      for (String a : nsqdHttpAddresses) if (a.startsWith("http")) throw new Apps.Usage("--nsqd-http-address error - address should not contain scheme");
      for (String a : lookupdHttpAddresses) if (a.startsWith("http")) throw new Apps.Usage("--lookupd-http-address error - address should not contain scheme");
      http = HttpClient.newBuilder().connectTimeout(connectTimeout).build();
    } catch (IllegalArgumentException e) {
      return fatal(e.getMessage());
    }
    Object hook = Apps.onTerminate(terminate::countDown, new CountDownLatch(0));
    try {
      ChannelTotals previous = null;
      for (int i = 0; count == null || count >= i; i++) {
        ChannelTotals c;
        try {
          c = totals(producers());
        } catch (IOException e) {
          return fatal(e.getMessage());
        }
        if (i % 25 == 0) {
          out.printf("%s+%s+%s%n", "------rate------", "----------------depth----------------", "--------------metadata---------------");
          out.printf("%7s %7s | %7s %7s %7s %5s %5s | %7s %7s %12s %7s%n",
              "ingress", "egress", "total", "mem", "disk", "inflt", "def", "req", "t-o", "msgs", "clients");
        }
        if (previous != null) {
          double secs = interval.toNanos() / 1e9;
          out.printf("%7d %7d | %7d %7d %7d %5d %5d | %7d %7d %12d %7d%n",
              (long) ((c.messages() - previous.messages()) / secs),
              (long) ((c.messages() - previous.messages() - (c.depth() - previous.depth())) / secs),
              c.depth(), c.memoryDepth(), c.backendDepth(), c.inFlight(), c.deferred(),
              c.requeued(), c.timedOut(), c.messages(), c.clients());
        }
        out.flush();
        previous = c;
        if (count != null && i == count) break;
        if (terminate.await(interval.toMillis(), TimeUnit.MILLISECONDS)) break;
      }
      return 0;
    } finally {
      Apps.removeHook(hook);
    }
  }

  void terminate() { terminate.countDown(); }

  /** HTTP addresses of the nsqds that have the topic. */
  private Set<String> producers() throws IOException {
    Set<String> out = new LinkedHashSet<>();
    if (!lookupdHttpAddresses.isEmpty()) {
      for (String l : lookupdHttpAddresses) {
        JsonNode r = get("http://" + l + "/lookup?topic=" + enc(topic), true);
        if (r == null) continue;
        JsonNode producers = r.has("producers") ? r.get("producers") : r.path("data").path("producers");
        for (JsonNode p : producers) out.add(p.path("broadcast_address").asText() + ":" + p.path("http_port").asInt());
      }
    } else {
      for (String a : nsqdHttpAddresses) {
        JsonNode r = get("http://" + a + "/stats?format=json&topic=" + enc(topic), false);
        for (JsonNode t : r.path("topics")) if (t.path("topic_name").asText().equals(topic)) out.add(a);
      }
    }
    return out;
  }

  private ChannelTotals totals(Set<String> producers) throws IOException {
    long depth = 0, backend = 0, inFlight = 0, deferred = 0, requeued = 0, timedOut = 0, messages = 0, clients = 0;
    boolean found = false;
    for (String p : producers) {
      JsonNode r = get("http://" + p + "/stats?format=json&topic=" + enc(topic) + "&channel=" + enc(channel), false);
      for (JsonNode t : r.path("topics")) {
        if (!t.path("topic_name").asText().equals(topic)) continue;
        for (JsonNode c : t.path("channels")) {
          if (!c.path("channel_name").asText().equals(channel)) continue;
          found = true;
          depth += c.path("depth").asLong();
          backend += c.path("backend_depth").asLong();
          inFlight += c.path("in_flight_count").asLong();
          deferred += c.path("deferred_count").asLong();
          requeued += c.path("requeue_count").asLong();
          timedOut += c.path("timeout_count").asLong();
          messages += c.path("message_count").asLong();
          clients += c.path("clients").isArray() ? c.path("clients").size() : c.path("client_count").asLong();
        }
      }
    }
    if (!found) throw new IOException("ERROR: failed to find channel(" + channel + ") in stats metadata for topic(" + topic + ")");
    return new ChannelTotals(depth, depth - backend, backend, inFlight, deferred, requeued, timedOut, messages, clients);
  }

  private JsonNode get(String url, boolean notFoundIsEmpty) throws IOException {
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).timeout(requestTimeout)
          .header("Accept", "application/vnd.nsq; version=1.0").build(), HttpResponse.BodyHandlers.ofString());
      if (r.statusCode() == 404 && notFoundIsEmpty) return null;
      if (r.statusCode() != 200) throw new IOException("ERROR: " + url + " answered " + r.statusCode() + " " + r.body());
      return JSON.readTree(r.body());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted");
    } catch (IOException e) {
      throw e.getMessage() != null && e.getMessage().startsWith("ERROR") ? e : new IOException("ERROR: " + url + ": " + e);
    }
  }

  private static String enc(String s) { return URLEncoder.encode(s, StandardCharsets.UTF_8); }

  private static Duration positive(String flag, String v) {
    Duration d;
    try {
      d = io.jnsq.client.ClientConfig.parseDuration(v);
    } catch (IllegalArgumentException e) {
      throw new Apps.Usage("invalid value \"" + v + "\" for flag -" + flag + ": parse error");
    }
    if (d.isZero() || d.isNegative()) throw new Apps.Usage("--" + flag + " should be positive");
    return d;
  }

  private int fatal(String message) {
    Apps.log(err, NAME, message.startsWith("ERROR") ? message : "FATAL: " + message);
    return 1;
  }
}
