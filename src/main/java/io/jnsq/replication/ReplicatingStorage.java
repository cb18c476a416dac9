package io.jnsq.replication;

import io.jnsq.storage.Storage;
import java.io.IOException;
import java.util.List;

/**
 * The node's store as its topics and channels see it with replication on: everything goes to the real
 * store, and the cursor files that the leader's channels save (every {@code --sync-timeout}, at shutdown,
 * after FIN/REQ with {@code --durable}) are also handed to replication, which batches them into checkpoint
 * entries, so a new leader's channels start where the old leader's were.
 */
public final class ReplicatingStorage implements Storage {
  private final Storage store;
  private volatile Replication replication;

  public ReplicatingStorage(Storage store) { this.store = store; }

  /** From now on, cursor saves are replicated through {@code r}. */
  public void replicateThrough(Replication r) { this.replication = r; }

  @Override public Writer append(String file, long position) throws IOException { return store.append(file, position); }

  @Override public Writer overwrite(String file, long position) throws IOException { return store.overwrite(file, position); }

  @Override public void rename(String from, String to) throws IOException { store.rename(from, to); }

  @Override public Reader read(String file) throws IOException { return store.read(file); }

  @Override public long size(String file) throws IOException { return store.size(file); }

  @Override
  public void delete(String file) throws IOException {
    store.delete(file);
    Replication r = replication;
    if (r != null) r.checkpoint(file, null);
  }

  @Override public byte[] load(String file) throws IOException { return store.load(file); }

  @Override
  public void storeAtomically(String file, byte[] content, boolean force) throws IOException {
    store.storeAtomically(file, content, force);
    Replication r = replication;
    if (r != null) r.checkpoint(file, content);
  }

  @Override public List<String> list() throws IOException { return store.list(); }
}
