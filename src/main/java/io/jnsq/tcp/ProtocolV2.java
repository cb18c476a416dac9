package io.jnsq.tcp;

import io.jnsq.auth.AuthServers;
import io.jnsq.broker.Channel;
import io.jnsq.broker.ClientInfo;
import io.jnsq.broker.Topic;
import io.jnsq.broker.TopicRegistry;
import io.jnsq.protocol.Command;
import io.jnsq.protocol.Frames;
import io.jnsq.protocol.GoQuote;
import io.jnsq.protocol.IdentifyRequest;
import io.jnsq.protocol.Inbound;
import io.jnsq.protocol.MessageIds;
import io.jnsq.protocol.ProtocolError;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.PostStop;
import org.apache.pekko.actor.typed.javadsl.ActorContext;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.javadsl.TimerScheduler;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of protocol V2, as nsqd's {@code protocol_v2.go} has it: the state table, one
 * handler per verb, and the talk with topics and the subscribed channel. It sits between its decoder
 * (input, back-pressured by acks) and its socket writer; what goes out, in which order and when, is
 * {@link ClientV2}'s. Replies go out strictly in command order (producers match replies to requests by
 * order) while message frames go out as soon as they arrive.
 */
public final class ProtocolV2 {
  private static final Logger log = LoggerFactory.getLogger(ProtocolV2.class);

  /** Everything a session understands. */
  public sealed interface SessionCommand {}

  /** The input stream started; {@code ackTo} wants an ack before each next batch. */
  public record InputStarted(ActorRef<InputAck> ackTo) implements SessionCommand {}

  /** Commands decoded from one read of the socket (the first one follows the magic, and may be empty). */
  public record InputBatch(ActorRef<InputAck> ackTo, List<Inbound> items) implements SessionCommand {}

  /** The client closed its side, or the connection failed. */
  public record InputEnded() implements SessionCommand {}

  /** The ack the decoder side waits for. */
  public enum InputAck { INSTANCE }

  /** The socket writer is ready; {@code out} takes one element per {@link OutputAck}. */
  public record OutputStarted(ActorRef<Output> out) implements SessionCommand {}

  /** The socket writer took the last element. */
  public enum OutputAck implements SessionCommand { INSTANCE }

  /** What goes to the socket writer. */
  public sealed interface Output {}

  /** Bytes to write. */
  public record Bytes(ByteString bytes) implements Output {}

  /** Close the connection once everything before it is written. */
  public record Close() implements Output {}

  /** Drop the connection now, whatever is unwritten: the client stopped reading or talking. */
  public record Abort() implements Output {}

  /** Close the connection (node shutting down). */
  public record Shutdown() implements SessionCommand {}

  /** Asks whether this connection has published, for {@code /stats} producers. */
  public record ReportProducer(ActorRef<ProducerReport> replyTo) implements SessionCommand {}

  /** The answer: {@code producer} is null for a connection that never published. */
  public record ProducerReport(Connections.Producer producer) {}

  private record WrappedTopicLookup(TopicRegistry.TopicLookup lookup) implements SessionCommand {}
  private record AuthAnswered(AuthServers.Grant grant, Throwable error, boolean renewal) implements SessionCommand {}
  private record WrappedChannelLookup(Topic.ChannelLookup lookup) implements SessionCommand {}
  private record WrappedPublishResult(Topic.PublishResult result) implements SessionCommand {}
  private record WrappedConsumerEvent(Channel.ConsumerEvent event) implements SessionCommand {}
  private record TopicTerminated(String topic, ActorRef<Topic.Command> ref) implements SessionCommand {}
  private record ChannelTerminated(ActorRef<Channel.Command> ref) implements SessionCommand {}
  enum Tick implements SessionCommand { HEARTBEAT, READ_DEADLINE, IDLE_CHECK }

  /** What a session needs to know about its node, and the clock its deadlines run on. */
  public record Context(ActorRef<TopicRegistry.Command> registry, SessionSettings settings, Ticker ticker) {
    public Context(ActorRef<TopicRegistry.Command> registry, SessionSettings settings) {
      this(registry, settings, Ticker.SYSTEM);
    }
  }

