package io.jnsq.http;

import org.apache.pekko.event.LoggingAdapter;
import org.apache.pekko.http.ParsingErrorHandler;
import org.apache.pekko.http.javadsl.model.HttpResponse;
import org.apache.pekko.http.javadsl.model.StatusCodes;
import org.apache.pekko.http.scaladsl.model.ErrorInfo;
import org.apache.pekko.http.scaladsl.model.StatusCode;
import org.apache.pekko.http.scaladsl.settings.ServerSettings;

/**
 * Answers requests too malformed to reach the routes in NSQ's shape rather than Pekko's plain text. Go's
 * URL parser lets a bad escape in the query through to nsqd, which answers 400 {@code INVALID_REQUEST};
 * Pekko stops such a request earlier, so this is where that answer comes from. Configured as
 * {@code pekko.http.server.parsing.error-handler}.
 */
public final class NsqParsingErrorHandler extends ParsingErrorHandler {

  @Override
  public HttpResponse handle(StatusCode status, ErrorInfo info, LoggingAdapter log, ServerSettings settings) {
    log.debug("HTTP: unparsable request: {}", info.formatPretty());
    if (status.intValue() == 400) return Responses.badRequest("INVALID_REQUEST");
    return Responses.error(StatusCodes.get(status.intValue()), status.reason().toUpperCase().replace(' ', '_'));
  }
}
