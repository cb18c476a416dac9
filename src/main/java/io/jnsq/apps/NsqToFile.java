package io.jnsq.apps;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jnsq.client.ClientConfig;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** NSQ's {@code nsq_to_file}: writes the messages of topics to (rotated, optionally gzipped) files. */
@Command(name = "nsq_to_file", sortOptions = false,
    description = "Consumes topics and writes each message to a file per topic, FINing only what is written and synced.")
public final class NsqToFile implements Callable<Integer> {
  static final String NAME = "nsq_to_file";
  private static final ObjectMapper JSON = new ObjectMapper();

  @Option(names = {"-topic", "--topic"}, paramLabel = "<topic>", description = "nsq topic (may be given multiple times)")
  List<String> topics = new ArrayList<>();
  @Option(names = {"-topic-pattern", "--topic-pattern"}, paramLabel = "<regex>", description = "only log topics matching the following pattern")
  String topicPattern = "";
  @Option(names = {"-topic-refresh", "--topic-refresh"}, paramLabel = "<duration>", description = "how frequently the topic list should be refreshed (default: 1m0s)")
  String topicRefreshFlag = "1m";
  @Option(names = {"-channel", "--channel"}, paramLabel = "<channel>", description = "nsq channel (default: nsq_to_file)")
  String channel = "nsq_to_file";
  @Option(names = {"-max-in-flight", "--max-in-flight"}, paramLabel = "<n>", description = "max number of messages to allow in flight (default: 200)")
  int maxInFlight = 200;
  @Option(names = {"-output-dir", "--output-dir"}, paramLabel = "<dir>", description = "directory to write output files to (default: /tmp)")
  String outputDir = "/tmp";
  @Option(names = {"-work-dir", "--work-dir"}, paramLabel = "<dir>", description = "directory for in-progress files before moving to output-dir (default: the output dir)")
  String workDir = "";
  @Option(names = {"-datetime-format", "--datetime-format"}, paramLabel = "<fmt>", description = "strftime compatible format for <DATETIME> in filename format (default: %%Y-%%m-%%d_%%H)")
  String datetimeFormat = "%Y-%m-%d_%H";
  @Option(names = {"-filename-format", "--filename-format"}, paramLabel = "<fmt>", description = "output filename format (<TOPIC>, <HOST>, <PID>, <DATETIME>, <REV> are replaced. <REV> is increased when file already exists) (default: <TOPIC>.<HOST><REV>.<DATETIME>.log)")
  String filenameFormatFlag = "<TOPIC>.<HOST><REV>.<DATETIME>.log";
  @Option(names = {"-host-identifier", "--host-identifier"}, paramLabel = "<id>", description = "value to output in log filename in place of hostname. <SHORT_HOST> and <HOSTNAME> are valid replacement tokens")
  String hostIdentifier = "";
  @Option(names = {"-gzip", "--gzip"}, arity = "0..1", fallbackValue = "true", description = "gzip output files.")
  boolean gzip;
  @Option(names = {"-gzip-level", "--gzip-level"}, paramLabel = "<n>", description = "gzip compression level (1-9, 1=BestSpeed, 9=BestCompression) (default: 6)")
  int gzipLevel = 6;
  @Option(names = {"-rotate-size", "--rotate-size"}, paramLabel = "<bytes>", description = "rotate the file when it grows bigger than `rotate-size` bytes (default: 0, off)")
  long rotateSize;
  @Option(names = {"-rotate-interval", "--rotate-interval"}, paramLabel = "<duration>", description = "rotate the file every duration (default: 0s, off)")
  String rotateIntervalFlag = "0s";
  @Option(names = {"-skip-empty-files", "--skip-empty-files"}, arity = "0..1", fallbackValue = "true", description = "skip writing empty files")
  boolean skipEmptyFiles;
  @Option(names = {"-sync-interval", "--sync-interval"}, paramLabel = "<duration>", description = "sync file to disk every duration (default: 30s)")
  String syncIntervalFlag = "30s";
  @Option(names = {"-http-client-connect-timeout", "--http-client-connect-timeout"}, paramLabel = "<duration>", description = "timeout for HTTP connect (default: 2s)")
  String httpConnectTimeoutFlag = "2s";
  @Option(names = {"-http-client-request-timeout", "--http-client-request-timeout"}, paramLabel = "<duration>", description = "timeout for HTTP request (default: 5s)")
  String httpRequestTimeoutFlag = "5s";
  @Mixin ConsumerFlags flags = new ConsumerFlags();
  @Option(names = {"-version", "--version"}, description = "print version string")
  boolean version;
  @Option(names = {"-h", "-help", "--help"}, usageHelp = true, description = "show this help")
  boolean help;

