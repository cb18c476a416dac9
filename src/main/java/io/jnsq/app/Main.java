package io.jnsq.app;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParseResult;

/**
 * The {@code jnsq} command line: {@code jnsq node [flags]} runs a node, {@code jnsq bench ...} load-tests
 * one, and {@code jnsq to_nsq|nsq_tail|...} are NSQ's apps on top of the client.
 */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    // A thread that dies of running out of memory ends the process at once, without shutdown hooks
    // (which would wait for an actor system that can no longer run), so a supervisor can restart it.
    // bin/jnsq also passes -XX:+ExitOnOutOfMemoryError, which covers every thread.
    Thread.setDefaultUncaughtExceptionHandler((thread, error) -> {
      if (error instanceof OutOfMemoryError) {
        System.err.println("jnsq: out of memory in " + thread.getName() + ", exiting");
        Runtime.getRuntime().halt(3);
      }
      error.printStackTrace();
    });
    System.exit(run(args));
  }

  static int run(String[] args) {
    CommandLine top = new CommandLine(topSpec());
    top.addSubcommand("node", new CommandLine(nodeSpec()));
    top.addSubcommand("bench", new CommandLine(new io.jnsq.bench.BenchCommand()));
    top.addSubcommand("import-nsqd", new CommandLine(new ImportNsqd()));
    // NSQ's apps, with Go's one-dash flags as well as two
    top.addSubcommand("to_nsq", new CommandLine(new io.jnsq.apps.ToNsq()));
    top.addSubcommand("nsq_tail", new CommandLine(new io.jnsq.apps.NsqTail()));
    top.addSubcommand("nsq_to_file", new CommandLine(new io.jnsq.apps.NsqToFile()));
    top.addSubcommand("nsq_stat", new CommandLine(new io.jnsq.apps.NsqStat()));
    top.addSubcommand("nsq_to_http", new CommandLine(new io.jnsq.apps.NsqToHttp()));
    top.addSubcommand("nsq_to_nsq", new CommandLine(new io.jnsq.apps.NsqToNsq()));
    top.setExecutionStrategy(Main::execute);
    top.setParameterExceptionHandler(Main::badArguments);
    return top.execute(args);
  }

  private static CommandSpec topSpec() {
    CommandSpec spec = CommandSpec.create().name("jnsq").mixinStandardHelpOptions(true).version(version());
    spec.usageMessage().description(
        "A realtime messaging node that speaks NSQ's protocols: nsqd, nsqlookupd and nsqadmin in one process.");
    return spec;
  }

  private static CommandSpec nodeSpec() {
    CommandSpec spec = CommandSpec.create().name("node").version(version());
    spec.usageMessage().abbreviateSynopsis(true);
    spec.usageMessage().description(
        "Runs a node. Flags use nsqd's names and defaults, with one dash or two, and --flag=value or --flag value;"
            + " each is also a key of the config file.");
    // Go's flag package spells every flag with one dash as well as two; -h and -V stay picocli's
    spec.addOption(OptionSpec.builder("-h", "-help", "--help").usageHelp(true).description("show this help").build());
    spec.addOption(OptionSpec.builder("-V", "-version", "--version").versionHelp(true)
        .description("print the version and exit").build());
    Config defaults = ConfigFactory.parseResources("jnsq-defaults.conf").resolve();
    spec.addOption(OptionSpec.builder("--config", "-config").paramLabel("<file>").type(String.class)
        .description("config file: our HOCON file with a jnsq { ... } block (see config/jnsq.conf), or nsqd's,"
            + " nsqlookupd's or nsqadmin's TOML .cfg file; flags override it").build());
    for (NodeFlags.Flag f : NodeFlags.ALL) {
      String dflt = defaults.getValue(f.configKey()).render(ConfigRenderOptions.concise()).replace("\"", "");
      boolean list = f.kind() == NodeFlags.Kind.NUMBERS || f.kind() == NodeFlags.Kind.STRINGS;
      OptionSpec.Builder option = OptionSpec.builder(f.names())
          .paramLabel("<value>")
          .type(list ? String[].class : String.class)
          // picocli formats descriptions: a literal % (--statsd-prefix's %s) must be doubled
          .description((f.description() + (f.ignored() ? "" : " (default: " + dflt + ")")).replace("%", "%%"));
      if (f.bool()) option.arity("0..1").fallbackValue("true");   // --durable alone means true, as in nsqd
      if (f.ignored()) option.arity("0..1").fallbackValue("true");   // some of them are nsqd's booleans
      spec.addOption(option.build());
    }
    return spec;
  }

  /** A flag that node does not have, or one without its value: one line, status 2; the apps print their usage. */
  private static int badArguments(CommandLine.ParameterException ex, String[] args) {
    CommandLine cmd = ex.getCommandLine();
    java.io.PrintWriter err = cmd.getErr();
    if (cmd.getCommandName().equals("node")) {
      err.println("jnsq: cannot start: " + ex.getMessage() + " (bin/jnsq node --help lists the flags)");
      err.flush();
      return 2;
    }
    err.println(ex.getMessage());
    if (!CommandLine.UnmatchedArgumentException.printSuggestions(ex, err)) cmd.usage(err);
    err.flush();
    return cmd.getCommandSpec().exitCodeOnInvalidInput();
  }

  private static int execute(ParseResult parsed) {
    Integer help = CommandLine.executeHelpRequest(parsed);
    if (help != null) return help;
    if (!parsed.hasSubcommand()) {
      parsed.commandSpec().commandLine().usage(System.out);
      return 2;
    }
    ParseResult sub = parsed.subcommand();
    if (sub.commandSpec().name().equals("node")) return runNode(sub);
    return new CommandLine.RunLast().execute(parsed);   // annotated commands (bench) run themselves
  }

  /** The node flags of {@code args} (after {@code node}) as config overrides, keyed {@code jnsq.<flag>}. */
  static Map<String, Object> nodeOverrides(String... args) {
    return overrides(new CommandLine(nodeSpec()).parseArgs(args));
  }

  private static Map<String, Object> overrides(ParseResult parsed) {
    Map<String, Object> overrides = new HashMap<>();
    for (NodeFlags.Flag f : NodeFlags.ALL) {
      OptionSpec o = parsed.commandSpec().findOption("--" + f.name());
      if (!parsed.hasMatchedOption(o)) continue;
      if (f.ignored()) {
        overrides.put(f.configKey(), o.getValue());   // kept only to be named in the log line
        continue;
      }
      Object value = o.getValue();
      if (value instanceof String[] parts) {
        List<Object> list = new ArrayList<>();
        for (String p : parts) {
          for (String q : p.split(",")) {
            if (q.isBlank()) continue;
            list.add(f.kind() == NodeFlags.Kind.NUMBERS ? (Object) number(f, q.trim()) : q.trim());
          }
        }
        value = list;
      }
      overrides.put(f.configKey(), value);
    }
    return overrides;
  }

  private static double number(NodeFlags.Flag f, String text) {
    try {
      return Double.parseDouble(text);
    } catch (NumberFormatException e) {
      throw new ConfigProblem("--" + f.name() + "=" + text + ": not a number");
    }
  }

  private static int runNode(ParseResult parsed) {
    String file = parsed.matchedOptionValue("--config", null);
    Path path = file == null ? null : Path.of(file);
    Map<String, Object> overrides;
    Config config;
    io.jnsq.config.NodeSettings settings;
    try {
      overrides = overrides(parsed);
      config = Node.checkedConfig(path, overrides);
      settings = io.jnsq.config.NodeSettings.fromConfig(config);
    } catch (ConfigProblem e) {
      System.err.println("jnsq: cannot start: " + e.getMessage());
      return 2;
    }
    Node node;
    try {
      NodeLogging.apply(settings, Node.givenKeys(path, overrides), Node.configNotes(path));
      String problem = Listeners.firstProblem(settings);
      if (problem != null) {
        System.err.println("jnsq: cannot start: " + problem);
        return 1;
      }
      node = Node.start(config).toCompletableFuture().join();
    } catch (RuntimeException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      System.err.println("jnsq: cannot start: " + cause.getMessage());
      return 1;
    }
    CountDownLatch stopped = new CountDownLatch(1);
    node.system().getWhenTerminated().whenComplete((d, e) -> stopped.countDown());
    // SIGTERM/SIGINT run Pekko's coordinated shutdown through its JVM shutdown hook.
    try {
      stopped.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  private static String version() {
    Package p = Main.class.getPackage();
    String v = p == null ? null : p.getImplementationVersion();
    return "jnsq " + (v == null ? "dev" : v) + " (NSQ protocol " + io.jnsq.config.NodeSettings.NSQ_VERSION + ")";
  }

}
