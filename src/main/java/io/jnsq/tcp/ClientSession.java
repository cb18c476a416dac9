package io.jnsq.tcp;

import io.jnsq.auth.AuthServers;
import io.jnsq.protocol.GoQuote;

import io.jnsq.broker.Channel;
import io.jnsq.broker.ClientInfo;
import io.jnsq.broker.Message;
import io.jnsq.broker.Topic;
import io.jnsq.broker.TopicRegistry;
import io.jnsq.protocol.Frames;
import io.jnsq.protocol.IdentifyRequest;
import io.jnsq.protocol.Inbound;
import io.jnsq.protocol.MessageIds;
import io.jnsq.protocol.ProtocolError;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * One client connection of protocol V2, between its decoder (input, back-pressured by acks) and its
 * socket writer (output, one ByteString at a time). It checks each command against the connection's
 * state, talks to topics and the subscribed channel, and writes replies strictly in command order
 * (producers match replies to requests by order) while message frames go out as soon as they arrive.
 *
 * <p>Output batching: frames accumulate in one buffer while the previous write is in progress and go
 * out together as soon as the socket takes more, so a busy connection writes big batches and an idle
 * one never waits for a flush timer.
 */
public final class ClientSession {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ClientSession.class);

  /** Everything a session understands. */
  public sealed interface Command {}

  /** The input stream started; {@code ackTo} wants an ack before each next batch. */
  public record InputStarted(ActorRef<InputAck> ackTo) implements Command {}

  /** Commands decoded from one read of the socket. */
  public record InputBatch(ActorRef<InputAck> ackTo, List<Inbound> items) implements Command {}

  /** The client closed its side, or the connection failed. */
  public record InputEnded() implements Command {}

  /** The ack the decoder side waits for. */
  public enum InputAck { INSTANCE }

  /** The socket writer is ready; {@code out} takes one element per {@link OutputAck}. */
  public record OutputStarted(ActorRef<Output> out) implements Command {}

  /** The socket writer took the last element. */
  public enum OutputAck implements Command { INSTANCE }

  /** What goes to the socket writer. */
  public sealed interface Output {}

  /** Bytes to write. */
  public record Bytes(ByteString bytes) implements Output {}

  /** Close the connection once everything before it is written. */
  public record Close() implements Output {}

  /** Drop the connection now, whatever is unwritten: the client stopped reading or talking. */
  public record Abort() implements Output {}

  /** Close the connection (node shutting down). */
  public record Shutdown() implements Command {}

  /** Asks whether this connection has published, for {@code /stats} producers. */
  public record ReportProducer(ActorRef<ProducerReport> replyTo) implements Command {}

  /** The answer: {@code producer} is null for a connection that never published. */
  public record ProducerReport(Connections.Producer producer) {}

  private record WrappedTopicLookup(TopicRegistry.TopicLookup lookup) implements Command {}
  private record AuthAnswered(AuthServers.Grant grant, Throwable error, boolean renewal) implements Command {}
  private record WrappedChannelLookup(Topic.ChannelLookup lookup) implements Command {}
  private record WrappedPublishResult(Topic.PublishResult result) implements Command {}
  private record WrappedConsumerEvent(Channel.ConsumerEvent event) implements Command {}
  private record TopicTerminated(String topic, ActorRef<Topic.Command> ref) implements Command {}
  private record ChannelTerminated(ActorRef<Channel.Command> ref) implements Command {}
  private enum Tick implements Command { HEARTBEAT, READ_DEADLINE, IDLE_CHECK }

  /** What a session needs to know about its node. */
  public record Context(
      ActorRef<TopicRegistry.Command> registry,
      SessionSettings settings) {}

  private enum State { INIT, SUBSCRIBED, CLOSING }

  /** Largest single write handed to the socket writer. */
  private static final int MAX_WRITE = 256 * 1024;

  /** A reply owed to the client, in command order; {@code frame} is null until it is known. */
  private static final class Slot {
    ByteString frame;
    boolean fatal;
    boolean silentClose;
    String verb;
    String topic;
    int messageCount;

    StreamCodec upgrade;   // compression starts after the bytes owed before this slot
    boolean startTls;      // TLS starts after the bytes owed before this slot

    static Slot ready(ByteString frame) {
      Slot s = new Slot();
      s.frame = frame;
      return s;
    }
  }

  public static Behavior<Command> create(long connectionId, String remoteAddress, Context context,
      java.util.concurrent.atomic.AtomicReference<StreamCodec> inbound, java.util.concurrent.atomic.AtomicBoolean tlsPending) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new ClientSession(ctx, timers, connectionId, remoteAddress, context, inbound, tlsPending).running()));
  }

  private final ActorContext<Command> ctx;
  private final TimerScheduler<Command> timers;
  private final long connectionId;
  private final String remoteAddress;
  private final String remoteIp;   // remoteAddress without the port
  private final ActorRef<TopicRegistry.Command> registry;
  private final SessionSettings settings;
  private final long connectTs = System.currentTimeMillis() / 1000;
  private final ActorRef<Topic.PublishResult> publishAdapter;
  private final ActorRef<Channel.ConsumerEvent> consumerAdapter;

  // Owned by this actor alone.
  private final ArrayDeque<Inbound> pendingInput = new ArrayDeque<>();
  private final ArrayDeque<Slot> replies = new ArrayDeque<>();
  private final HashMap<Long, Slot> publishSlots = new HashMap<>();
  private final ArrayDeque<Slot> opsSlots = new ArrayDeque<>();
  private final HashMap<String, ActorRef<Topic.Command>> topics = new HashMap<>();
  private final LinkedHashMap<String, Long> pubCounts = new LinkedHashMap<>();
  private ByteStringBuilder out = new ByteStringBuilder();
  private ActorRef<Output> writer;
  private boolean writing;
  private long writeStartedNanos;
  private ActorRef<InputAck> inputAckTo;
  private boolean inputEnded;
  private boolean closing;   // a fatal error or shutdown: write what is owed, then close
  private boolean closed;
  private State state = State.INIT;
  private String waitingFor;   // a topic/channel lookup or subscription that later input must wait for
  private long publishSeq;
  private List<Channel.Op> opsBatch;

  // Per-connection settings, from IDENTIFY.
  private ClientIdentity identity;
  private long heartbeatNanos;
  private Duration msgTimeout;
  private int sampleRate;
  private AuthServers.Grant grant;   // what AUTH granted, while auth is on
  // Compression: the input side's codec is set for the decoder; output is encoded here, per write, once
  // the plainBytes at the head of the buffer (IDENTIFY's answer) have gone out as they are.
  private final java.util.concurrent.atomic.AtomicReference<StreamCodec> inbound;
  private StreamCodec outCodec;
  private int plainBytes;
  private final java.util.concurrent.atomic.AtomicBoolean tlsPending;
  private int tlsMarkAt = -1;   // bytes of out to write before the START_TLS marker; -1: none
  private boolean tls;
  private boolean engaged;   // any command but NOP seen: not an idle connection
  private String authSecret;
  private long lastReadNanos = System.nanoTime();
  private boolean magicSeen;   // heartbeats wait for it: nothing goes to a client that never spoke V2

  // Subscription.
  private String subTopic;
  private String subChannel;
  private ActorRef<Channel.Command> channel;
  private boolean subRetried;

  private ClientSession(ActorContext<Command> ctx, TimerScheduler<Command> timers, long connectionId,
      String remoteAddress, Context context, java.util.concurrent.atomic.AtomicReference<StreamCodec> inbound,
      java.util.concurrent.atomic.AtomicBoolean tlsPending) {
    this.ctx = ctx;
    this.inbound = inbound;
    this.tlsPending = tlsPending;
    this.timers = timers;
    this.connectionId = connectionId;
    this.remoteAddress = remoteAddress;
    this.registry = context.registry();
    this.settings = context.settings();
    this.publishAdapter = ctx.messageAdapter(Topic.PublishResult.class, WrappedPublishResult::new);
    this.consumerAdapter = ctx.messageAdapter(Channel.ConsumerEvent.class, WrappedConsumerEvent::new);
    this.remoteIp = remoteAddress.contains(":") ? remoteAddress.substring(0, remoteAddress.lastIndexOf(':')) : remoteAddress;
    this.identity = new ClientIdentity(remoteIp, remoteIp, "", false, false, false);
    this.msgTimeout = settings.msgTimeout();
    // The first read deadline (two default heartbeats = --client-timeout) also drops a client that
    // connects and never says anything, not even the magic.
    setHeartbeat(settings.heartbeatInterval().toNanos());
    timers.startSingleTimer(Tick.IDLE_CHECK, Tick.IDLE_CHECK, settings.clientTimeout());
  }

  private Behavior<Command> running() {
    return Behaviors.receive(Command.class)
        .onMessage(InputStarted.class, this::onInputStarted)
        .onMessage(InputBatch.class, this::onInputBatch)
        .onMessage(InputEnded.class, e -> onInputEnded())
        .onMessage(OutputStarted.class, this::onOutputStarted)
        .onMessageEquals(OutputAck.INSTANCE, this::onOutputAck)
        .onMessage(WrappedTopicLookup.class, w -> onTopicLookup(w.lookup()))
        .onMessage(WrappedChannelLookup.class, w -> onChannelLookup(w.lookup()))
        .onMessage(WrappedPublishResult.class, w -> onPublishResult(w.result()))
        .onMessage(WrappedConsumerEvent.class, w -> onConsumerEvent(w.event()))
        .onMessage(AuthAnswered.class, this::onAuthAnswered)
        .onMessage(TopicTerminated.class, this::onTopicTerminated)
        .onMessage(ChannelTerminated.class, this::onChannelTerminated)
        .onMessageEquals(Tick.HEARTBEAT, this::onHeartbeat)
        .onMessageEquals(Tick.READ_DEADLINE, this::onReadDeadline)
        .onMessageEquals(Tick.IDLE_CHECK, () -> {
          if (!engaged && !closed) {
            // Only NOPs (or nothing) for a whole client timeout: nobody is using this connection.
            log.info("client {} did not IDENTIFY, AUTH, SUB or publish within {}, closing", remoteAddress,
                settings.clientTimeout());
            closing = true;
            close(true);
          }
          return afterWork();
        })
        .onMessage(Shutdown.class, s -> closeAfterOwed())
        .onMessage(ReportProducer.class, this::onReportProducer)
        .onSignal(PostStop.class, s -> onStop())
        .build();
  }

  // ---------------------------------------------------------------- input

  private Behavior<Command> onInputStarted(InputStarted s) {
    s.ackTo().tell(InputAck.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<Command> onInputBatch(InputBatch batch) {
    inputAckTo = batch.ackTo();
    lastReadNanos = System.nanoTime();
    if (!magicSeen) {
      magicSeen = true;   // the decoder's first batch follows the magic
      if (heartbeatNanos > 0) timers.startTimerWithFixedDelay(Tick.HEARTBEAT, Tick.HEARTBEAT, Duration.ofNanos(heartbeatNanos));
    }
    pendingInput.addAll(batch.items());
    processInput();
    return afterWork();
  }

  private Behavior<Command> onInputEnded() {
    inputEnded = true;
    if (!closed) {
      // The client hung up: nothing more can be written usefully; replies owed are dropped.
      closing = true;
      close(true);
    }
    return afterWork();
  }

  /** Works through queued input until it runs out or a command has to wait for an answer. */
  private void processInput() {
    while (waitingFor == null && !closing && !pendingInput.isEmpty()) {
      Inbound item = pendingInput.poll();
      if (item instanceof ProtocolError e) {
        onProtocolError(e);
      } else {
        dispatch((io.jnsq.protocol.Command) item);
      }
    }
    flushOps();
    if (closing) pendingInput.clear();
    maybeAckInput();
  }

  private void maybeAckInput() {
    boolean room = publishSlots.size() < settings.maxPendingPublishes() && out.length() < settings.maxOutputBacklog();
    if (inputAckTo != null && pendingInput.isEmpty() && waitingFor == null && room && !closing) {
      inputAckTo.tell(InputAck.INSTANCE);
      inputAckTo = null;
    }
  }

  private void dispatch(io.jnsq.protocol.Command c) {
    if (!(c instanceof io.jnsq.protocol.Command.Nop)) engaged = true;
    if (settings.tlsRequired() && !tls && !(c instanceof io.jnsq.protocol.Command.Identify)) {
      fatal("E_INVALID cannot " + c.verb() + " in current state (TLS required)");
      return;
    }
    if (!(c instanceof io.jnsq.protocol.Command.Fin || c instanceof io.jnsq.protocol.Command.Req
        || c instanceof io.jnsq.protocol.Command.Touch)) {
      flushOps();
    }
    if (c instanceof io.jnsq.protocol.Command.Pub p) {
      publish(p, "PUB", p.topic(), List.of(p.body()), 0);
    } else if (c instanceof io.jnsq.protocol.Command.MPub m) {
      publish(m, "MPUB", m.topic(), m.bodies(), 0);
    } else if (c instanceof io.jnsq.protocol.Command.DPub d) {
      publish(d, "DPUB", d.topic(), List.of(d.body()), d.deferMs());
    } else if (c instanceof io.jnsq.protocol.Command.Fin f) {
      if (requireConsuming("FIN")) {
        boolean hex = MessageIds.isHex(f.id());
        addOp(new Channel.Fin(hex ? MessageIds.parseHex(f.id()) : 0, f.id(), hex));
      }
    } else if (c instanceof io.jnsq.protocol.Command.Req r) {
      if (requireConsuming("REQ")) {
        long delay = Math.min(r.timeoutMs(), settings.maxReqTimeout().toMillis());
        addOp(new Channel.Req(parse(r.id()), r.id(), MessageIds.isHex(r.id()), delay));
      }
    } else if (c instanceof io.jnsq.protocol.Command.Touch t) {
      if (requireConsuming("TOUCH")) addOp(new Channel.Touch(parse(t.id()), t.id(), MessageIds.isHex(t.id())));
    } else if (c instanceof io.jnsq.protocol.Command.Rdy r) {
      onRdy(r);
    } else if (c instanceof io.jnsq.protocol.Command.Nop) {
      // Resets the read deadline, which every command does.
    } else if (c instanceof io.jnsq.protocol.Command.Sub s) {
      onSub(s);
    } else if (c instanceof io.jnsq.protocol.Command.Identify i) {
      onIdentify(i);
    } else if (c instanceof io.jnsq.protocol.Command.Cls) {
      onCls();
    } else if (c instanceof io.jnsq.protocol.Command.Auth a) {
      onAuth(a);
    }
  }

  private static long parse(String id) { return MessageIds.isHex(id) ? MessageIds.parseHex(id) : 0; }

  /** nsqd checks the state before the arguments, so a state error wins over the decoder's complaint. */
  private void onProtocolError(ProtocolError e) {
    String stateError = stateErrorFor(e.verb());
    if ("RDY".equals(e.verb()) && state == State.CLOSING) return;   // RDY is ignored while closing
    if (stateError != null) {
      fatal(stateError);
    } else if (e.silent()) {
      Slot s = new Slot();
      s.frame = ByteString.emptyByteString();
      s.silentClose = true;
      owe(s);
    } else {
      fatal(e.frameText());
    }
  }

  private String stateErrorFor(String verb) {
    switch (verb) {
      case "IDENTIFY": case "AUTH": case "SUB":
        return state != State.INIT ? "E_INVALID cannot " + verb + " in current state" : null;
      case "RDY": case "CLS":
        return state != State.SUBSCRIBED && state != State.CLOSING ? "E_INVALID cannot " + verb + " in current state" : null;
      case "FIN": case "REQ": case "TOUCH":
        return state == State.INIT ? "E_INVALID cannot " + verb + " in current state" : null;
      default:
        return null;
    }
  }

  // ---------------------------------------------------------------- IDENTIFY

  private void onIdentify(io.jnsq.protocol.Command.Identify i) {
    if (state != State.INIT) {
      fatal("E_INVALID cannot IDENTIFY in current state");
      return;
    }
    IdentifyRequest.Result parsed = IdentifyRequest.parse(i.body(), settings.identifyBounds());
    if (parsed.error() != null) {
      fatal(parsed.error().frameText());
      return;
    }
    IdentifyRequest req = parsed.request();
    IdentifyRequest.Negotiation n = req.negotiate(settings.features());
    if (n.error() != null) {
      fatal(n.error().frameText());
      return;
    }
    identity = new ClientIdentity(req.clientId(), req.hostname(), req.userAgent(), false, false, false);
    if (req.heartbeatIntervalMs() != 0) setHeartbeat(req.heartbeatIntervalMs() < 0 ? 0 : req.heartbeatIntervalMs() * 1_000_000L);
    if (req.msgTimeoutMs() > 0) msgTimeout = Duration.ofMillis(req.msgTimeoutMs());
    sampleRate = req.sampleRate();
    owe(Slot.ready(req.featureNegotiation() ? Frames.response(n.response().toJson()) : Frames.OK));
    if (n.response().tlsV1()) {
      // As nsqd: the answer goes out plain, then the TLS handshake, then an OK inside TLS. The decoder is
      // told before this batch is acknowledged, in case the client's handshake arrives first.
      tlsPending.set(true);
      Slot start = Slot.ready(ByteString.emptyByteString());
      start.startTls = true;
      owe(start);
      owe(Slot.ready(Frames.OK));
      tls = true;
    }
    if (n.response().snappy() || n.response().deflate()) {
      // As nsqd: IDENTIFY's answer goes out plain, then everything is compressed, starting with an OK.
      StreamCodec codec = n.response().snappy() ? new SnappyCodec() : new DeflateCodec((int) n.response().deflateLevel());
      inbound.set(codec);
      Slot upgrade = Slot.ready(ByteString.emptyByteString());
      upgrade.upgrade = codec;
      owe(upgrade);
      owe(Slot.ready(Frames.OK));
    }
    identity = new ClientIdentity(identity.clientId(), identity.hostname(), identity.userAgent(), tls,
        n.response().snappy(), n.response().deflate());
  }

  /** Heartbeats every {@code nanos}, and a read deadline of two of them; 0 disables both, as nsqd's -1 does. */
  private void setHeartbeat(long nanos) {
    heartbeatNanos = nanos;
    if (nanos > 0) {
      if (magicSeen) timers.startTimerWithFixedDelay(Tick.HEARTBEAT, Tick.HEARTBEAT, Duration.ofNanos(nanos));
      long idle = System.nanoTime() - lastReadNanos;
      timers.startSingleTimer(Tick.READ_DEADLINE, Tick.READ_DEADLINE, Duration.ofNanos(Math.max(1, 2 * nanos - idle)));
    } else {
      timers.cancel(Tick.HEARTBEAT);
      timers.cancel(Tick.READ_DEADLINE);
    }
  }

  // ---------------------------------------------------------------- AUTH

  private void onAuth(io.jnsq.protocol.Command.Auth a) {
    if (state != State.INIT) {
      fatal("E_INVALID cannot AUTH in current state");
    } else if (settings.auth() == null) {
      fatal("E_AUTH_DISABLED AUTH disabled");
    } else if (grant != null) {
      fatal("E_INVALID AUTH already set");
    } else {
      authSecret = a.secret().utf8String();
      askAuthServer(false);
    }
  }

  /** Asks the auth servers about this connection's secret; input waits for the answer. */
  private void askAuthServer(boolean renewal) {
    waitingFor = "AUTH";
    ctx.pipeToSelf(settings.auth().query(remoteIp, tls, authSecret, ""),
        (g, error) -> new AuthAnswered(g, error, renewal));
  }

  private Behavior<Command> onAuthAnswered(AuthAnswered a) {
    if (!"AUTH".equals(waitingFor)) return Behaviors.same();
    waitingFor = null;
    if (a.error() != null) {
      // The reason stays in the log (never the secret); the client learns only that it failed, as from nsqd.
      Throwable cause = a.error().getCause() != null ? a.error().getCause() : a.error();
      log.warn("client {}: AUTH failed: {}", remoteAddress, cause.getMessage());
      fatal("E_AUTH_FAILED AUTH failed");
    } else if (a.grant().authorizations().isEmpty()) {
      fatal("E_UNAUTHORIZED AUTH no authorizations found");
    } else {
      grant = a.grant();
      if (!a.renewal()) owe(Slot.ready(Frames.response(grant.replyJson())));
    }
    processInput();
    return afterWork();
  }

  /**
   * With auth on, whether {@code verb} may act on {@code topic}/{@code channel} (publishers: channel "").
   * An expired grant is renewed first: {@code command} goes back to the front of the input meanwhile.
   */
  private boolean authorized(String verb, String topic, String channel, io.jnsq.protocol.Command command) {
    if (settings.auth() == null) return true;
    if (grant == null) {
      fatal("E_AUTH_FIRST AUTH required before " + verb);
      return false;
    }
    if (grant.expired(System.nanoTime())) {
      pendingInput.addFirst(command);
      grant = new AuthServers.Grant(grant.identity(), grant.identityUrl(), grant.authorizations(), Long.MAX_VALUE);
      askAuthServer(true);
      return false;
    }
    if (!grant.allows(topic, channel, verb.equals("SUB") ? false : true)) {
      fatal("E_UNAUTHORIZED AUTH failed for " + verb + " on " + GoQuote.quote(topic) + " " + GoQuote.quote(channel));
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- SUB, RDY, CLS, FIN/REQ/TOUCH

  private void onSub(io.jnsq.protocol.Command.Sub s) {
    if (state != State.INIT) {
      fatal("E_INVALID cannot SUB in current state");
    } else if (heartbeatNanos <= 0) {
      fatal("E_INVALID cannot SUB with heartbeats disabled");
    } else if (authorized("SUB", s.topic(), s.channel(), s)) {
      subTopic = s.topic();
      subChannel = s.channel();
      waitingFor = "SUB";
      askTopicForSub();
    }
  }

  private void askTopicForSub() {
    ActorRef<Topic.Command> t = topics.get(subTopic);
    if (t != null) {
      t.tell(new Topic.GetChannel(subChannel, true, ctx.messageAdapter(Topic.ChannelLookup.class, WrappedChannelLookup::new)));
    } else {
      registry.tell(new TopicRegistry.GetTopic(subTopic, true, ctx.messageAdapter(TopicRegistry.TopicLookup.class, WrappedTopicLookup::new)));
    }
  }

  private Behavior<Command> onChannelLookup(Topic.ChannelLookup lookup) {
    if (!"SUB".equals(waitingFor)) return Behaviors.same();
    if (lookup.channel() == null) {
      subFailed("E_SUB_FAILED SUB failed exiting");
    } else {
      channel = lookup.channel();
      ctx.watchWith(channel, new ChannelTerminated(channel));
      channel.tell(new Channel.Subscribe(clientInfo(), consumerAdapter, msgTimeout));
    }
    return afterWork();
  }

  private void subFailed(String error) {
    waitingFor = null;
    fatal(error);
    processInput();
  }

  private void onRdy(io.jnsq.protocol.Command.Rdy r) {
    if (state == State.CLOSING) return;
    if (state != State.SUBSCRIBED) {
      fatal("E_INVALID cannot RDY in current state");
      return;
    }
    channel.tell(new Channel.Ready(connectionId, r.count()));
  }

  private void onCls() {
    if (state != State.SUBSCRIBED) {
      fatal("E_INVALID cannot CLS in current state");
      return;
    }
    state = State.CLOSING;
    channel.tell(new Channel.StartClose(connectionId));
    owe(Slot.ready(Frames.CLOSE_WAIT));
  }

  private boolean requireConsuming(String verb) {
    if (state == State.INIT) {
      fatal("E_INVALID cannot " + verb + " in current state");
      return false;
    }
    return true;
  }

  private void addOp(Channel.Op op) {
    if (opsBatch == null) opsBatch = new ArrayList<>();
    opsBatch.add(op);
  }

  /** Sends consecutive FIN/REQ/TOUCH as one message; its one reply fills one slot. */
  private void flushOps() {
    if (opsBatch == null) return;
    Slot s = new Slot();
    s.verb = "OPS";
    owe(s);
    opsSlots.add(s);
    channel.tell(new Channel.Operate(connectionId, opsBatch));
    opsBatch = null;
  }

  private Behavior<Command> onConsumerEvent(Channel.ConsumerEvent event) {
    if (event instanceof Channel.Deliveries d) {
      writeMessages(d.messages());
    } else if (event instanceof Channel.OpsDone done) {
      Slot s = opsSlots.poll();
      if (s != null) {
        if (done.errors().isEmpty()) {
          s.frame = ByteString.emptyByteString();
        } else {
          ByteStringBuilder b = new ByteStringBuilder();
          for (String e : done.errors()) b.append(Frames.error(e));
          s.frame = b.result();
        }
      }
    } else if (event instanceof Channel.Subscribed) {
      if ("SUB".equals(waitingFor)) {
        state = State.SUBSCRIBED;
        waitingFor = null;
        owe(Slot.ready(Frames.OK));
        processInput();
      }
    } else if (event instanceof Channel.SubscribeRefused r) {
      if ("SUB".equals(waitingFor)) subFailed(r.error());
    } else if (event instanceof Channel.ChannelGone) {
      closeAfterOwed();
    }
    return afterWork();
  }

  private Behavior<Command> onChannelTerminated(ChannelTerminated t) {
    if (!t.ref().equals(channel)) return Behaviors.same();
    channel = null;
    if ("SUB".equals(waitingFor)) {
      // An ephemeral channel may vanish between lookup and subscribe: nsqd retries once.
      if (!subRetried) {
        subRetried = true;
        askTopicForSub();
      } else {
        subFailed("E_SUB_FAILED SUB failed to deleted topic/channel");
      }
      return afterWork();
    }
    return closeAfterOwed();   // the channel was deleted: nsqd closes its consumers
  }

  private void writeMessages(List<Message> messages) {
    if (closed) return;
    for (Message m : messages) Frames.appendMessage(out, m.timestamp(), m.attempts(), m.id(), m.body());
  }

  // ---------------------------------------------------------------- PUB, MPUB, DPUB

  /** {@code command} is the PUB, MPUB or DPUB itself, put back at the front of the input when it has to wait. */
  private void publish(io.jnsq.protocol.Command command, String verb, String topic, List<ByteString> bodies, long deferMs) {
    if (!authorized(verb, topic, "", command)) return;
    ActorRef<Topic.Command> t = topics.get(topic);
    if (t == null) {
      // Put the command back and wait for the topic's address: later commands keep their order.
      pendingInput.addFirst(command);
      waitingFor = "TOPIC " + topic;
      registry.tell(new TopicRegistry.GetTopic(topic, true, ctx.messageAdapter(TopicRegistry.TopicLookup.class, WrappedTopicLookup::new)));
      return;
    }
    Slot s = new Slot();
    s.verb = verb;
    s.topic = topic;
    s.messageCount = bodies.size();
    long seq = publishSeq++;
    publishSlots.put(seq, s);
    owe(s);
    t.tell(new Topic.Publish(seq, bodies, deferMs, publishAdapter));
  }

  private Behavior<Command> onTopicLookup(TopicRegistry.TopicLookup lookup) {
    if (lookup.topic() != null && !topics.containsKey(lookup.name())) {
      topics.put(lookup.name(), lookup.topic());
      ctx.watchWith(lookup.topic(), new TopicTerminated(lookup.name(), lookup.topic()));
    }
    if ("SUB".equals(waitingFor) && lookup.name().equals(subTopic)) {
      askTopicForSub();
      return afterWork();
    }
    if (("TOPIC " + lookup.name()).equals(waitingFor)) {
      waitingFor = null;
      if (lookup.topic() == null) {
        Inbound cmd = pendingInput.poll();
        String verb = ((io.jnsq.protocol.Command) cmd).verb();
        fatal("E_" + verb + "_FAILED " + verb + " failed exiting");
      }
      processInput();
    }
    return afterWork();
  }

  private Behavior<Command> onPublishResult(Topic.PublishResult r) {
    Slot s = publishSlots.remove(r.seq());
    if (s == null) return Behaviors.same();
    if (r.accepted()) {
      s.frame = Frames.OK;
      pubCounts.merge(s.topic, (long) s.messageCount, Long::sum);
    } else {
      s.frame = Frames.error("E_" + s.verb + "_FAILED " + s.verb + " failed " + r.reason());
      s.fatal = true;
    }
    return afterWork();
  }

  private Behavior<Command> onTopicTerminated(TopicTerminated t) {
    if (t.ref().equals(topics.get(t.topic()))) topics.remove(t.topic());
    // Publishes it never answered fail as nsqd's do for a topic being deleted.
    for (Slot s : publishSlots.values()) {
      if (s.frame == null && t.topic().equals(s.topic)) {
        s.frame = Frames.error("E_" + s.verb + "_FAILED " + s.verb + " failed exiting");
        s.fatal = true;
      }
    }
    publishSlots.values().removeIf(s -> s.frame != null);
    return afterWork();
  }

  // ---------------------------------------------------------------- output

  private void owe(Slot s) { replies.add(s); }

  private void fatal(String text) {
    Slot s = Slot.ready(Frames.error(text));
    s.fatal = true;
    owe(s);
    closing = true;
  }

  /** Moves every reply whose turn has come into the output buffer, then writes if the socket is free. */
  private Behavior<Command> afterWork() {
    Slot head;
    boolean closeNow = false;
    while ((head = replies.peek()) != null && head.frame != null) {
      replies.poll();
      if (head.upgrade != null) {
        plainBytes = out.length();
        outCodec = head.upgrade;
      }
      if (head.startTls) tlsMarkAt = out.length();
      if (!closed) out.append(head.frame);
      if (head.fatal || head.silentClose) {
        closeNow = true;
        break;
      }
    }
    if (closeNow) {
      closing = true;
      replies.clear();
      pendingInput.clear();
    }
    flushOutput();
    if (closing && !closed && replies.isEmpty() && out.length() == 0 && !writing) closeOutput();
    if (!closing) maybeAckInput();
    if (closed && inputEnded) return Behaviors.stopped();
    return Behaviors.same();
  }

  /**
   * Hands what is buffered to the socket writer, at most {@link #MAX_WRITE} bytes at a time (zero-copy
   * slices), so that each ack shows the client is still reading and the write deadline measures a
   * stall, not the size of a large delivery.
   */
  private void flushOutput() {
    if (writer == null || writing || closed) return;
    if (tlsMarkAt == 0) {
      writer.tell(new Bytes(StartTls.START));   // the TLS stage turns into the server end here
      tlsMarkAt = -1;
      writing = true;
      writeStartedNanos = System.nanoTime();
      return;
    }
    if (out.length() == 0) return;
    ByteString all = out.result();
    out = new ByteStringBuilder();
    int limit = tlsMarkAt > 0 ? Math.min(MAX_WRITE, tlsMarkAt) : MAX_WRITE;
    if (all.size() > limit) {
      out.append(all.drop(limit));
      all = all.take(limit);
    }
    if (tlsMarkAt > 0) tlsMarkAt -= all.size();
    if (outCodec != null) {
      int plain = Math.min(plainBytes, all.size());
      plainBytes -= plain;
      all = plain == all.size() ? all : all.take(plain).concat(outCodec.encode(all.drop(plain)));
    }
    writer.tell(new Bytes(all));
    writing = true;
    writeStartedNanos = System.nanoTime();
  }

  private void closeOutput() { close(false); }

  /**
   * Ends the connection: after what is owed has been written, or at once ({@code abort}) for a client
   * that stopped reading or talking, whose socket would never drain. Either way the subscription ends
   * now, so the channel hands this connection's in-flight messages to others without waiting.
   */
  private void close(boolean abort) {
    if (closed) return;
    closed = true;
    if (writer != null) writer.tell(abort ? new Abort() : new Close());
    timers.cancelAll();
    if (channel != null) {
      channel.tell(new Channel.Unsubscribe(connectionId));
      ctx.unwatch(channel);
      channel = null;
    }
  }

  private Behavior<Command> closeAfterOwed() {
    closing = true;
    pendingInput.clear();
    return afterWork();
  }

  private Behavior<Command> onOutputStarted(OutputStarted s) {
    writer = s.out();
    if (closed) writer.tell(new Abort());
    return afterWork();
  }

  private Behavior<Command> onOutputAck() {
    writing = false;
    return afterWork();
  }

  // ---------------------------------------------------------------- liveness

  private Behavior<Command> onHeartbeat() {
    if (closed) return Behaviors.same();
    long now = System.nanoTime();
    if (writing && now - writeStartedNanos > heartbeatNanos) {
      // The client has not read for a whole heartbeat interval: nsqd's write deadline.
      ctx.getLog().info("client {} stopped reading, closing", remoteAddress);
      closing = true;
      close(true);
      return afterWork();
    }
    out.append(Frames.HEARTBEAT);
    return afterWork();
  }

  private Behavior<Command> onReadDeadline() {
    if (closed) return Behaviors.same();
    long deadline = heartbeatNanos > 0 ? 2 * heartbeatNanos : 0;
    long idle = System.nanoTime() - lastReadNanos;
    if (deadline == 0) return Behaviors.same();   // heartbeats disabled: no read deadline
    if (idle >= deadline) {
      ctx.getLog().info("client {} missed two heartbeats, closing", remoteAddress);
      closing = true;
      close(true);
      return afterWork();
    }
    timers.startSingleTimer(Tick.READ_DEADLINE, Tick.READ_DEADLINE, Duration.ofNanos(deadline - idle));
    return Behaviors.same();
  }

  // ---------------------------------------------------------------- stats and shutdown

  private Behavior<Command> onReportProducer(ReportProducer r) {
    r.replyTo().tell(new ProducerReport(pubCounts.isEmpty() ? null
        : new Connections.Producer(clientInfo(), stateNumber(), Map.copyOf(pubCounts))));
    return Behaviors.same();
  }

  private int stateNumber() {
    return switch (state) {
      case INIT -> 0;
      case SUBSCRIBED -> 3;
      case CLOSING -> 4;
    };
  }

  private ClientInfo clientInfo() {
    return new ClientInfo(connectionId, identity.clientId(), identity.hostname(), identity.userAgent(),
        remoteAddress, connectTs, sampleRate, identity.tls(), identity.snappy(), identity.deflate());
  }

  private Behavior<Command> onStop() {
    if (channel != null) channel.tell(new Channel.Unsubscribe(connectionId));
    if (inputAckTo != null) inputAckTo.tell(InputAck.INSTANCE);
    return Behaviors.same();
  }

  /** What IDENTIFY told us, for stats. */
  private record ClientIdentity(String clientId, String hostname, String userAgent, boolean tls, boolean snappy,
      boolean deflate) {}
}
