package io.jnsq.apps;

import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import io.jnsq.client.Message;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** NSQ's {@code nsq_to_http}: sends each message of a channel to an HTTP endpoint (GET or POST). */
@Command(name = "nsq_to_http", sortOptions = false,
    description = "Consumes -topic/-channel and makes one HTTP request (-get or -post) per message (to every address with -mode multicast); FIN on a 2xx answer, REQ otherwise.")
public final class NsqToHttp implements Callable<Integer> {
  static final String NAME = "nsq_to_http";
  static final String DEFAULT_CONTENT_TYPE = "application/octet-stream";
  static final String MULTICAST = "multicast";

  @Option(names = {"-topic", "--topic"}, paramLabel = "<topic>", description = "nsq topic")
  String topic = "";
  @Option(names = {"-channel", "--channel"}, paramLabel = "<channel>", description = "nsq channel (default: nsq_to_http)")
  String channel = "nsq_to_http";
  @Option(names = {"-max-in-flight", "--max-in-flight"}, paramLabel = "<n>", description = "max number of messages to allow in flight (default: 200)")
  int maxInFlight = 200;
  @Option(names = {"-get", "--get"}, paramLabel = "<url>", description = "HTTP address to make a GET request to. '%%s' will be printf replaced with data (may be given multiple times)")
  List<String> getAddrs = new ArrayList<>();
  @Option(names = {"-post", "--post"}, paramLabel = "<url>", description = "HTTP address to make a POST request to.  data will be in the body (may be given multiple times)")
  List<String> postAddrs = new ArrayList<>();
  @Option(names = {"-content-type", "--content-type"}, paramLabel = "<type>", description = "the Content-Type used for POST requests (default: application/octet-stream)")
  String contentType = DEFAULT_CONTENT_TYPE;
  @Option(names = {"-header", "--header"}, paramLabel = "<Key: Value>", description = "Custom header for HTTP requests (may be given multiple times)")
  List<String> headers = new ArrayList<>();
  @Option(names = {"-mode", "--mode"}, paramLabel = "<mode>", description = "the upstream request mode options: round-robin, hostpool (default), epsilon-greedy; multicast (deprecated, as in NSQ) sends each message to every address")
  String mode = "hostpool";
  @Option(names = {"-n", "--n"}, paramLabel = "<n>", description = "number of concurrent publishers (default: 100)")
  int publishers = 100;
  @Option(names = {"-sample", "--sample"}, paramLabel = "<fraction>", description = "%% of messages to publish (float b/w 0 -> 1) (default: 1)")
  double sample = 1.0;
  @Option(names = {"-status-every", "--status-every"}, paramLabel = "<n>", description = "the # of requests between logging status (per handler), 0 disables (default: 250)")
  int statusEvery = 250;
  @Option(names = {"-http-client-connect-timeout", "--http-client-connect-timeout"}, paramLabel = "<duration>", description = "timeout for HTTP connect (default: 2s)")
  String connectTimeoutFlag = "2s";
  @Option(names = {"-http-client-request-timeout", "--http-client-request-timeout"}, paramLabel = "<duration>", description = "timeout for HTTP request (default: 20s)")
  String requestTimeoutFlag = "20s";
  @Mixin ConsumerFlags flags = new ConsumerFlags();
  @Option(names = {"-version", "--version"}, description = "print version string")
  boolean version;
  @Option(names = {"-h", "-help", "--help"}, usageHelp = true, description = "show this help")
  boolean help;

  PrintStream out = System.out;
  PrintStream err = System.err;
  private final CountDownLatch terminate = new CountDownLatch(1);
  private HttpClient http;
  private Duration requestTimeout;
  private HostPool pool;
  private boolean post;
  private boolean multicast;
  private List<String> addresses;
  private final Map<String, String> headerValues = new HashMap<>();
  private final Map<String, TimerMetrics> perAddress = new HashMap<>();
  private TimerMetrics aggregate;

