package hello;

import java.util.concurrent.atomic.AtomicInteger;

/** Counts the connections open at once, from accept to the socket's close (--max-connections). */
final class ConnectionLimit {
  private final int max;
  private final AtomicInteger open = new AtomicInteger();

  ConnectionLimit(int max) {
    this.max = max;
  }

  /** Counts one more connection; false when it is beyond the limit (it is counted all the same). */
  boolean acquire() {
    return open.incrementAndGet() <= max;
  }

  void release() {
    open.decrementAndGet();
  }
}
