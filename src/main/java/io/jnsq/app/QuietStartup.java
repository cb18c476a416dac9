package io.jnsq.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.turbo.TurboFilter;
import ch.qos.logback.core.spi.FilterReply;
import org.slf4j.Marker;

/**
 * Drops Pekko Cluster's "No seed-nodes configured, manual cluster join required" line: a node without
 * --seed-node joins itself right after (see cluster.ClusterNode, which logs that it forms a cluster of
 * its own), so the advice is noise. Everything else passes.
 */
public final class QuietStartup extends TurboFilter {
  @Override
  public FilterReply decide(Marker marker, Logger logger, Level level, String format, Object[] params, Throwable t) {
    if (level == Level.INFO && logger.getName().equals("org.apache.pekko.cluster.Cluster")) {
      if ((format != null && format.contains("No seed-nodes configured"))
          || (params != null && params.length > 0 && String.valueOf(params[params.length - 1]).contains("No seed-nodes configured"))) {
        return FilterReply.DENY;
      }
    }
    return FilterReply.NEUTRAL;
  }
}
