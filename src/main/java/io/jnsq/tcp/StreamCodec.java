package io.jnsq.tcp;

import java.io.IOException;
import org.apache.pekko.util.ByteString;

/**
 * A connection's compression after IDENTIFY negotiated it. {@link #encode} is called by the session
 * actor for each write (and must flush: nothing may wait in a buffer while the client waits), {@link
 * #decode} by the input stream for each chunk read; the two directions share no state.
 */
public interface StreamCodec {
  ByteString encode(ByteString plain);

  ByteString decode(ByteString compressed) throws IOException;

  /** {@link #decode} for plain arrays. */
  default byte[] decodeArray(byte[] compressed) throws IOException {
    return decode(ByteString.fromArray(compressed)).toArray();
  }
}
