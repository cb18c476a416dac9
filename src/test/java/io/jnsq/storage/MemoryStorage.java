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

  private static final class File {
    byte[] data = new byte[0];
    int length;
    int durable;
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
    for (File f : files.values()) {
      int unsynced = f.length - f.durable;
      int kept = unsynced <= 0 || random == null ? 0 : random.nextInt(unsynced + 1);
      f.length = f.durable + kept;
      f.durable = f.length;
    }
  }

  /**
   * The disk as a power cut at this instant would leave it: a copy holding what was forced plus, at
   * random, part of what was not. The original goes on as if nothing happened.
   */
  public synchronized MemoryStorage crashCopy(Random random) {
    MemoryStorage copy = new MemoryStorage();
    files.forEach((name, f) -> {
      int unsynced = f.length - f.durable;
      int kept = unsynced <= 0 ? 0 : random.nextInt(unsynced + 1);
      File c = new File();
      c.length = c.durable = f.durable + kept;
      c.data = Arrays.copyOf(f.data, Math.max(c.length, 1));
      copy.files.put(name, c);
    });
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
    if (f.length > position) {
      f.length = (int) position;
      f.durable = Math.min(f.durable, f.length);
    }
    return new Writer() {
      @Override public void write(ByteBuffer src) throws IOException {
        synchronized (MemoryStorage.this) {
          if (files.get(name) != f) throw new IOException(name + " was deleted");
          int n = src.remaining();
          if (used() + n > capacity) throw new IOException("no space left on device");
          if (f.data.length < f.length + n) f.data = Arrays.copyOf(f.data, Math.max(f.length + n, f.data.length * 2));
          src.get(f.data, f.length, n);
          f.length += n;
        }
      }
      @Override public void force() {
        synchronized (MemoryStorage.this) {
          f.durable = f.length;
          forces++;
        }
      }
      @Override public void truncate(long size) {
        synchronized (MemoryStorage.this) {
          f.length = (int) Math.min(f.length, size);
          f.durable = Math.min(f.durable, f.length);
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
    f.length = f.durable = content.length;
    files.put(name, f);
    forces++;
  }

  @Override
  public synchronized List<String> list() { return new ArrayList<>(files.keySet()); }
}
