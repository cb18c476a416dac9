package io.jnsq.app;

import io.jnsq.storage.FileStorage;
import io.jnsq.broker.NsqdImport;
import io.jnsq.storage.TopicLog;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code bin/jnsq import-nsqd --data-path DIR}: what {@code bin/jnsq node} does at start with nsqd's
 * queue files, done offline (the node must not be running), printing what it found.
 */
@Command(name = "import-nsqd", description = "Imports nsqd's queue files (go-diskqueue) in a data path into jnsq's"
    + " topic logs and channel cursors, once, and prints what it found; bin/jnsq node does the same at start.")
final class ImportNsqd implements Callable<Integer> {
  @Option(names = {"--data-path", "-data-path"}, required = true, paramLabel = "<dir>", description = "nsqd's data path")
  String dataPath;

  @Option(names = {"--dry-run", "-dry-run"}, description = "only read the queues and print what they hold")
  boolean dryRun;

  @Option(names = {"--max-bytes-per-file", "-max-bytes-per-file"}, paramLabel = "<bytes>",
      description = "size of one topic log segment file (default: 104857600)")
  long maxBytesPerFile = 104_857_600;

  @Option(names = {"--max-msg-size", "-max-msg-size"}, paramLabel = "<bytes>",
      description = "largest message body; longer records count as corrupt (default: 1048576)")
  long maxMsgSize = 1_048_576;

  @Option(names = {"-h", "-help", "--help"}, usageHelp = true, description = "show this help")
  boolean help;

  PrintStream out = System.out;

  @Override
  public Integer call() throws Exception {
    Path dir = Path.of(dataPath);
    if (!Files.isDirectory(dir)) {
      System.err.println("jnsq import-nsqd: --data-path " + dir + " is not a directory");
      return 2;
    }
    NsqdImport.Report r;
    try {
      r = NsqdImport.run(new FileStorage(dir), new TopicLog.Settings(maxBytesPerFile, maxMsgSize), dryRun);
    } catch (java.io.IOException e) {
      System.err.println("jnsq import-nsqd: " + e.getMessage());
      return 1;
    }
    for (String note : r.notes()) out.println(note);
    if (r.nothing()) {
      if (r.notes().isEmpty()) out.println("no nsqd queue files in " + dir);
      return 0;
    }
    long messages = 0;
    for (NsqdImport.Found f : r.found()) {
      messages += f.messages();
      out.printf("%s: %d messages, %d bytes (nsqd's depth %d)%s%n", f.queue().name(), f.messages(), f.bytes(),
          f.queue().depth(), f.corrupt() > 0 ? ", " + f.corrupt() + " corrupt stretches skipped" : "");
    }
    out.printf("%s %d messages from %d queues%s%n", r.imported() ? "imported" : "found", messages, r.found().size(),
        r.imported() ? "; nsqd's files are kept as *.imported" : "");
    return 0;
  }
}
