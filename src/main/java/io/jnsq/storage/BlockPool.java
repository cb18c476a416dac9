package io.jnsq.storage;

import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The node's memory for the recent tails of its topic logs: direct (off-heap) slabs, so a backlog held in
 * memory is never copied by the garbage collector, bounded by one byte budget for the whole node.
 *
 * <p>Slabs are recycled. A reader that copies out of a slab while its owner may recycle it checks the
 * slab's generation before and after ({@link Slab#stamp()} / {@link Slab#valid(int)}, the pattern of a
 * sequence lock): a changed generation means the copy may be torn and must be read from the file instead.
 */
public final class BlockPool {
  /** Slab size for topics that publish little, so that thousands of idle topics cost little. */
  public static final int SMALL = 64 * 1024;
  /** Slab size once a topic fills small slabs quickly. */
  public static final int LARGE = 1024 * 1024;

  /** A direct buffer with a generation that changes whenever the buffer is given back. */
  public static final class Slab {
    final ByteBuffer buffer;
    private volatile int generation;

    Slab(int capacity) { buffer = ByteBuffer.allocateDirect(capacity); }

    int capacity() { return buffer.capacity(); }

    /** The generation now: the data a reader copies belongs to it if {@link #valid} says so afterwards. */
    public int stamp() { return generation; }

    /** Whether nothing recycled this slab since {@code stamp} was taken. */
    public boolean valid(int stamp) {
      VarHandle.acquireFence();   // the copy's loads happen before this check, as StampedLock.validate does
      return generation == stamp;
    }

    void retire() {
      generation++;
      VarHandle.fullFence();     // the new generation is visible before any later write into the slab
    }
  }

  private final long budget;
  private final AtomicLong allocated = new AtomicLong();
  private final AtomicLong inUse = new AtomicLong();
  private final ConcurrentLinkedQueue<Slab> small = new ConcurrentLinkedQueue<>();
  private final ConcurrentLinkedQueue<Slab> large = new ConcurrentLinkedQueue<>();

  /** A pool that allocates at most {@code budgetBytes} of direct memory. */
  public BlockPool(long budgetBytes) {
    this.budget = Math.max(budgetBytes, 2L * LARGE);
  }

  /** A default budget for a JVM: a quarter of the heap's maximum. */
  public static long defaultBudget() {
    return Math.max(16L << 20, Runtime.getRuntime().maxMemory() / 4);
  }

  /** What this JVM lets direct buffers use: {@code -XX:MaxDirectMemorySize}, which defaults to the heap's maximum. */
  public static long maxDirectMemory() {
    try {
      String v = java.lang.management.ManagementFactory.getPlatformMXBean(com.sun.management.HotSpotDiagnosticMXBean.class)
          .getVMOption("MaxDirectMemorySize").getValue();
      long configured = Long.parseLong(v);
      if (configured > 0) return configured;
    } catch (RuntimeException e) {
      // not HotSpot: assume the default
    }
    return Runtime.getRuntime().maxMemory();
  }

  /**
   * The budget to use for {@code requested} bytes (0: {@link #defaultBudget()}): at most three quarters of
   * what direct buffers may use, since sockets need some too.
   */
  public static long effectiveBudget(long requested) {
    long want = requested > 0 ? requested : defaultBudget();
    return Math.min(want, maxDirectMemory() / 4 * 3);
  }

  /** Bytes of slabs handed out and not given back. */
  public long inUse() { return inUse.get(); }

  /** Whether more than {@code fraction} of the budget is held by logs: they then give back what is on disk. */
  public boolean pressed(double fraction) { return inUse.get() > budget * fraction; }

  /**
   * A slab of at least {@code size} bytes ({@link #SMALL}, {@link #LARGE}, or exactly {@code size} for a
   * record larger than that), or null when the budget is spent.
   */
  public Slab acquire(int size, boolean preferLarge) {
    int capacity = size > LARGE ? size : (preferLarge || size > SMALL) ? LARGE : SMALL;
    ConcurrentLinkedQueue<Slab> free = capacity == LARGE ? large : capacity == SMALL ? small : null;
    Slab s = free == null ? null : free.poll();
    if (s == null && capacity == SMALL) s = large.poll();   // a spare large slab serves a small request too
    if (s == null) {
      long now = allocated.addAndGet(capacity);
      if (now > budget) {
        allocated.addAndGet(-capacity);
        // Spare slabs of the other size go back to the JVM to make room for this one.
        ConcurrentLinkedQueue<Slab> other = capacity == LARGE ? small : large;
        long freed = 0;
        Slab spare;
        while (freed < capacity && (spare = other.poll()) != null) {
          allocated.addAndGet(-spare.capacity());
          freed += spare.capacity();
        }
        if (freed == 0 || allocated.addAndGet(capacity) > budget) {
          if (freed > 0) allocated.addAndGet(-capacity);
          return null;
        }
      }
      try {
        s = new Slab(capacity);
      } catch (OutOfMemoryError e) {
        allocated.addAndGet(-capacity);   // direct memory is spent elsewhere: as good as a spent budget
        return null;
      }
    }
    inUse.addAndGet(s.capacity());
    return s;
  }

  /** Gives a slab back; readers still copying from it will see its generation changed. */
  public void release(Slab s) {
    s.retire();
    inUse.addAndGet(-s.capacity());
    if (s.capacity() == LARGE) {
      large.add(s);
    } else if (s.capacity() == SMALL) {
      small.add(s);
    } else {
      allocated.addAndGet(-s.capacity());   // an odd-sized slab goes back to the JVM
    }
  }
}