  // ---------------------------------------------------------------- the state table

  /** nsqd's client states, numbered as {@code /stats} shows them. */
  enum State {
    INIT(0), SUBSCRIBED(3), CLOSING(4);

    final int number;
    State(int number) { this.number = number; }
  }

  /** The states in which a verb may come; a verb not listed may come in any. Anything else is fatal. */
  private static final Map<String, Set<State>> ALLOWED = Map.of(
      "IDENTIFY", EnumSet.of(State.INIT),
      "AUTH", EnumSet.of(State.INIT),
      "SUB", EnumSet.of(State.INIT),
      "RDY", EnumSet.of(State.SUBSCRIBED, State.CLOSING),
      "CLS", EnumSet.of(State.SUBSCRIBED, State.CLOSING),
      "FIN", EnumSet.of(State.SUBSCRIBED, State.CLOSING),
      "REQ", EnumSet.of(State.SUBSCRIBED, State.CLOSING),
      "TOUCH", EnumSet.of(State.SUBSCRIBED, State.CLOSING));

  static boolean allowed(State state, String verb) {
    Set<State> in = ALLOWED.get(verb);
    return in == null || in.contains(state);
  }

  private static String invalidIn(String verb) { return "E_INVALID cannot " + verb + " in current state"; }

  /** An answer that later input has to wait for, so that replies keep the order of the commands. */
  sealed interface Waiting {}

  /** Nothing: input flows. */
  record Flowing() implements Waiting {}

  /** The auth servers' verdict on the secret (AUTH, or a renewal before a command). */
  record ForAuth() implements Waiting {}

  /** SUB's topic, then its channel, then the channel's consent; {@code retried} once if the channel vanished. */
  record ForSubscription(String topic, String channel, boolean retried) implements Waiting {}

  /** The address of a topic a publish goes to. */
  record ForTopic(String topic) implements Waiting {}

  private static final Waiting FLOWING = new Flowing();

  /** A publish sent to its topic, whose reply is owed until the topic answers. */
  private record Publishing(ClientV2.Reply reply, String verb, String topic, int messageCount) {}

  /** What IDENTIFY told us, for stats. */
  private record ClientIdentity(String clientId, String hostname, String userAgent, boolean tls, boolean snappy,
      boolean deflate) {}

  public static Behavior<SessionCommand> create(long connectionId, String remoteAddress, Context context,
      AtomicReference<StreamCodec> inbound, AtomicBoolean tlsPending) {
    return Behaviors.setup(ctx -> Behaviors.withTimers(timers ->
        new ProtocolV2(ctx, timers, connectionId, remoteAddress, context, inbound, tlsPending).running()));
  }

  private final ActorContext<SessionCommand> ctx;
  private final TimerScheduler<SessionCommand> timers;
  private final ClientV2 client;
  private final Ticker ticker;
  private final long connectionId;
  private final String remoteAddress;
  private final String remoteIp;   // remoteAddress without the port
  private final ActorRef<TopicRegistry.Command> registry;
  private final SessionSettings settings;
  private final long connectTs = System.currentTimeMillis() / 1000;
  private ActorRef<Topic.PublishResult> publishAdapter;     // made on first use: most connections
  private ActorRef<Channel.ConsumerEvent> consumerAdapter;   // either publish or consume
  // Compression negotiated in IDENTIFY: the decoder side's codec is set here, before input is acked.
  private final AtomicReference<StreamCodec> inbound;
  private final AtomicBoolean tlsPending;

  // Owned by this actor alone.
  private final ArrayDeque<Inbound> pendingInput = new ArrayDeque<>(4);
  private final HashMap<Long, Publishing> publishing = new HashMap<>();
  private final ArrayDeque<ClientV2.Reply> opsReplies = new ArrayDeque<>(4);
  private final HashMap<String, ActorRef<Topic.Command>> topics = new HashMap<>();
  private final LinkedHashMap<String, Long> pubCounts = new LinkedHashMap<>();
  private ActorRef<InputAck> inputAckTo;
  private boolean inputEnded;
  private State state = State.INIT;
  private Waiting waiting = FLOWING;
  private long publishSeq;
  private List<Channel.Op> opsBatch;
  private boolean engaged;   // any command but NOP seen: not an idle connection

