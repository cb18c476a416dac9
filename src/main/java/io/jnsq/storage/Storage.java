package io.jnsq.storage;

import java.io.Closeable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/**
 * The few file operations the disk queues and the node metadata need, by file name within one data
 * directory. {@link FileStorage} is the real one; tests swap in stores that lose every write not yet
 * {@linkplain Writer#force forced} when they "crash", or that run out of space.
 */
public interface Storage {

  /** Opens {@code file} for appending at {@code position}, creating it, and cutting off anything after. */
  Writer append(String file, long position) throws IOException;

  /**
   * Opens {@code file}, which exists, for writing from {@code position} over what is there, leaving the
   * rest as it is (a file filled with zeros ahead of time, whose fsyncs then change no file size).
   */
  Writer overwrite(String file, long position) throws IOException;

  /** Renames {@code from} to {@code to}, replacing it, atomically and durably (the directory is fsync'd). */
  void rename(String from, String to) throws IOException;

  /** Opens {@code file} for positional reads. */
  Reader read(String file) throws IOException;

  /** The size of {@code file}, or -1 when it does not exist. */
  long size(String file) throws IOException;

  /** Removes {@code file}; no error when it is already gone. */
  void delete(String file) throws IOException;

  /** The whole content of a small file, or null when it does not exist. */
  byte[] load(String file) throws IOException;

  /**
   * Replaces {@code file} with {@code content} so that a crash leaves either the old or the new content;
   * with {@code force}, the new content is on disk when this returns (else it may be lost in a power cut,
   * though not when only the process dies).
   */
  void storeAtomically(String file, byte[] content, boolean force) throws IOException;

  /** {@link #storeAtomically(String, byte[], boolean)} with force. */
  default void storeAtomically(String file, byte[] content) throws IOException {
    storeAtomically(file, content, true);
  }

  /** Names of the files in the directory. */
  List<String> list() throws IOException;

  /** An open file being appended to. */
  interface Writer extends Closeable {
    /** Writes all of {@code src} at the end. */
    void write(ByteBuffer src) throws IOException;

    /** Makes everything written so far survive a crash (fsync). Safe to call from another thread than write. */
    void force() throws IOException;

    /** Cuts the file to {@code size} bytes and continues appending there. */
    void truncate(long size) throws IOException;
  }

  /** An open file for positional reads. */
  interface Reader extends Closeable {
    /** Reads into {@code dst} from {@code position}; returns the count, -1 at end of file. */
    int read(ByteBuffer dst, long position) throws IOException;
  }
}
