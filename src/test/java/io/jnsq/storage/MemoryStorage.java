package io.jnsq.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.TreeMap;

/**
 * An in-memory {@link Storage} that models a disk honestly enough to test durability on one machine:
 * {@link #crash} throws away every byte not yet forced (keeping a random prefix of them, as a torn write
 * would), and a capacity makes writes fail as a full disk does until {@link #setCapacity} frees space.
 * Thread-safe, since syncs run on another thread than writes.
 */
public final class MemoryStorage implements Storage {

  /**
   * A file as the process sees it ({@code data}, {@code length}) and as the disk holds it ({@code disk},
   * {@code diskLength}); what was written since the last force starts at {@code dirtyFrom}.
   */
  private static final class File {
    byte[] data = new byte[0];
    int length;
    byte[] disk = new byte[0];
    int diskLength;
    int dirtyFrom = Integer.MAX_VALUE;

    void force() {
      if (disk.length < length) disk = Arrays.copyOf(disk, Math.max(length, 1));
      if (dirtyFrom < length) System.arraycopy(data, dirtyFrom, disk, dirtyFrom, length - dirtyFrom);
      diskLength = length;
      dirtyFrom = Integer.MAX_VALUE;
    }

    /** What a power cut leaves: the disk's content plus, written in order, {@code kept} bytes from dirtyFrom. */
    File crashed(int kept) {
      File c = new File();
      int end = dirtyFrom == Integer.MAX_VALUE ? 0 : dirtyFrom + kept;
      c.length = c.diskLength = Math.max(diskLength, end);
      c.data = Arrays.copyOf(disk, Math.max(c.length, 1));
      if (end > dirtyFrom) System.arraycopy(data, dirtyFrom, c.data, dirtyFrom, kept);
      c.disk = c.data.clone();
      return c;
    }

    int unsynced() { return dirtyFrom >= length ? 0 : length - dirtyFrom; }

    void cut(int size) {
      length = Math.min(length, size);
      diskLength = Math.min(diskLength, length);
      if (dirtyFrom >= length) dirtyFrom = Integer.MAX_VALUE;
    }
  }

  private final TreeMap<String, File> files = new TreeMap<>();
  private long capacity = Long.MAX_VALUE;
  private long forces;

  /** Fails writes that would take the total size past {@code bytes}. */
  public synchronized void setCapacity(long bytes) { capacity = bytes; }

  /** How many times anything was forced (fsync count). */
  public synchronized long forces() { return forces; }

  /** Total bytes stored. */
  public synchronized long used() {
    long n = 0;
    for (File f : files.values()) n += f.length;
    return n;
  }

  /** Power loss: every file keeps what was forced plus, at random, part of what was not. */
  public synchronized void crash(Random random) {
    files.replaceAll((name, f) -> f.crashed(f.unsynced() == 0 || random == null ? 0 : random.nextInt(f.unsynced() + 1)));
  }

  /**
   * The disk as a power cut at this instant would leave it: a copy holding what was forced plus, at
   * random, part of what was not. The original goes on as if nothing happened.
   */
  public synchronized MemoryStorage crashCopy(Random random) {
    MemoryStorage copy = new MemoryStorage();
    files.forEach((name, f) -> copy.files.put(name, f.crashed(f.unsynced() == 0 ? 0 : random.nextInt(f.unsynced() + 1))));
    return copy;
  }

  /** Flips one byte of {@code file} at {@code position} (bit rot). */
  public synchronized void corrupt(String file, int position) {
    File f = files.get(file);
    f.data[position] ^= 0x5a;
  }

  /** Names of the files, for tests that look inside. */
  public synchronized List<String> names() { return new ArrayList<>(files.keySet()); }

  @Override
  public synchronized Writer append(String name, long position) throws IOException {
    File f = files.computeIfAbsent(name, k -> new File());
    f.cut((int) position);
    return writer(name, f, f.length);
  }

  @Override
  public synchronized Writer overwrite(String name, long position) throws IOException {
    File f = files.get(name);
    if (f == null) throw new IOException(name + ": no such file");
    return writer(name, f, (int) Math.min(position, f.length));
  }

  @Override
  public synchronized void rename(String from, String to) throws IOException {
    File f = files.remove(from);
    if (f == null) throw new IOException(from + ": no such file");
    files.put(to, f);
  }

  private Writer writer(String name, File f, int start) {
    return new Writer() {
      private int pos = start;

      @Override public void write(ByteBuffer src) throws IOException {
        synchronized (MemoryStorage.this) {
          if (files.get(name) != f) throw new IOException(name + " was deleted");
          int n = src.remaining();
          int grow = Math.max(0, pos + n - f.length);
          if (used() + grow > capacity) throw new IOException("no space left on device");
          if (f.data.length < pos + n) f.data = Arrays.copyOf(f.data, Math.max(pos + n, f.data.length * 2));
          src.get(f.data, pos, n);
          f.dirtyFrom = Math.min(f.dirtyFrom, pos);
          pos += n;
          f.length = Math.max(f.length, pos);
        }
      }
      @Override public void force() {
        synchronized (MemoryStorage.this) {
          f.force();
          forces++;
        }
      }
      @Override public void truncate(long size) {
        synchronized (MemoryStorage.this) {
          f.cut((int) size);
          pos = f.length;
        }
      }
      @Override public void close() {}
    };
  }

  @Override
  public synchronized Reader read(String name) throws IOException {
    File f = files.get(name);
    if (f == null) throw new IOException(name + ": no such file");
    return new Reader() {
      @Override public int read(ByteBuffer dst, long position) {
        synchronized (MemoryStorage.this) {
          if (position >= f.length) return -1;
          int n = (int) Math.min(dst.remaining(), f.length - position);
          dst.put(f.data, (int) position, n);
          return n;
        }
      }
      @Override public void close() {}
    };
  }

  @Override
  public synchronized long size(String name) {
    File f = files.get(name);
    return f == null ? -1 : f.length;
  }

  @Override
  public synchronized void delete(String name) { files.remove(name); }

  @Override
  public synchronized byte[] load(String name) {
    File f = files.get(name);
    return f == null ? null : Arrays.copyOf(f.data, f.length);
  }

  @Override
  public synchronized void storeAtomically(String name, byte[] content, boolean force) throws IOException {
    if (used() + content.length > capacity) throw new IOException("no space left on device");
    File f = new File();
    f.data = content.clone();
    f.disk = content.clone();
    f.length = f.diskLength = content.length;
    files.put(name, f);
    forces++;
  }

  @Override
  public synchronized List<String> list() { return new ArrayList<>(files.keySet()); }
}