  // Per-connection settings, from IDENTIFY and AUTH.
  private ClientIdentity identity;
  private Duration msgTimeout;
  private int sampleRate;
  private AuthServers.Grant grant;   // what AUTH granted, while auth is on
  private String authSecret;

  private ActorRef<Channel.Command> channel;   // once subscribed (or while SUB waits for its consent)

  private ProtocolV2(ActorContext<SessionCommand> ctx, TimerScheduler<SessionCommand> timers, long connectionId,
      String remoteAddress, Context context, AtomicReference<StreamCodec> inbound, AtomicBoolean tlsPending) {
    this.ctx = ctx;
    this.timers = timers;
    this.ticker = context.ticker();
    this.inbound = inbound;
    this.tlsPending = tlsPending;
    this.connectionId = connectionId;
    this.remoteAddress = remoteAddress;
    this.registry = context.registry();
    this.settings = context.settings();
    this.client = new ClientV2(timers, ticker, remoteAddress, settings.maxOutputBacklog(), this::unsubscribe);
    this.remoteIp = remoteAddress.contains(":") ? remoteAddress.substring(0, remoteAddress.lastIndexOf(':')) : remoteAddress;
    this.identity = new ClientIdentity(remoteIp, remoteIp, "", false, false, false);
    this.msgTimeout = settings.msgTimeout();
    // The first read deadline (two default heartbeats = --client-timeout) also drops a client that
    // connects and never says anything, not even the magic.
    client.setHeartbeat(settings.heartbeatInterval().toNanos());
    timers.startSingleTimer(Tick.IDLE_CHECK, Tick.IDLE_CHECK, settings.clientTimeout());
  }

  /**
   * One behavior for the connection's whole life, dispatching by type (the phases live in {@link #state}
   * and {@link #waiting}). A single function, not a builder's list of cases: those cost every connection
   * a kilobyte and every message a walk through the list.
   */
  private Behavior<SessionCommand> running() {
    return Behaviors.receive((c, m) -> onMessage(m), (c, signal) -> signal instanceof PostStop ? onStop() : Behaviors.same());
  }

  private Behavior<SessionCommand> onMessage(SessionCommand m) {
    if (m instanceof InputBatch b) return onInputBatch(b);
    if (m == OutputAck.INSTANCE) return onOutputAck();
    if (m instanceof WrappedPublishResult w) return onPublishResult(w.result());
    if (m instanceof WrappedConsumerEvent w) return onConsumerEvent(w.event());
    if (m instanceof Tick t) {
      return switch (t) {
        case HEARTBEAT -> onHeartbeat();
        case READ_DEADLINE -> onReadDeadline();
        case IDLE_CHECK -> onIdleCheck();
      };
    }
    if (m instanceof InputStarted s) return onInputStarted(s);
    if (m instanceof InputEnded) return onInputEnded();
    if (m instanceof OutputStarted s) return onOutputStarted(s);
    if (m instanceof WrappedTopicLookup w) return onTopicLookup(w.lookup());
    if (m instanceof WrappedChannelLookup w) return onChannelLookup(w.lookup());
    if (m instanceof AuthAnswered a) return onAuthAnswered(a);
    if (m instanceof TopicTerminated t) return onTopicTerminated(t);
    if (m instanceof ChannelTerminated t) return onChannelTerminated(t);
    if (m instanceof Shutdown) return closeAfterOwed();
    if (m instanceof ReportProducer r) return onReportProducer(r);
    return Behaviors.unhandled();
  }

  // ---------------------------------------------------------------- input

  private Behavior<SessionCommand> onInputStarted(InputStarted s) {
    s.ackTo().tell(InputAck.INSTANCE);
    return Behaviors.same();
  }

