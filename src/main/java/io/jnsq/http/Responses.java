package io.jnsq.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.pekko.http.javadsl.model.ContentType;
import org.apache.pekko.http.javadsl.model.HttpCharset;
import org.apache.pekko.http.javadsl.model.HttpCharsets;
import org.apache.pekko.http.javadsl.model.MediaTypes;
import org.apache.pekko.http.javadsl.model.HttpEntities;
import org.apache.pekko.http.javadsl.model.HttpHeader;
import org.apache.pekko.http.javadsl.model.HttpMethod;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCode;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;

/**
 * Responses in NSQ 1.x's HTTP convention: bare JSON or text, empty bodies for actions, errors as
 * {@code {"message":"TOKEN"}}, and the {@code X-NSQ-Content-Type} header go-nsq relies on.
 */
final class Responses {
  static final ObjectMapper JSON = new ObjectMapper();
  static final HttpHeader NSQ_V1 = RawHeader.create("X-NSQ-Content-Type", "nsq; version=1.0");
  /** nsqd's exact {@code charset=utf-8} (lower case); Pekko's own UTF_8 renders as {@code UTF-8}. */
  private static final HttpCharset UTF8_LOWER = HttpCharsets.custom("utf-8");
  static final ContentType.NonBinary JSON_UTF8 = MediaTypes.applicationWithOpenCharset("json").toContentType(UTF8_LOWER);
  static final ContentType.NonBinary TEXT_UTF8 = MediaTypes.TEXT_PLAIN.toContentType(UTF8_LOWER);

  /** Prometheus' text format 0.0.4: {@code text/plain; version=0.0.4; charset=utf-8}. */
  static final ContentType.NonBinary PROMETHEUS_TEXT =
      MediaTypes.customWithOpenCharset("text", "plain", java.util.Map.of("version", "0.0.4"), false).toContentType(UTF8_LOWER);

  private Responses() {}

  static HttpResponse json(String body) { return json(StatusCodes.OK, body); }

  static HttpResponse json(StatusCode status, String body) {
    return HttpResponse.create().withStatus(status).addHeader(NSQ_V1).withEntity(HttpEntities.create(JSON_UTF8, body));
  }

  static HttpResponse json(ObjectNode node) {
    try {
      return json(JSON.writeValueAsString(node));
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A text answer such as {@code OK}, still marked as NSQ v1. */
  static HttpResponse text(String body) {
    return HttpResponse.create().addHeader(NSQ_V1).withEntity(HttpEntities.create(TEXT_UTF8, body));
  }

  /** Plain text without the NSQ marker: only {@code /ping} answers like this. */
  static HttpResponse textPlain(String body) { return HttpResponse.create().withEntity(HttpEntities.create(TEXT_UTF8, body)); }

  /** A {@code /metrics} exposition, without the NSQ marker (it is no NSQ answer). */
  static HttpResponse prometheus(byte[] body) { return HttpResponse.create().withEntity(HttpEntities.create(PROMETHEUS_TEXT, body)); }

  /** A successful action: 200, no body, no Content-Type. */
  static HttpResponse empty() { return HttpResponse.create().addHeader(NSQ_V1).withEntity(HttpEntities.EMPTY); }

  static HttpResponse error(StatusCode status, String token) {
    return json(status, "{\"message\":\"" + token + "\"}");
  }

  static HttpResponse badRequest(String token) { return error(StatusCodes.BAD_REQUEST, token); }

  static HttpResponse notFound(String token) { return error(StatusCodes.NOT_FOUND, token); }

  static HttpResponse tooLarge(String token) { return error(StatusCodes.PAYLOAD_TOO_LARGE, token); }

  /** nsqd lists OPTIONS with the methods a path takes, in alphabetical order. */
  static String allow(Set<HttpMethod> methods) {
    java.util.TreeSet<String> names = methods.stream().map(HttpMethod::name).collect(Collectors.toCollection(java.util.TreeSet::new));
    names.add("OPTIONS");
    return String.join(", ", names);
  }

  static HttpResponse methodNotAllowed(Set<HttpMethod> methods) {
    return error(StatusCodes.METHOD_NOT_ALLOWED, "METHOD_NOT_ALLOWED").addHeader(RawHeader.create("Allow", allow(methods)));
  }

  static HttpResponse options(Set<HttpMethod> methods) {
    return HttpResponse.create().addHeader(RawHeader.create("Allow", allow(methods))).withEntity(HttpEntities.EMPTY);
  }
}
