package io.jnsq.http;

import ch.qos.logback.classic.Level;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import io.jnsq.config.NodeSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiFunction;
import java.util.function.IntSupplier;
import org.apache.pekko.http.javadsl.model.HttpMethods;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.util.ByteString;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /config/<name>} and {@code PUT /config/<name>}: options under nsqd's config-file names,
 * durations in nanoseconds. Only {@code nsqlookupd_tcp_addresses} and {@code log_level} can change at
 * run time, as in nsqd. The two mutable values are atomics because routes run on many threads.
 */
final class RuntimeOptions {
  private static final List<String> LEVELS = List.of("debug", "info", "warn", "error", "fatal");

  private final NodeSettings settings;
  private final IntSupplier httpPort;
  private final AtomicReference<List<String>> lookupdAddresses;
  private final java.util.function.Consumer<List<String>> onLookupdChange;
  private final AtomicInteger logLevel = new AtomicInteger(2);

  RuntimeOptions(NodeSettings settings, IntSupplier httpPort, java.util.function.Consumer<List<String>> onLookupdChange) {
    this.settings = settings;
    this.httpPort = httpPort;
    this.lookupdAddresses = new AtomicReference<>(settings.lookupdTcpAddresses());
    int level = LEVELS.indexOf(settings.logLevel()) + 1;
    this.logLevel.set(level == 0 ? 2 : level);
    this.onLookupdChange = onLookupdChange;
  }

  /** The lookup servers set through {@code PUT /config/nsqlookupd_tcp_addresses}. */
  List<String> lookupdAddresses() { return lookupdAddresses.get(); }

  CompletionStage<HttpResponse> handle(Endpoints.Call c, String name,
      BiFunction<HttpRequest, Long, CompletionStage<ByteString>> readBody) {
    Map<String, JsonNode> values = values();
    if (!values.containsKey(name)) return done(Responses.badRequest("INVALID_OPTION"));
    if (c.request().method().equals(HttpMethods.GET)) return done(Responses.json(values.get(name).toString()));
    if (!name.equals("nsqlookupd_tcp_addresses") && !name.equals("log_level")) {
      return done(Responses.badRequest("INVALID_OPTION"));
    }
    return readBody.apply(c.request(), settings.maxMsgSize()).thenApply(body -> {
      if (body == null || body.isEmpty()) return Responses.tooLarge("INVALID_VALUE");
      return name.equals("log_level") ? setLogLevel(body.utf8String()) : setLookupd(body);
    });
  }

  private HttpResponse setLogLevel(String value) {
    int level = LEVELS.indexOf(value.trim().toLowerCase(Locale.ROOT)) + 1;
    if (level == 0) return Responses.badRequest("INVALID_VALUE");
    logLevel.set(level);
    Level logback = switch (level) {
      case 1 -> Level.DEBUG;
      case 2 -> Level.INFO;
      case 3 -> Level.WARN;
      default -> Level.ERROR;   // logback has no fatal level
    };
    if (LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
      root.setLevel(logback);
    }
    return Responses.json(Integer.toString(level));
  }

  private HttpResponse setLookupd(ByteString body) {
    JsonNode parsed;
    try {
      parsed = Responses.JSON.readTree(body.toArray());
    } catch (java.io.IOException e) {
      return Responses.badRequest("INVALID_VALUE");
    }
    if (parsed == null || !parsed.isArray()) return Responses.badRequest("INVALID_VALUE");
    List<String> addresses = new ArrayList<>();
    for (JsonNode n : parsed) {
      if (!n.isTextual()) return Responses.badRequest("INVALID_VALUE");
      addresses.add(n.asText());
    }
    lookupdAddresses.set(List.copyOf(addresses));
    onLookupdChange.accept(List.copyOf(addresses));
    return Responses.json(strings(addresses).toString());
  }

  private Map<String, JsonNode> values() {
    Map<String, JsonNode> v = new LinkedHashMap<>();
    var f = Responses.JSON.getNodeFactory();
    v.put("id", f.numberNode(settings.nodeId()));
    v.put("log_level", f.numberNode(logLevel.get()));
    v.put("tcp_address", f.textNode(settings.tcpAddress().toString()));
    v.put("http_address", f.textNode(settings.httpAddress() == null ? "" : settings.httpAddress().host() + ":" + httpPort.getAsInt()));
    v.put("broadcast_address", f.textNode(settings.broadcastAddress()));
    v.put("nsqlookupd_tcp_addresses", strings(lookupdAddresses.get()));
    v.put("data_path", f.textNode(settings.dataPath()));
    v.put("mem_queue_size", f.numberNode(settings.memQueueSize()));
    v.put("max_bytes_per_file", f.numberNode(settings.maxBytesPerFile()));
    v.put("sync_every", f.numberNode(settings.syncEvery()));
    v.put("sync_timeout", nanos(settings.syncTimeout()));
    v.put("durable", f.booleanNode(settings.durable()));   // not in nsqd
    v.put("max_msg_size", f.numberNode(settings.maxMsgSize()));
    v.put("max_body_size", f.numberNode(settings.maxBodySize()));
    v.put("msg_timeout", nanos(settings.msgTimeout()));
    v.put("max_msg_timeout", nanos(settings.maxMsgTimeout()));
    v.put("max_req_timeout", nanos(settings.maxReqTimeout()));
    v.put("max_rdy_count", f.numberNode(settings.maxRdyCount()));
    v.put("max_heartbeat_interval", nanos(settings.maxHeartbeatInterval()));
    v.put("max_output_buffer_size", f.numberNode(settings.maxOutputBufferSize()));
    v.put("max_output_buffer_timeout", nanos(settings.maxOutputBufferTimeout()));
    v.put("min_output_buffer_timeout", nanos(settings.minOutputBufferTimeout()));
    v.put("output_buffer_timeout", nanos(settings.outputBufferTimeout()));
    v.put("max_channel_consumers", f.numberNode(settings.maxChannelConsumers()));
    v.put("max_deflate_level", f.numberNode(settings.maxDeflateLevel()));
    ArrayNode pct = f.arrayNode();
    settings.e2eProcessingLatencyPercentiles().forEach(pct::add);
    v.put("e2e_processing_latency_percentiles", pct);
    v.put("e2e_processing_latency_window_time", nanos(settings.e2eProcessingLatencyWindowTime()));
    return v;
  }

  private static JsonNode nanos(Duration d) { return Responses.JSON.getNodeFactory().numberNode(d.toNanos()); }

  private static ArrayNode strings(List<String> list) {
    ArrayNode a = Responses.JSON.createArrayNode();
    list.forEach(a::add);
    return a;
  }

  private static CompletionStage<HttpResponse> done(HttpResponse r) { return CompletableFuture.completedFuture(r); }
}