  private Behavior<SessionCommand> onInputBatch(InputBatch batch) {
    inputAckTo = batch.ackTo();
    client.read();
    pendingInput.addAll(batch.items());
    processInput();
    return afterWork();
  }

  private Behavior<SessionCommand> onInputEnded() {
    inputEnded = true;
    // The client hung up: nothing more can be written usefully; replies owed are dropped.
    if (!client.closed()) client.close(true);
    return afterWork();
  }

  /** Works through queued input until it runs out or a command has to wait for an answer. */
  private void processInput() {
    while (waiting == FLOWING && !client.closing() && !pendingInput.isEmpty()) {
      Inbound item = pendingInput.poll();
      if (item instanceof ProtocolError e) {
        onProtocolError(e);
      } else {
        dispatch((Command) item);
      }
    }
    flushOps();
    if (client.closing()) pendingInput.clear();
    maybeAckInput();
  }

  private void maybeAckInput() {
    boolean room = publishing.size() < settings.maxPendingPublishes() && client.hasRoom();
    if (inputAckTo != null && pendingInput.isEmpty() && waiting == FLOWING && room && !client.closing()) {
      inputAckTo.tell(InputAck.INSTANCE);
      inputAckTo = null;
    }
  }

  private void dispatch(Command c) {
    if (!(c instanceof Command.Nop)) engaged = true;
    if (settings.tlsRequired() && !identity.tls() && !(c instanceof Command.Identify)) {
      client.fatal("E_INVALID cannot " + c.verb() + " in current state (TLS required)");
      return;
    }
    // Consecutive FIN/REQ/TOUCH go to the channel as one message; anything else ends the run first.
    if (!(c instanceof Command.Fin || c instanceof Command.Req || c instanceof Command.Touch)) flushOps();
    if (!allowed(state, c.verb())) {
      client.fatal(invalidIn(c.verb()));
      return;
    }
    if (c instanceof Command.Pub p) {
      onPub(p);
    } else if (c instanceof Command.MPub m) {
      onMpub(m);
    } else if (c instanceof Command.DPub d) {
      onDpub(d);
    } else if (c instanceof Command.Fin f) {
      onFin(f);
    } else if (c instanceof Command.Req r) {
      onReq(r);
    } else if (c instanceof Command.Touch t) {
      onTouch(t);
    } else if (c instanceof Command.Rdy r) {
      onRdy(r);
    } else if (c instanceof Command.Sub s) {
      onSub(s);
    } else if (c instanceof Command.Identify i) {
      onIdentify(i);
    } else if (c instanceof Command.Cls) {
      onCls();
    } else if (c instanceof Command.Auth a) {
      onAuth(a);
    }
    // NOP: it reset the read deadline, as every read does.
  }

  /** nsqd checks the state before the arguments, so a state error wins over the decoder's complaint. */
  private void onProtocolError(ProtocolError e) {
    if ("RDY".equals(e.verb()) && state == State.CLOSING) return;   // RDY is ignored while closing
    if (!allowed(state, e.verb())) {
      client.fatal(invalidIn(e.verb()));
    } else if (e.silent()) {
      client.owe(ClientV2.Reply.closing(ByteString.emptyByteString()));
    } else {
      client.fatal(e.frameText());
    }
  }

  // ---------------------------------------------------------------- IDENTIFY