  PrintStream out = System.out;
  PrintStream err = System.err;
  Duration syncInterval;
  Duration rotateInterval;
  private final Map<String, FileLogger> loggers = new java.util.concurrent.ConcurrentHashMap<>();   // SIGHUP reads it too
  private final List<Thread> routers = new ArrayList<>();
  private final CountDownLatch terminate = new CountDownLatch(1);

  Path outputDirPath() { return Path.of(outputDir); }

  Path workDirPath() { return Path.of(workDir.isEmpty() ? outputDir : workDir); }

  @Override public Integer call() throws Exception {
    if (version) {
      out.println(NAME + " v" + Apps.version());
      return 0;
    }
    ClientConfig cfg;
    Duration refresh;
    Duration requestTimeout;
    Pattern pattern;
    try {
      if (channel.isEmpty()) throw new Apps.Usage("--channel is required");
      flags.check();
      if (gzipLevel < 1 || gzipLevel > 9) throw new Apps.Usage("invalid --gzip-level value (" + gzipLevel + "), should be 1-9");
      if (maxInFlight < 1) throw new Apps.Usage("--max-in-flight must be at least 1");
      syncInterval = duration("sync-interval", syncIntervalFlag);
      if (syncInterval.isZero()) throw new Apps.Usage("--sync-interval must be positive");
      rotateInterval = duration("rotate-interval", rotateIntervalFlag);
      refresh = duration("topic-refresh", topicRefreshFlag);
      duration("http-client-connect-timeout", httpConnectTimeoutFlag);
      requestTimeout = duration("http-client-request-timeout", httpRequestTimeoutFlag);
      pattern = topicPattern.isEmpty() ? null : Pattern.compile(topicPattern);
      if (topics.isEmpty() && flags.lookupdHttpAddresses.isEmpty()) {
        throw new Apps.Usage("use --topic to list at least one topic to subscribe to or specify at least one "
            + "--lookupd-http-address to subscribe to all its topics");
      }
      filenameFormat("x");   // checks <REV>
      cfg = Apps.config(NAME, flags.consumerOpts).maxInFlight(maxInFlight);
    } catch (PatternSyntaxException e) {
      return fatal("invalid --topic-pattern: " + e.getMessage());
    } catch (IllegalArgumentException e) {
      return fatal(e.getMessage());
    }
    boolean fromLookupd = topics.isEmpty();
    CountDownLatch finished = new CountDownLatch(1);
    Object hook = Apps.onTerminate(this::terminate, finished);
    Object hup = Apps.onSignal("HUP", this::hup);
    try {
      Set<String> initial = fromLookupd ? lookupdTopics(requestTimeout) : new LinkedHashSet<>(topics);
      for (String t : initial) {
        if (pattern == null || pattern.matcher(t).find()) startLogger(t, cfg);
      }
      long nextRefresh = System.nanoTime() + refresh.toNanos();
      while (!terminate.await(1, TimeUnit.SECONDS)) {
        if (loggers.values().stream().anyMatch(FileLogger::failed)) break;
        if (!fromLookupd || System.nanoTime() < nextRefresh) continue;
        nextRefresh = System.nanoTime() + refresh.toNanos();
        try {
          for (String t : lookupdTopics(requestTimeout)) {
            if (!loggers.containsKey(t) && (pattern == null || pattern.matcher(t).find())) startLogger(t, cfg);
          }
        } catch (IOException e) {
          Apps.log(err, NAME, "ERROR: could not retrieve topic list: " + e.getMessage());
        }
      }
      stopAll();
      return loggers.values().stream().anyMatch(FileLogger::failed) ? 1 : 0;
    } catch (IOException | RuntimeException e) {
      return fatal(e.getMessage());
    } finally {
      stopAll();
      finished.countDown();
      Apps.removeHook(hook);
      Apps.removeHook(hup);
    }
  }

