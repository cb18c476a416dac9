package io.jnsq.replication;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;

/**
 * The Raft entries of a replicated group, as bytes in its log.
 *
 * <pre>
 * publish:    [byte 1][short n][topic: n bytes UTF-8][long timestamp ns][int parts]
 *             parts × ([long due epoch ms, 0 = now][int bodies] bodies × ([int size][body]))
 * checkpoint: [byte 2][int files] files × ([short n][file name: n bytes UTF-8][int size, -1 = deleted][content])
 * </pre>
 *
 * A publish entry carries several PUB/MPUB/DPUBs of one topic (group commit); its records get their ids
 * from the entry's Raft index ({@link #id}), so every replica appends the same records. A checkpoint
 * carries channel cursor files ({@code <topic>:<channel>.cursor}) as the leader's channels saved them.
 */
final class Entries {
  private Entries() {}

  static final byte PUBLISH = 1;
  static final byte CHECKPOINT = 2;

  /** At most this many messages in one entry: the record offset has 20 bits of the id. */
  static final int MAX_MESSAGES = 1 << 20;

  /** One PUB, MPUB or DPUB inside a publish entry. */
  record Part(long dueEpochMs, List<ByteString> bodies) {}

  record Publish(String topic, long timestampNanos, List<Part> parts) {}

  /** A cursor file's content, or null when it was deleted. */
  record File(String name, byte[] content) {}

  /**
   * The id of the {@code offset}-th message of the entry at {@code index}:
   * {@code [0][1][index: 42 bits][offset: 20 bits]}. Bit 62 set keeps them apart from a node's own ids of
   * small node ids, and they grow with the index, so a replayed entry is recognised by its first id.
   */
  static long id(long index, int offset) {
    return (1L << 62) | ((index & ((1L << 42) - 1)) << 20) | offset;
  }

  static byte[] publish(Publish p) {
    byte[] topic = p.topic().getBytes(StandardCharsets.UTF_8);
    int size = 1 + 2 + topic.length + 8 + 4;
    for (Part part : p.parts()) {
      size += 8 + 4;
      for (ByteString b : part.bodies()) size += 4 + b.size();
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    out.put(PUBLISH).putShort((short) topic.length).put(topic).putLong(p.timestampNanos()).putInt(p.parts().size());
    for (Part part : p.parts()) {
      out.putLong(part.dueEpochMs()).putInt(part.bodies().size());
      for (ByteString b : part.bodies()) {
        out.putInt(b.size());
        b.copyToBuffer(out);
      }
    }
    return out.array();
  }

  static byte[] checkpoint(List<File> files) {
    int size = 1 + 4;
    List<byte[]> names = new ArrayList<>();
    for (File f : files) {
      byte[] n = f.name().getBytes(StandardCharsets.UTF_8);
      names.add(n);
      size += 2 + n.length + 4 + (f.content() == null ? 0 : f.content().length);
    }
    ByteBuffer out = ByteBuffer.allocate(size);
    out.put(CHECKPOINT).putInt(files.size());
    for (int i = 0; i < files.size(); i++) {
      File f = files.get(i);
      out.putShort((short) names.get(i).length).put(names.get(i));
      if (f.content() == null) {
        out.putInt(-1);
      } else {
        out.putInt(f.content().length).put(f.content());
      }
    }
    return out.array();
  }

  static byte type(ByteBuffer entry) { return entry.get(entry.position()); }

  /** Decodes a publish entry; bodies are copied out of {@code entry}. */
  static Publish decodePublish(ByteBuffer in) {
    in.get();
    String topic = string(in, in.getShort() & 0xffff);
    long ts = in.getLong();
    int parts = in.getInt();
    List<Part> out = new ArrayList<>(parts);
    for (int i = 0; i < parts; i++) {
      long due = in.getLong();
      int n = in.getInt();
      List<ByteString> bodies = new ArrayList<>(n);
      for (int j = 0; j < n; j++) {
        int len = in.getInt();
        byte[] body = new byte[len];
        in.get(body);
        bodies.add(ByteString.fromArrayUnsafe(body));
      }
      out.add(new Part(due, List.copyOf(bodies)));
    }
    return new Publish(topic, ts, List.copyOf(out));
  }

  static List<File> decodeCheckpoint(ByteBuffer in) {
    in.get();
    int n = in.getInt();
    List<File> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String name = string(in, in.getShort() & 0xffff);
      int len = in.getInt();
      byte[] content = null;
      if (len >= 0) {
        content = new byte[len];
        in.get(content);
      }
      out.add(new File(name, content));
    }
    return out;
  }

  private static String string(ByteBuffer in, int len) {
    byte[] b = new byte[len];
    in.get(b);
    return new String(b, StandardCharsets.UTF_8);
  }
}