  private void onIdentify(Command.Identify i) {
    IdentifyRequest.Result parsed = IdentifyRequest.parse(i.body(), settings.identifyBounds());
    if (parsed.error() != null) {
      client.fatal(parsed.error().frameText());
      return;
    }
    IdentifyRequest req = parsed.request();
    IdentifyRequest.Negotiation n = req.negotiate(settings.features());
    if (n.error() != null) {
      client.fatal(n.error().frameText());
      return;
    }
    if (req.heartbeatIntervalMs() != 0) {
      client.setHeartbeat(req.heartbeatIntervalMs() < 0 ? 0 : req.heartbeatIntervalMs() * 1_000_000L);
    }
    if (req.msgTimeoutMs() > 0) msgTimeout = Duration.ofMillis(req.msgTimeoutMs());
    sampleRate = req.sampleRate();
    log.info("[{}] IDENTIFY: client_id={} hostname={} user_agent={} tls={} snappy={} deflate={}", remoteAddress,
        req.clientId(), req.hostname(), req.userAgent(), n.response().tlsV1(), n.response().snappy(), n.response().deflate());
    client.owe(ClientV2.Reply.ready(req.featureNegotiation() ? Frames.response(n.response().toJson()) : Frames.OK));
    boolean tls = n.response().tlsV1();
    if (tls) {
      // As nsqd: the answer goes out plain, then the TLS handshake, then an OK inside TLS. The decoder is
      // told before this batch is acknowledged, in case the client's handshake arrives first.
      tlsPending.set(true);
      client.owe(ClientV2.Reply.switching(new ClientV2.StartTlsHere()));
      client.owe(ClientV2.Reply.ready(Frames.OK));
    }
    if (n.response().snappy() || n.response().deflate()) {
      // As nsqd: IDENTIFY's answer goes out plain, then everything is compressed, starting with an OK.
      StreamCodec codec = n.response().snappy() ? new SnappyCodec() : new DeflateCodec((int) n.response().deflateLevel());
      inbound.set(codec);
      client.owe(ClientV2.Reply.switching(new ClientV2.Compress(codec)));
      client.owe(ClientV2.Reply.ready(Frames.OK));
    }
    identity = new ClientIdentity(req.clientId(), req.hostname(), req.userAgent(), tls,
        n.response().snappy(), n.response().deflate());
  }

  // ---------------------------------------------------------------- AUTH

  private void onAuth(Command.Auth a) {
    if (settings.auth() == null) {
      client.fatal("E_AUTH_DISABLED AUTH disabled");
    } else if (grant != null) {
      client.fatal("E_INVALID AUTH already set");
    } else {
      authSecret = a.secret().utf8String();
      askAuthServer(false);
    }
  }

  /** Asks the auth servers about this connection's secret; input waits for the answer. */
  private void askAuthServer(boolean renewal) {
    waiting = new ForAuth();
    ctx.pipeToSelf(settings.auth().query(remoteIp, identity.tls(), authSecret, ""),
        (g, error) -> new AuthAnswered(g, error, renewal));
  }

  private Behavior<SessionCommand> onAuthAnswered(AuthAnswered a) {
    if (!(waiting instanceof ForAuth)) return Behaviors.same();
    waiting = FLOWING;
    if (a.error() != null) {
      // The reason stays in the log (never the secret); the client learns only that it failed, as from nsqd.
      Throwable cause = a.error().getCause() != null ? a.error().getCause() : a.error();
      log.warn("client {}: AUTH failed: {}", remoteAddress, cause.getMessage());
      client.fatal("E_AUTH_FAILED AUTH failed");
    } else if (a.grant().authorizations().isEmpty()) {
      client.fatal("E_UNAUTHORIZED AUTH no authorizations found");
    } else {
      grant = a.grant();
      if (!a.renewal()) client.owe(ClientV2.Reply.ready(Frames.response(grant.replyJson())));
    }
    processInput();
    return afterWork();
  }

