package hello;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.time.Duration;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The lingering close of PROTOCOL.md section 7, for every closed session of the server: one thread
 * reads and throws away what clients still send after the server closed its side, until each client
 * closes its own (then the socket is closed), or past the close timeout or the linger limit (then
 * it is aborted with a reset).
 */
final class Lingerer implements Runnable {
  static final long LINGER_BYTES = 16L << 20;

  private final Duration closeTimeout;
  private final Selector selector;
  private final Queue<AcceptedSocket> arriving = new ConcurrentLinkedQueue<>();
  private final ByteBuffer discard = ByteBuffer.allocate(64 << 10);

  /** What one lingering socket may still cost: a deadline and a byte budget. */
  private static final class Lingering {
    final AcceptedSocket socket;
    final long deadlineNanos;
    long bytesLeft = LINGER_BYTES;

    Lingering(AcceptedSocket socket, long deadlineNanos) {
      this.socket = socket;
      this.deadlineNanos = deadlineNanos;
    }
  }

  Lingerer(Duration closeTimeout) throws IOException {
    this.closeTimeout = closeTimeout;
    this.selector = Selector.open();
    Thread thread = new Thread(this, "lingering-close");
    thread.setDaemon(true);
    thread.start();
  }

  /** Takes a socket whose sending side is shut; it is closed here, one way or the other. */
  void linger(AcceptedSocket socket) {
    arriving.add(socket);
    selector.wakeup();
  }

  @Override
  public void run() {
    while (true) {
      try {
        registerArrivals();
        selector.select(Math.max(1, nextDeadlineMillis()));
        for (SelectionKey key : selector.selectedKeys()) {
          drain((Lingering) key.attachment());
        }
        selector.selectedKeys().clear();
        abortOverdue();
      } catch (IOException | RuntimeException e) {
        Log.err("lingering close: %s", e);
      }
    }
  }

  private void registerArrivals() {
    AcceptedSocket socket;
    while ((socket = arriving.poll()) != null) {
      Lingering lingering = new Lingering(socket, System.nanoTime() + closeTimeout.toNanos());
      try {
        socket.channel().register(selector, SelectionKey.OP_READ, lingering);
      } catch (ClosedChannelException | RuntimeException e) {
        socket.close();
      }
    }
  }

  /** Reads what is there; closes on the client's end of input, aborts past the byte budget. */
  private void drain(Lingering lingering) {
    try {
      int read;
      while ((read = lingering.socket.channel().read(discard.clear())) > 0) {
        lingering.bytesLeft -= read;
        if (lingering.bytesLeft < 0) {
          lingering.socket.abort();
          return;
        }
      }
      if (read < 0) {
        lingering.socket.close();
      }
    } catch (IOException e) {
      lingering.socket.close();
    }
  }

  private void abortOverdue() {
    long now = System.nanoTime();
    for (SelectionKey key : selector.keys()) {
      Lingering lingering = (Lingering) key.attachment();
      if (key.isValid() && now - lingering.deadlineNanos >= 0) {
        lingering.socket.abort();
      }
    }
  }

  private long nextDeadlineMillis() {
    long now = System.nanoTime();
    long next = closeTimeout.toNanos();
    for (SelectionKey key : selector.keys()) {
      if (key.isValid()) {
        next = Math.min(next, ((Lingering) key.attachment()).deadlineNanos - now);
      }
    }
    return Duration.ofNanos(Math.max(0, next)).toMillis() + 1;
  }
}