  private void stopAll() throws InterruptedException {
    for (FileLogger l : loggers.values()) l.stop();
    for (Thread r : routers) r.join(TimeUnit.SECONDS.toMillis(35));
  }

  /** What SIGHUP does: every topic syncs and closes its current file, as nsq_to_file does before log rotation tools run. */
  void hup() {
    for (FileLogger l : loggers.values()) l.hup();
  }

  /** What SIGINT/SIGTERM do: every topic stops consuming, syncs, FINs and closes its file. */
  void terminate() {
    terminate.countDown();
  }

  private void startLogger(String topic, ClientConfig cfg) throws IOException {
    FileLogger logger = new FileLogger(this, topic, filenameFormat(topic), cfg, err);
    loggers.put(topic, logger);
    Thread router = new Thread(logger, "nsq_to_file-" + topic);
    routers.add(router);
    router.start();
    flags.connect(logger.consumer());
  }

  /** The -filename-format with everything but <DATETIME> and <REV> filled in, as nsq_to_file computes it. */
  String filenameFormat(String topic) {
    String hostname = hostname();
    String shortHost = hostname.split("\\.")[0];
    String identifier = hostIdentifier.isEmpty() ? shortHost
        : hostIdentifier.replace("<SHORT_HOST>", shortHost).replace("<HOSTNAME>", hostname);
    String f = filenameFormatFlag;
    if (gzip || rotateSize > 0 || !rotateInterval.isZero() || !workDirPath().equals(outputDirPath())) {
      if (!f.contains("<REV>")) throw new Apps.Usage("missing <REV> in --filename-format when gzip, rotation, or work dir enabled");
    } else {
      f = f.replace("<REV>", "");
    }
    f = f.replace("<TOPIC>", topic).replace("<HOST>", identifier).replace("<PID>", Long.toString(ProcessHandle.current().pid()));
    if (gzip && !f.endsWith(".gz")) f += ".gz";
    return f;
  }

  private Set<String> lookupdTopics(Duration requestTimeout) throws IOException {
    Set<String> all = new LinkedHashSet<>();
    HttpClient http = HttpClient.newBuilder().connectTimeout(duration("http-client-connect-timeout", httpConnectTimeoutFlag)).build();
    IOException last = null;
    int answered = 0;
    for (String a : flags.lookupdHttpAddresses) {
      String base = a.startsWith("http://") || a.startsWith("https://") ? a : "http://" + a;
      try {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/topics")).timeout(requestTimeout).build(),
            HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != 200) throw new IOException(base + "/topics answered " + r.statusCode());
        JsonNode body = JSON.readTree(r.body());
        JsonNode list = body.has("topics") ? body.get("topics") : body.path("data").path("topics");
        for (JsonNode t : list) all.add(t.asText());
        answered++;
      } catch (IOException e) {
        last = e;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted");
      }
    }
    if (answered == 0 && last != null) throw last;
    return all;
  }

  private static Duration duration(String flag, String v) {
    try {
      return io.jnsq.client.ClientConfig.parseDuration(v);
    } catch (IllegalArgumentException e) {
      throw new Apps.Usage("invalid value \"" + v + "\" for flag -" + flag + ": parse error");
    }
  }

  private static String hostname() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "localhost";
    }
  }

  private int fatal(String message) {
    Apps.log(err, NAME, "FATAL: " + message);
    return 1;
  }
}
