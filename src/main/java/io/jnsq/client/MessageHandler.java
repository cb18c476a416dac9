package io.jnsq.client;

/**
 * Handles one message for a {@link Consumer}. Returning normally FINs the message (unless
 * {@link Message#disableAutoResponse()} was called); throwing REQs it with a delay and counts as a
 * failure for the consumer's backoff.
 */
@FunctionalInterface
public interface MessageHandler {
  /** Called on one of the consumer's handler threads. */
  void handle(Message message) throws Exception;
}
