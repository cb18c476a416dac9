package io.jnsq.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** {@link Storage} on a directory of real files. */
public final class FileStorage implements Storage {
  private final Path dir;

  public FileStorage(Path dir) {
    this.dir = dir;
  }

  public Path dir() { return dir; }

  @Override
  public Writer append(String file, long position) throws IOException {
    return writer(FileChannel.open(dir.resolve(file), StandardOpenOption.CREATE, StandardOpenOption.WRITE), position, true);
  }

  @Override
  public Writer overwrite(String file, long position) throws IOException {
    return writer(FileChannel.open(dir.resolve(file), StandardOpenOption.WRITE), position, false);
  }

  @Override
  public void rename(String from, String to) throws IOException {
    Files.move(dir.resolve(from), dir.resolve(to), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    }
  }

  private static Writer writer(FileChannel ch, long position, boolean cut) throws IOException {
    try {
      if (cut && ch.size() > position) ch.truncate(position);
      ch.position(position);
    } catch (IOException e) {
      ch.close();
      throw e;
    }
    return new Writer() {
      @Override public void write(ByteBuffer src) throws IOException {
        while (src.hasRemaining()) ch.write(src);
      }
      @Override public void force() throws IOException { ch.force(false); }
      @Override public void truncate(long size) throws IOException {
        ch.truncate(size);
        ch.position(size);
      }
      @Override public void close() throws IOException { ch.close(); }
    };
  }

  @Override
  public Reader read(String file) throws IOException {
    FileChannel ch = FileChannel.open(dir.resolve(file), StandardOpenOption.READ);
    return new Reader() {
      @Override public int read(ByteBuffer dst, long position) throws IOException { return ch.read(dst, position); }
      @Override public void close() throws IOException { ch.close(); }
    };
  }

  @Override
  public long size(String file) throws IOException {
    try {
      return Files.size(dir.resolve(file));
    } catch (NoSuchFileException e) {
      return -1;
    }
  }

  @Override
  public void delete(String file) throws IOException {
    Files.deleteIfExists(dir.resolve(file));
  }

  @Override
  public byte[] load(String file) throws IOException {
    try {
      return Files.readAllBytes(dir.resolve(file));
    } catch (NoSuchFileException e) {
      return null;
    }
  }

  @Override
  public void storeAtomically(String file, byte[] content, boolean force) throws IOException {
    Path target = dir.resolve(file);
    Path tmp = dir.resolve(file + ".tmp");
    try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
        StandardOpenOption.TRUNCATE_EXISTING)) {
      ByteBuffer b = ByteBuffer.wrap(content);
      while (b.hasRemaining()) ch.write(b);
      if (force) ch.force(true);
    }
    Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
  }

  @Override
  public List<String> list() throws IOException {
    List<String> names = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.forEach(p -> names.add(p.getFileName().toString()));
    }
    return names;
  }
}