  @Override public Integer call() throws Exception {
    if (version) {
      out.println(NAME + " v" + Apps.version());
      return 0;
    }
    ClientConfig cfg;
    Consumer consumer;
    try {
      if (topic.isEmpty() || channel.isEmpty()) throw new Apps.Usage("--topic and --channel are required");
      if (!contentType.equals(DEFAULT_CONTENT_TYPE)) {
        if (postAddrs.isEmpty()) throw new Apps.Usage("--content-type only used with --post");
        if (contentType.isEmpty()) throw new Apps.Usage("--content-type requires a value when used");
      }
      flags.check();
      if (getAddrs.isEmpty() && postAddrs.isEmpty()) throw new Apps.Usage("--get or --post required");
      if (!getAddrs.isEmpty() && !postAddrs.isEmpty()) throw new Apps.Usage("use --get or --post not both");
      for (String g : getAddrs) {
        if (g.split("%s", -1).length != 2) throw new Apps.Usage("invalid GET address - must be a printf string");
      }
      multicast = mode.equals(MULTICAST);
      if (!multicast && !HostPool.validMode(mode)) {
        throw new Apps.Usage("invalid --mode " + mode + " (multicast, round-robin, hostpool, epsilon-greedy)");
      }
      if (sample > 1.0 || sample < 0.0) throw new Apps.Usage("ERROR: --sample must be between 0.0 and 1.0");
      if (publishers < 1) throw new Apps.Usage("-n must be at least 1");
      for (String h : headers) {
        int colon = h.indexOf(':');
        if (colon <= 0) throw new Apps.Usage("invalid --header value " + h + " (want Key: Value)");
        headerValues.put(h.substring(0, colon).trim(), h.substring(colon + 1).trim());
      }
      Duration connectTimeout = ClientConfig.parseDuration(connectTimeoutFlag);
      requestTimeout = ClientConfig.parseDuration(requestTimeoutFlag);
      post = !postAddrs.isEmpty();
      addresses = List.copyOf(post ? postAddrs : getAddrs);
      pool = new HostPool(addresses, multicast ? "round-robin" : mode);
      for (String a : addresses) {
        perAddress.put(a, new TimerMetrics(addresses.size() == 1 ? 0 : statusEvery, "[" + a + "]:", NAME, err));
      }
      aggregate = new TimerMetrics(statusEvery, "[aggregate]:", NAME, err);
      http = HttpClient.newBuilder().connectTimeout(connectTimeout).build();
      if (multicast) {
        Apps.log(err, NAME, "WARNING: multicast mode is deprecated in favor of using separate nsq_to_http on different channels"
            + " (and will be dropped in a future release)");
      }
      cfg = Apps.config(NAME, flags.consumerOpts).maxInFlight(maxInFlight).concurrency(publishers);
      consumer = new Consumer(topic, channel, cfg, this::handle);
    } catch (IllegalArgumentException e) {
      Apps.log(err, NAME, "FATAL: " + e.getMessage());
      return 1;
    }
    return Apps.consumeUntilTerminated(NAME, err, consumer, flags, terminate, () -> { });
  }
  /** What SIGINT/SIGTERM do: stop consuming once the requests under way are answered. */
  void terminate() { terminate.countDown(); }



  private void handle(Message m) throws Exception {
    if (sample < 1.0 && ThreadLocalRandom.current().nextDouble() > sample) return;   // sampled out: FIN
    long start = System.nanoTime();
    if (multicast) {
      // every address in flag order; the first failure REQs the message, so the ones before it get it again
      for (String addr : addresses) {
        long st = System.nanoTime();
        send(addr, m.body());
        perAddress.get(addr).status(st);
      }
      aggregate.status(start);
      return;
    }
    int i = pool.pick();
    String addr = pool.host(i);
    try {
      send(addr, m.body());
      pool.mark(i, true);
    } catch (Exception e) {
      pool.mark(i, false);
      throw e;
    }
    perAddress.get(addr).status(start);
    aggregate.status(start);
  }

  private void send(String addr, byte[] body) throws IOException, InterruptedException {
    HttpRequest.Builder b;
    if (post) {
      b = HttpRequest.newBuilder(URI.create(addr)).POST(HttpRequest.BodyPublishers.ofByteArray(body)).header("Content-Type", contentType);
    } else {
      String q = URLEncoder.encode(new String(body, StandardCharsets.UTF_8), StandardCharsets.UTF_8);
      b = HttpRequest.newBuilder(URI.create(addr.replace("%s", q))).GET();
    }
    b.timeout(requestTimeout).header("User-Agent", NAME + " v" + Apps.version());
    headerValues.forEach(b::header);
    HttpResponse<Void> r = http.send(b.build(), HttpResponse.BodyHandlers.discarding());
    if (r.statusCode() < 200 || r.statusCode() >= 300) throw new IOException("got status code " + r.statusCode());
  }
}
