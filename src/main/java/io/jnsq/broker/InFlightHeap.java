package io.jnsq.broker;

import java.util.Arrays;

/**
 * The in-flight messages of one channel ordered by deadline: a binary min-heap that remembers each
 * entry's slot, so FIN can remove and TOUCH can move any entry in O(log n) instead of leaving stale
 * entries behind (a channel may hold millions of FINished ids per msg-timeout).
 */
final class InFlightHeap {

  /** A message out with one consumer; mutable, owned by the channel actor alone. */
  static final class Entry {
    final Message message;
    final long pos;
    final long seq;
    final long connectionId;
    final long deliveredAt;
    long deadline;
    int slot = -1;

    /** {@code pos} and {@code seq}: where the message sits in its topic's log (-1 when nowhere). */
    Entry(Message message, long pos, long seq, long connectionId, long deliveredAt, long deadline) {
      this.message = message;
      this.pos = pos;
      this.seq = seq;
      this.connectionId = connectionId;
      this.deliveredAt = deliveredAt;
      this.deadline = deadline;
    }
  }

  private Entry[] heap = new Entry[64];
  private int size;

  int size() { return size; }

  boolean isEmpty() { return size == 0; }

  /** The entry with the earliest deadline, or null. */
  Entry peek() { return size == 0 ? null : heap[0]; }

  void add(Entry e) {
    if (size == heap.length) heap = Arrays.copyOf(heap, size * 2);
    heap[size] = e;
    e.slot = size;
    size++;
    siftUp(e.slot);
  }

  /** Removes {@code e}, which must be in this heap. */
  void remove(Entry e) {
    int slot = e.slot;
    size--;
    Entry last = heap[size];
    heap[size] = null;
    e.slot = -1;
    if (slot != size) {
      heap[slot] = last;
      last.slot = slot;
      siftDown(slot);
      siftUp(last.slot);
    }
    if (heap.length > 1024 && size < heap.length / 4) heap = Arrays.copyOf(heap, heap.length / 2);
  }

  /** Moves {@code e} after its deadline changed. */
  void update(Entry e) {
    siftDown(e.slot);
    siftUp(e.slot);
  }

  void clear() {
    for (int i = 0; i < size; i++) heap[i].slot = -1;
    heap = new Entry[64];
    size = 0;
  }

  private void siftUp(int i) {
    Entry e = heap[i];
    while (i > 0) {
      int parent = (i - 1) >>> 1;
      Entry p = heap[parent];
      if (p.deadline <= e.deadline) break;
      heap[i] = p;
      p.slot = i;
      i = parent;
    }
    heap[i] = e;
    e.slot = i;
  }

  private void siftDown(int i) {
    Entry e = heap[i];
    int half = size >>> 1;
    while (i < half) {
      int child = 2 * i + 1;
      int right = child + 1;
      if (right < size && heap[right].deadline < heap[child].deadline) child = right;
      Entry c = heap[child];
      if (e.deadline <= c.deadline) break;
      heap[i] = c;
      c.slot = i;
      i = child;
    }
    heap[i] = e;
    e.slot = i;
  }
}
