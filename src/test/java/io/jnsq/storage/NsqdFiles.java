package io.jnsq.storage;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Writes queues in nsqd's exact go-diskqueue format, for the import's tests. */
public final class NsqdFiles {
  private NsqdFiles() {}

  /** One of nsqd's messages: 16 hex digits of id, timestamp in ns, attempts, body. */
  public record Msg(String id, long timestamp, int attempts, String body) {}

  /** One record: 4-byte big-endian length, then nsqd's message encoding. */
  public static byte[] record(Msg m) throws IOException {
    byte[] body = m.body().getBytes(StandardCharsets.UTF_8);
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    DataOutputStream out = new DataOutputStream(b);
    out.writeInt(8 + 2 + 16 + body.length);
    out.writeLong(m.timestamp());
    out.writeShort(m.attempts());
    out.write(m.id().getBytes(StandardCharsets.US_ASCII));
    out.write(body);
    return b.toByteArray();
  }

  /**
   * Queue {@code name} (a topic, or topic:channel) in one data file {@code 000000}: {@code consumed} first
   * (before the read position, as nsqd leaves what it has read), then {@code queued}.
   */
  public static void queue(Path dir, String name, List<Msg> consumed, List<Msg> queued) throws IOException {
    ByteArrayOutputStream data = new ByteArrayOutputStream();
    for (Msg m : consumed) data.write(record(m));
    int readPos = data.size();
    for (Msg m : queued) data.write(record(m));
    Files.write(dir.resolve(name + ".diskqueue.000000.dat"), data.toByteArray());
    meta(dir, name, queued.size(), 0, readPos, 0, data.size());
  }

  public static void meta(Path dir, String name, long depth, long readFile, long readPos, long writeFile, long writePos)
      throws IOException {
    Files.writeString(dir.resolve(name + ".diskqueue.meta.dat"),
        depth + "\n" + readFile + "," + readPos + "\n" + writeFile + "," + writePos + "\n");
  }

  /** nsqd.dat naming topic {@code topic} with {@code channels}. */
  public static void metadata(Path dir, String topic, String... channels) throws IOException {
    StringBuilder c = new StringBuilder();
    for (String ch : channels) {
      if (c.length() > 0) c.append(',');
      c.append("{\"name\":\"").append(ch).append("\",\"paused\":false}");
    }
    Files.writeString(dir.resolve("nsqd.dat"), "{\"topics\":[{\"channels\":[" + c + "],\"name\":\"" + topic
        + "\",\"paused\":false}],\"version\":\"1.3.0\"}");
  }

  public static Msg msg(int i, String body) {
    return new Msg(String.format("%016x", 0x0ab0c0d0e0f00000L + i), 1_700_000_000_000_000_000L + i, i % 3, body);
  }
}
