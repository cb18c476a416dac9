package io.jnsq.tcp;

/**
 * The monotonic clock a connection measures its deadlines and AUTH expiry with: {@link System#nanoTime}
 * in a node; a test moves its own beside Pekko's {@code ManualTime}, so deadlines run on virtual time.
 */
@FunctionalInterface
public interface Ticker {
  /** The clock of a running node. */
  Ticker SYSTEM = System::nanoTime;

  long nanoTime();
}
