package io.jnsq.broker;

/** Time as the broker sees it; tests swap in a manual one to drive msg-timeout and deferral. */
public interface Clock {
  /** Monotonic nanoseconds, for deadlines. */
  long nanoTime();

  /** Wall-clock nanoseconds since the Unix epoch, for message timestamps. */
  long epochNanos();

  /** The machine's clocks. */
  Clock SYSTEM = new Clock() {
    @Override public long nanoTime() { return System.nanoTime(); }
    @Override public long epochNanos() {
      java.time.Instant now = java.time.Instant.now();
      return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }
  };
}