  /**
   * With auth on, whether {@code verb} may act on {@code topic}/{@code channel} (publishers: channel "").
   * An expired grant is renewed first: {@code command} goes back to the front of the input meanwhile.
   */
  private boolean authorized(String verb, String topic, String channel, Command command) {
    if (settings.auth() == null) return true;
    if (grant == null) {
      client.fatal("E_AUTH_FIRST AUTH required before " + verb);
      return false;
    }
    if (grant.expired(ticker.nanoTime())) {
      pendingInput.addFirst(command);
      grant = new AuthServers.Grant(grant.identity(), grant.identityUrl(), grant.authorizations(), Long.MAX_VALUE);
      askAuthServer(true);
      return false;
    }
    if (!grant.allows(topic, channel, !verb.equals("SUB"))) {
      client.fatal("E_UNAUTHORIZED AUTH failed for " + verb + " on " + GoQuote.quote(topic) + " " + GoQuote.quote(channel));
      return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- SUB, RDY, CLS

  private void onSub(Command.Sub s) {
    if (client.heartbeatNanos() <= 0) {
      client.fatal("E_INVALID cannot SUB with heartbeats disabled");
    } else if (authorized("SUB", s.topic(), s.channel(), s)) {
      ForSubscription sub = new ForSubscription(s.topic(), s.channel(), false);
      waiting = sub;
      askTopicForSub(sub);
    }
  }

  private void askTopicForSub(ForSubscription sub) {
    ActorRef<Topic.Command> t = topics.get(sub.topic());
    if (t != null) {
      t.tell(new Topic.GetChannel(sub.channel(), true, ctx.messageAdapter(Topic.ChannelLookup.class, WrappedChannelLookup::new)));
    } else {
      registry.tell(new TopicRegistry.GetTopic(sub.topic(), true,
          ctx.messageAdapter(TopicRegistry.TopicLookup.class, WrappedTopicLookup::new)));
    }
  }

  private Behavior<SessionCommand> onChannelLookup(Topic.ChannelLookup lookup) {
    if (!(waiting instanceof ForSubscription)) return Behaviors.same();
    if (lookup.channel() == null) {
      subFailed("E_SUB_FAILED SUB failed exiting");
    } else {
      channel = lookup.channel();
      ctx.watchWith(channel, new ChannelTerminated(channel));
      if (consumerAdapter == null) consumerAdapter = ctx.messageAdapter(Channel.ConsumerEvent.class, WrappedConsumerEvent::new);
      channel.tell(new Channel.Subscribe(clientInfo(), consumerAdapter, msgTimeout));
    }
    return afterWork();
  }

  private void subFailed(String error) {
    waiting = FLOWING;
    client.fatal(error);
    processInput();
  }

  private void onRdy(Command.Rdy r) {
    if (state == State.CLOSING) return;   // nsqd ignores RDY once CLS was sent
    channel.tell(new Channel.Ready(connectionId, r.count()));
  }

  private void onCls() {
    if (state == State.CLOSING) {
      client.fatal(invalidIn("CLS"));
      return;
    }
    state = State.CLOSING;
    channel.tell(new Channel.StartClose(connectionId));
    client.owe(ClientV2.Reply.ready(Frames.CLOSE_WAIT));
  }

  // ---------------------------------------------------------------- FIN, REQ, TOUCH

  private void onFin(Command.Fin f) {
    boolean hex = MessageIds.isHex(f.id());
    addOp(new Channel.Fin(hex ? MessageIds.parseHex(f.id()) : 0, f.id(), hex));
  }

  private void onReq(Command.Req r) {
    long delay = Math.min(r.timeoutMs(), settings.maxReqTimeout().toMillis());
    addOp(new Channel.Req(parseId(r.id()), r.id(), MessageIds.isHex(r.id()), delay));
  }

  private void onTouch(Command.Touch t) {
    addOp(new Channel.Touch(parseId(t.id()), t.id(), MessageIds.isHex(t.id())));
  }

  private static long parseId(String id) { return MessageIds.isHex(id) ? MessageIds.parseHex(id) : 0; }

  private void addOp(Channel.Op op) {
    if (opsBatch == null) opsBatch = new ArrayList<>();
    opsBatch.add(op);
  }

  /** Sends consecutive FIN/REQ/TOUCH as one message; its one reply fills one slot. */
  private void flushOps() {
    if (opsBatch == null) return;
    ClientV2.Reply r = ClientV2.Reply.pending();
    client.owe(r);
    opsReplies.add(r);
    channel.tell(new Channel.Operate(connectionId, opsBatch));
    opsBatch = null;
  }

  // ---------------------------------------------------------------- the channel's answers

  private Behavior<SessionCommand> onConsumerEvent(Channel.ConsumerEvent event) {
    if (event instanceof Channel.Deliveries d) {
      client.writeMessages(d.messages());
    } else if (event instanceof Channel.OpsDone done) {
      ClientV2.Reply r = opsReplies.poll();
      if (r != null) {
        if (done.errors().isEmpty()) {
          r.frame = ByteString.emptyByteString();
        } else {
          ByteStringBuilder b = new ByteStringBuilder();
          for (String e : done.errors()) b.append(Frames.error(e));
          r.frame = b.result();
        }
      }
    } else if (event instanceof Channel.Subscribed) {
      if (waiting instanceof ForSubscription) {
        state = State.SUBSCRIBED;
        waiting = FLOWING;
        client.owe(ClientV2.Reply.ready(Frames.OK));
        processInput();
      }
    } else if (event instanceof Channel.SubscribeRefused r) {
      if (waiting instanceof ForSubscription) subFailed(r.error());
    } else if (event instanceof Channel.ChannelGone) {
      closeAfterOwed();
    }
    return afterWork();
  }

  private Behavior<SessionCommand> onChannelTerminated(ChannelTerminated t) {
    if (!t.ref().equals(channel)) return Behaviors.same();
    channel = null;
    if (waiting instanceof ForSubscription sub) {
      // An ephemeral channel may vanish between lookup and subscribe: nsqd retries once.
      if (!sub.retried()) {
        ForSubscription again = new ForSubscription(sub.topic(), sub.channel(), true);
        waiting = again;
        askTopicForSub(again);
      } else {
        subFailed("E_SUB_FAILED SUB failed to deleted topic/channel");
      }
      return afterWork();
    }
    return closeAfterOwed();   // the channel was deleted: nsqd closes its consumers
  }

  // ---------------------------------------------------------------- PUB, MPUB, DPUB

  private void onPub(Command.Pub p) { publish(p, List.of(p.body()), 0); }

  private void onMpub(Command.MPub m) { publish(m, m.bodies(), 0); }

  private void onDpub(Command.DPub d) { publish(d, List.of(d.body()), d.deferMs()); }

  /** {@code command} is the PUB, MPUB or DPUB itself, put back at the front of the input when it has to wait. */
  private void publish(Command command, List<ByteString> bodies, long deferMs) {
    String verb = command.verb();
    String topic = topicOf(command);
    if (!authorized(verb, topic, "", command)) return;
    ActorRef<Topic.Command> t = topics.get(topic);
    if (t == null) {
      // Put the command back and wait for the topic's address: later commands keep their order.
      pendingInput.addFirst(command);
      waiting = new ForTopic(topic);
      registry.tell(new TopicRegistry.GetTopic(topic, true, ctx.messageAdapter(TopicRegistry.TopicLookup.class, WrappedTopicLookup::new)));
      return;
    }
    ClientV2.Reply r = ClientV2.Reply.pending();
    long seq = publishSeq++;
    publishing.put(seq, new Publishing(r, verb, topic, bodies.size()));
    client.owe(r);
    if (publishAdapter == null) publishAdapter = ctx.messageAdapter(Topic.PublishResult.class, WrappedPublishResult::new);
    t.tell(new Topic.Publish(seq, bodies, deferMs, publishAdapter));
  }

  private static String topicOf(Command command) {
    if (command instanceof Command.Pub p) return p.topic();
    if (command instanceof Command.MPub m) return m.topic();
    return ((Command.DPub) command).topic();
  }

  private Behavior<SessionCommand> onTopicLookup(TopicRegistry.TopicLookup lookup) {
    if (lookup.topic() != null && !topics.containsKey(lookup.name())) {
      topics.put(lookup.name(), lookup.topic());
      ctx.watchWith(lookup.topic(), new TopicTerminated(lookup.name(), lookup.topic()));
    }
    if (waiting instanceof ForSubscription sub && lookup.name().equals(sub.topic())) {
      askTopicForSub(sub);
      return afterWork();
    }
    if (waiting instanceof ForTopic wanted && wanted.topic().equals(lookup.name())) {
      waiting = FLOWING;
      if (lookup.topic() == null) {
        String verb = ((Command) pendingInput.poll()).verb();
        client.fatal("E_" + verb + "_FAILED " + verb + " failed exiting");
      }
      processInput();
    }
    return afterWork();
  }

  private Behavior<SessionCommand> onPublishResult(Topic.PublishResult result) {
    Publishing p = publishing.remove(result.seq());
    if (p == null) return Behaviors.same();
    if (result.accepted()) {
      p.reply().frame = Frames.OK;
      pubCounts.merge(p.topic(), (long) p.messageCount(), Long::sum);
    } else {
      p.reply().frame = Frames.error("E_" + p.verb() + "_FAILED " + p.verb() + " failed " + result.reason());
      p.reply().closes = true;
    }
    return afterWork();
  }

  private Behavior<SessionCommand> onTopicTerminated(TopicTerminated t) {
    if (t.ref().equals(topics.get(t.topic()))) topics.remove(t.topic());
    // Publishes it never answered fail as nsqd's do for a topic being deleted.
    publishing.values().removeIf(p -> {
      if (p.reply().frame != null || !t.topic().equals(p.topic())) return false;
      p.reply().frame = Frames.error("E_" + p.verb() + "_FAILED " + p.verb() + " failed exiting");
      p.reply().closes = true;
      return true;
    });
    return afterWork();
  }

  // ---------------------------------------------------------------- output and liveness (ClientV2's)

  /** Lets ready replies out, and reads on if there is room; stops once closed and the input has ended. */
  private Behavior<SessionCommand> afterWork() {
    client.settle();
    if (client.closing()) pendingInput.clear();
    else maybeAckInput();
    if (client.closed() && inputEnded) return Behaviors.stopped();
    return Behaviors.same();
  }

  private Behavior<SessionCommand> closeAfterOwed() {
    client.drain();
    pendingInput.clear();
    return afterWork();
  }

  /** Once the connection is closed the subscription ends, so the channel hands its in-flight messages on now. */
  private void unsubscribe() {
    if (channel != null) {
      channel.tell(new Channel.Unsubscribe(connectionId));
      ctx.unwatch(channel);
      channel = null;
    }
  }

  private Behavior<SessionCommand> onOutputStarted(OutputStarted s) {
    client.outputStarted(s.out());
    return afterWork();
  }

  private Behavior<SessionCommand> onOutputAck() {
    client.outputAcked();
    return afterWork();
  }

  private Behavior<SessionCommand> onHeartbeat() {
    client.onHeartbeat();
    return afterWork();
  }

  private Behavior<SessionCommand> onReadDeadline() {
    client.onReadDeadline();
    return afterWork();
  }

  private Behavior<SessionCommand> onIdleCheck() {
    if (!engaged && !client.closed()) {
      // Only NOPs (or nothing) for a whole client timeout: nobody is using this connection.
      log.info("client {} did not IDENTIFY, AUTH, SUB or publish within {}, closing", remoteAddress,
          settings.clientTimeout());
      client.drain();
      client.close(true);
    }
    return afterWork();
  }

  // ---------------------------------------------------------------- stats and shutdown

  private Behavior<SessionCommand> onReportProducer(ReportProducer r) {
    r.replyTo().tell(new ProducerReport(pubCounts.isEmpty() ? null
        : new Connections.Producer(clientInfo(), state.number, Map.copyOf(pubCounts))));
    return Behaviors.same();
  }

  private ClientInfo clientInfo() {
    return new ClientInfo(connectionId, identity.clientId(), identity.hostname(), identity.userAgent(),
        remoteAddress, connectTs, sampleRate, identity.tls(), identity.snappy(), identity.deflate());
  }

  private Behavior<SessionCommand> onStop() {
    log.info("PROTOCOL(V2): [{}] exiting ioloop", remoteAddress);   // nsqd's line when a client goes
    if (channel != null) channel.tell(new Channel.Unsubscribe(connectionId));
    if (inputAckTo != null) inputAckTo.tell(InputAck.INSTANCE);
    return Behaviors.same();
  }
}
