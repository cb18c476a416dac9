package io.jnsq.broker;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** A clock tests move by hand, together with Pekko's ManualTime so timers and deadlines agree. */
final class ManualClock implements Clock {
  private final AtomicLong nanos = new AtomicLong(1_000_000_000L);

  @Override public long nanoTime() { return nanos.get(); }

  @Override public long epochNanos() { return 1_700_000_000_000_000_000L + nanos.get(); }

  void advance(Duration d) { nanos.addAndGet(d.toNanos()); }
}
