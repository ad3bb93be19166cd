package hello;

import sun.misc.Signal;

/**
 * SIGINT and SIGTERM handling. The JVM's shutdown hooks cannot choose the exit status (a signal
 * ends the JVM with 130 or 143), so the handlers only wake the main thread, which closes the
 * sessions and exits with the status it decides.
 */
final class Signals {
  private Signals() {}

  static void onInterruptOrTerminate(Runnable action) {
    Signal.handle(new Signal("INT"), signal -> action.run());
    Signal.handle(new Signal("TERM"), signal -> action.run());
  }
}
