package io.jnsq.broker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.Test;

/** The deadline heap agrees with a plain sorted reference under random adds, removes and updates. */
class InFlightHeapTest {

  @Test
  void behavesLikeASortedListUnderRandomOperations() {
    Random r = new Random(7);
    InFlightHeap heap = new InFlightHeap();
    List<InFlightHeap.Entry> live = new ArrayList<>();
    for (int step = 0; step < 50_000; step++) {
      int op = r.nextInt(10);
      if (op < 5 || live.isEmpty()) {
        InFlightHeap.Entry e = new InFlightHeap.Entry(new Message(step, 0, 1, ByteString.emptyByteString()), -1, -1, 1, 0, r.nextInt(10_000));
        heap.add(e);
        live.add(e);
      } else if (op < 8) {
        InFlightHeap.Entry e = live.remove(r.nextInt(live.size()));
        heap.remove(e);
      } else {
        InFlightHeap.Entry e = live.get(r.nextInt(live.size()));
        e.deadline = r.nextInt(10_000);
        heap.update(e);
      }
      assertEquals(live.size(), heap.size());
      if (!live.isEmpty()) {
        long min = live.stream().min(Comparator.comparingLong(x -> x.deadline)).get().deadline;
        assertEquals(min, heap.peek().deadline);
      }
    }
    while (!live.isEmpty()) {
      long min = live.stream().min(Comparator.comparingLong(x -> x.deadline)).get().deadline;
      InFlightHeap.Entry top = heap.peek();
      assertEquals(min, top.deadline);
      heap.remove(top);
      live.remove(top);
    }
    assertNull(heap.peek());
  }

  @Test
  void messageIdSourceHandsOutDistinctIdsWithTheNodeInTheTopBits() {
    MessageIdSource ids = new MessageIdSource(1023, 1_800_000_000_000L);
    long a = ids.reserve(3);
    long b = ids.reserve(2);
    List<Long> all = List.of(ids.id(a, 0), ids.id(a, 1), ids.id(a, 2), ids.id(b, 0), ids.id(b, 1));
    assertEquals(5, all.stream().distinct().count());
    for (long id : all) assertEquals(1023, id >>> 54);
  }
}
