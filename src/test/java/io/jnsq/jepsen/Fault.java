package io.jnsq.jepsen;

/**
 * Something the nemesis does to the system and then undoes: kill a node and start it again, pause it
 * and resume it, partition it and heal the partition. {@link Nemesis} records both in the history.
 */
public interface Fault {
  /** What this fault is, as the history and the figures name it ({@code "kill -9 node 0"}). */
  String name();

  void inject() throws Exception;

  void heal() throws Exception;

  /** An action that may throw, so that faults can be written as lambdas. */
  interface Action {
    void run() throws Exception;
  }

  /** A fault from its name and two actions. */
  static Fault of(String name, Action inject, Action heal) {
    return new Fault() {
      @Override public String name() { return name; }
      @Override public void inject() throws Exception { inject.run(); }
      @Override public void heal() throws Exception { heal.run(); }
      @Override public String toString() { return name; }
    };
  }
}
