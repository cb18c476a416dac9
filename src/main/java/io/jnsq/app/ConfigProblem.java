package io.jnsq.app;

/**
 * A flag or config key that the node refuses to start with: its message is one line naming the flag or
 * key, the value and what is allowed; {@code bin/jnsq node} prints it and exits with status 2.
 */
final class ConfigProblem extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;

  ConfigProblem(String message) {
    super(message);
  }
}
