package io.jnsq.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.core.Appender;
import ch.qos.logback.core.ConsoleAppender;
import io.jnsq.config.NodeSettings;
import java.util.Iterator;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What {@code bin/jnsq node} does with {@code --log-level}, {@code --verbose} and {@code --log-prefix}
 * before the node starts, and the one line for each of nsqd's flags that mean nothing here.
 */
final class NodeLogging {
  private static final Logger log = LoggerFactory.getLogger(NodeLogging.class);

  private NodeLogging() {}

  /** {@code given}: the flag names the command line or the config file set. */
  static void apply(NodeSettings s, Set<String> given, java.util.List<String> notes) {
    if (LoggerFactory.getILoggerFactory() instanceof LoggerContext context) {
      // without --log-level (or --verbose) JNSQ_LOG_LEVEL, read by logback.xml, still decides
      if (given.contains("log-level") || given.contains("verbose")) {
        context.getLogger(Logger.ROOT_LOGGER_NAME).setLevel(level(s.logLevel()));
      }
      if (!s.logPrefix().isEmpty()) prefix(context, s.logPrefix());
    }
    for (String name : given) {
      NodeFlags.Flag f = NodeFlags.named(name);
      if (f != null && f.ignored()) log.warn("--{} is one of nsqd's options that mean nothing here: ignored", name);
    }
    for (String note : notes) log.warn("{}", note);
  }

  /** nsqd's level names; logback has no fatal, so fatal logs errors only. */
  static Level level(String name) {
    switch (name) {
      case "debug": return Level.DEBUG;
      case "info": return Level.INFO;
      case "warn": return Level.WARN;
      default: return Level.ERROR;
    }
  }

  /** Puts the prefix before the pattern of every console appender of the root logger. */
  private static void prefix(LoggerContext context, String prefix) {
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    for (Iterator<Appender<ch.qos.logback.classic.spi.ILoggingEvent>> it = root.iteratorForAppenders(); it.hasNext(); ) {
      Appender<ch.qos.logback.classic.spi.ILoggingEvent> a = it.next();
      if (!(a instanceof ConsoleAppender<ch.qos.logback.classic.spi.ILoggingEvent> console)) continue;
      if (!(console.getEncoder() instanceof PatternLayoutEncoder old)) continue;
      PatternLayoutEncoder encoder = new PatternLayoutEncoder();
      encoder.setContext(context);
      encoder.setPattern(literal(prefix) + old.getPattern());
      encoder.start();
      console.setEncoder(encoder);
    }
  }

  /** The prefix as literal text of a logback pattern: %, (, ) and \ escaped. */
  static String literal(String text) {
    return text.replaceAll("([%()\\\\])", "\\\\$1");
  }
}
