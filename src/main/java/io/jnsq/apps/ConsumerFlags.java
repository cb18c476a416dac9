package io.jnsq.apps;

import io.jnsq.client.Consumer;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The address and option flags every consuming app of NSQ shares. */
final class ConsumerFlags {
  @Option(names = {"-nsqd-tcp-address", "--nsqd-tcp-address"}, paramLabel = "<addr>", description = "nsqd TCP address (may be given multiple times)")
  List<String> nsqdTcpAddresses = new ArrayList<>();
  @Option(names = {"-lookupd-http-address", "--lookupd-http-address"}, paramLabel = "<addr>", description = "lookupd HTTP address (may be given multiple times)")
  List<String> lookupdHttpAddresses = new ArrayList<>();
  @Option(names = {"-consumer-opt", "--consumer-opt"}, paramLabel = "<name,value>", description = "option to passthrough to the consumer (may be given multiple times), go-nsq's names")
  List<String> consumerOpts = new ArrayList<>();

  /** NSQ's check: exactly one kind of address. */
  void check() {
    if (nsqdTcpAddresses.isEmpty() && lookupdHttpAddresses.isEmpty()) {
      throw new Apps.Usage("--nsqd-tcp-address or --lookupd-http-address required");
    }
    if (!nsqdTcpAddresses.isEmpty() && !lookupdHttpAddresses.isEmpty()) {
      throw new Apps.Usage("use --nsqd-tcp-address or --lookupd-http-address not both");
    }
  }

  /** Points a consumer at the addresses given. */
  void connect(Consumer c) throws IOException {
    for (String a : nsqdTcpAddresses) c.connectToNsqd(a);
    for (String a : lookupdHttpAddresses) c.connectToNsqLookupd(a);
  }
}
