package io.jnsq.http;

import java.util.ArrayList;
import java.util.List;
import org.apache.pekko.util.ByteString;

/** The two body forms of {@code POST /mpub}, checked in full before anything is published (all or nothing). */
final class MpubBody {
  private MpubBody() {}

  /** The messages, or the 413 token nsqd answers. */
  record Parsed(List<ByteString> messages, String error) {
    static Parsed fail(String token) { return new Parsed(List.of(), token); }
  }

  /** Newline-separated: empty lines are skipped, a {@code \r} stays part of its message. */
  static Parsed text(ByteString body, long maxMsgSize) {
    List<ByteString> out = new ArrayList<>();
    int start = 0;
    while (start < body.size()) {
      int nl = body.indexOf((byte) '\n', start);
      int end = nl < 0 ? body.size() : nl;
      if (end - start > maxMsgSize) return Parsed.fail("MSG_TOO_BIG");
      if (end > start) out.add(body.slice(start, end));
      start = end + 1;
    }
    return new Parsed(out, null);
  }

  /** {@code [int32 count]([int32 size][bytes])*}: the TCP MPUB payload without its leading body size. */
  static Parsed binary(ByteString body, long maxMsgSize, long maxBodySize) {
    if (body.size() < 4) return Parsed.fail("BAD_BODY");
    int count = readInt(body, 0);
    if (count <= 0 || count > (maxBodySize - 4) / 5) return Parsed.fail("BAD_BODY");
    List<ByteString> out = new ArrayList<>(count);
    int pos = 4;
    for (int i = 0; i < count; i++) {
      if (body.size() < pos + 4) return Parsed.fail("BAD_MESSAGE");
      int size = readInt(body, pos);
      if (size <= 0 || size > maxMsgSize) return Parsed.fail("BAD_MESSAGE");
      if (body.size() - pos - 4 < size) return Parsed.fail("BAD_MESSAGE");
      out.add(body.slice(pos + 4, pos + 4 + size));
      pos += 4 + size;
    }
    return new Parsed(out, null);
  }

  private static int readInt(ByteString b, int at) {
    return ((b.apply(at) & 0xff) << 24) | ((b.apply(at + 1) & 0xff) << 16) | ((b.apply(at + 2) & 0xff) << 8) | (b.apply(at + 3) & 0xff);
  }
}
