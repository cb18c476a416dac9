package io.jnsq.protocol;

/** What the decoder hands to a connection: a well-formed {@link Command} or a {@link ProtocolError}. */
public sealed interface Inbound permits Command, ProtocolError {}
