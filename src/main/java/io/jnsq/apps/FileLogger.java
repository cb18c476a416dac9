package io.jnsq.apps;

import io.jnsq.client.ClientConfig;
import io.jnsq.client.Consumer;
import io.jnsq.client.Message;
import java.io.BufferedOutputStream;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

/**
 * One topic of nsq_to_file: consumes it, appends each body and a newline to the current file, and
 * FINs messages only once they are written and fsync'd (every -sync-interval, when -max-in-flight
 * are pending, or when nsqd would send no more). Files rotate on a new -datetime-format value,
 * -rotate-size or -rotate-interval and move from -work-dir to -output-dir when closed; with -gzip each
 * sync ends one gzip member, so a file is a series of members, each holding FINed messages only.
 */
final class FileLogger implements Runnable {
  private final NsqToFile opts;
  private final String topic;
  private final String filenameFormat;
  private final Consumer consumer;
  private final BlockingQueue<Message> queue = new ArrayBlockingQueue<>(1);
  private final PrintStream err;
  private volatile boolean stopRequested;
  private volatile boolean hupRequested;
  private volatile boolean failed;

  private FileOutputStream file;
  private OutputStream buffered;
  private OutputStream writer;
  private Path path;
  private String filename;
  private long openTime;
  private long filesize;
  private int rev;

  FileLogger(NsqToFile opts, String topic, String filenameFormat, ClientConfig cfg, PrintStream err) {
    this.opts = opts;
    this.topic = topic;
    this.filenameFormat = filenameFormat;
    this.err = err;
    this.consumer = new Consumer(topic, opts.channel, cfg, m -> {
      m.disableAutoResponse();
      queue.put(m);
    });
  }

  Consumer consumer() { return consumer; }

  boolean failed() { return failed; }

  void stop() { stopRequested = true; }

  /** What SIGHUP does, as in nsq_to_file: sync, close the current file (moving it to the output dir); the next message opens a new one. */
  void hup() { hupRequested = true; }

  @Override public void run() {
    try {
      route();
    } catch (IOException | RuntimeException e) {
      failed = true;
      log("FATAL: " + e.getMessage());
      consumer.stopAsync();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void route() throws IOException, InterruptedException {
    List<Message> output = new ArrayList<>();
    long interval = opts.syncInterval.toNanos();
    long nextTick = System.nanoTime() + interval;
    boolean stopIssued = false;
    while (true) {
      boolean sync = false;
      boolean closeFile = false;
      boolean exit = false;
      long wait = Math.max(0, nextTick - System.nanoTime());
      // wake at least twice a second, so a stop or a SIGHUP never waits for the next tick
      Message m = queue.poll(Math.min(wait, TimeUnit.MILLISECONDS.toNanos(stopIssued ? 50 : 500)), TimeUnit.NANOSECONDS);
      if (m != null) {
        if (needsRotation()) {
          updateFile();
          sync = true;
        }
        write(m.body());
        write(new byte[] {'\n'});
        output.add(m);
        if (output.size() >= opts.maxInFlight) sync = true;
      } else if (stopIssued && consumer.stopped().isDone()) {
        sync = true;
        closeFile = true;
        exit = true;
      }
      if (System.nanoTime() >= nextTick) {
        nextTick = System.nanoTime() + interval;
        if (needsRotation() && file != null) {
          if (opts.skipEmptyFiles) {
            closeFile = true;
          } else {
            updateFile();
          }
        }
        sync = true;
      }
      if (hupRequested) {
        hupRequested = false;
        sync = true;
        closeFile = true;
      }
      if (stopRequested && !stopIssued) {
        consumer.stopAsync();
        stopIssued = true;
        sync = true;
      }
      if ((sync || stopIssued || consumer.isStarved()) && !output.isEmpty()) {
        syncFile();
        for (Message done : output) done.finish();
        output.clear();
      }
      if (closeFile) close();
      if (exit) return;
    }
  }

  private void write(byte[] b) throws IOException {
    writer.write(b);
    filesize += b.length;
  }

  /** Ends the gzip member (if any), writes everything out and fsyncs the file. */
  private void syncFile() throws IOException {
    if (file == null) return;
    if (opts.gzip) {
      ((GZIPOutputStream) writer).finish();
      buffered.flush();
      file.getFD().sync();
      writer = gzip(buffered);
    } else {
      buffered.flush();
      file.getFD().sync();
    }
  }

  private GZIPOutputStream gzip(OutputStream out) throws IOException {
    int level = opts.gzipLevel;
    return new GZIPOutputStream(out, 8192) {
      { def.setLevel(level); }
    };
  }

  private String currentFilename() {
    return filenameFormat.replace("<DATETIME>", Strftime.format(opts.datetimeFormat, ZonedDateTime.now()));
  }

  private boolean needsRotation() {
    if (file == null) return true;
    if (!currentFilename().equals(filename)) return true;
    if (!opts.rotateInterval.isZero() && System.nanoTime() - openTime > opts.rotateInterval.toNanos()) return true;
    return opts.rotateSize > 0 && filesize > opts.rotateSize;
  }

  private void updateFile() throws IOException {
    close();
    String name = currentFilename();
    if (!name.equals(filename)) {
      rev = 0;
    } else {
      rev++;
    }
    filename = name;
    openTime = System.nanoTime();
    for (;; rev++) {
      String revised = name.replace("<REV>", String.format("-%06d", rev));
      Path work = opts.workDirPath().resolve(revised);
      Files.createDirectories(work.toAbsolutePath().getParent());
      if (!opts.workDirPath().equals(opts.outputDirPath())) {
        Path output = opts.outputDirPath().resolve(revised);
        Files.createDirectories(output.toAbsolutePath().getParent());
        if (Files.exists(output)) continue;   // taken in the output dir: next revision
      }
      boolean exclusive = opts.gzip || !opts.rotateInterval.isZero();
      if (exclusive && Files.exists(work)) continue;
      FileOutputStream f = new FileOutputStream(work.toFile(), true);
      long size = f.getChannel().size();
      if (opts.rotateSize > 0 && size > opts.rotateSize) {
        f.close();
        continue;
      }
      file = f;
      path = work;
      filesize = size;
      break;
    }
    buffered = new BufferedOutputStream(file, 65536);
    writer = opts.gzip ? gzip(buffered) : buffered;
    log("opening " + path);
  }

  /** Closes the current file: an empty one is removed, else it moves to the output dir without overwriting. */
  private void close() throws IOException {
    if (file == null) return;
    buffered.flush();
    if (file.getChannel().size() == 0) {
      file.close();
      Files.deleteIfExists(path);
      file = null;
      return;
    }
    if (opts.gzip) ((GZIPOutputStream) writer).finish();
    buffered.flush();
    file.getFD().sync();
    file.close();
    file = null;
    if (!opts.workDirPath().equals(opts.outputDirPath())) {
      Path relative = opts.workDirPath().relativize(path);
      for (int r = rev;; r++) {
        String revised = filename.replace("<REV>", String.format("-%06d", r));
        Path dst = r == rev ? opts.outputDirPath().resolve(relative) : opts.outputDirPath().resolve(revised);
        try {
          Files.move(path, dst);
          log("moved " + path + " to " + dst);
          break;
        } catch (FileAlreadyExistsException e) {
          log("WARNING: destination file already exists: " + dst);
        }
      }
    }
  }

  private void log(String message) {
    Apps.log(err, NsqToFile.NAME, "[" + topic + "/" + opts.channel + "] " + message);
  }
}
