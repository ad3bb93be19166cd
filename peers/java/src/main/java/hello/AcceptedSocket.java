package hello;

import java.io.IOException;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One accepted TCP connection, below the WebSocket library: it holds the connection's place under
 * {@code --max-connections} until the socket really closes, and closes it in one of three ways. A
 * lingering close shuts the sending side and reads on (PROTOCOL.md section 7); an abort sends a
 * reset (section 5); a plain close does neither.
 */
final class AcceptedSocket {
  private enum State {
    OPEN,
    LINGERING,
    CLOSED
  }

  private final SocketChannel channel;
  private final ConnectionLimit limit;
  private final boolean overLimit;
  private final Lingerer lingerer;
  private final AtomicReference<State> state = new AtomicReference<>(State.OPEN);
  private volatile Refusal refusal;

  /** An HTTP answer sent in place of the library's, and what to do once it is written. */
  private record Refusal(ByteBuffer response, Runnable afterWritten) {}

  /** Where the bytes go: the plain channel, or the TLS channel's own write. */
  @FunctionalInterface
  interface Output {
    int write(ByteBuffer src) throws IOException;
  }

  AcceptedSocket(SocketChannel channel, ConnectionLimit limit, Lingerer lingerer) {
    this.channel = channel;
    this.limit = limit;
    this.overLimit = !limit.acquire();
    this.lingerer = lingerer;
  }

  SocketChannel channel() {
    return channel;
  }

  /** True when this connection came beyond {@code --max-connections}: its handshake is refused. */
  boolean overLimit() {
    return overLimit;
  }

  /**
   * Answers the handshake being refused with {@code status} instead of the library's fixed {@code
   * 404 WebSocket Upgrade Failure}: the next thing the library writes (its error answer) is
   * replaced by this one, and {@code afterWritten} runs once it is all written.
   */
  void refuse(int status, String statusText, String body, Runnable afterWritten) {
    byte[] content = body.getBytes(StandardCharsets.UTF_8);
    String head =
        "HTTP/1.1 "
            + status
            + " "
            + statusText
            + "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "
            + content.length
            + "\r\nConnection: close\r\n\r\n";
    ByteBuffer response = ByteBuffer.allocate(head.length() + content.length);
    response.put(head.getBytes(StandardCharsets.US_ASCII)).put(content).flip();
    refusal = new Refusal(response, afterWritten);
  }

  /**
   * Writes {@code src} to {@code out}, unless a refusal is waiting: then the refusal is written in
   * its place and {@code src} is reported written (once the refusal is all out).
   */
  int write(ByteBuffer src, Output out) throws IOException {
    Refusal waiting = refusal;
    if (waiting == null) {
      return out.write(src);
    }
    out.write(waiting.response());
    if (waiting.response().hasRemaining()) {
      return 0;
    }
    refusal = null;
    int replaced = src.remaining();
    src.position(src.limit());
    waiting.afterWritten().run();
    return replaced;
  }

  boolean isOpen() {
    return state.get() == State.OPEN && channel.isOpen();
  }

  /**
   * Sends FIN after what was written, then reads and discards the client's input until it closes
   * its side, for at most the close timeout and the linger limit; a client still writing then reads
   * the server's Close instead of a reset.
   */
  void lingerThenClose() {
    if (!state.compareAndSet(State.OPEN, State.LINGERING)) {
      return;
    }
    try {
      channel.shutdownOutput();
    } catch (IOException e) {
      close();
      return;
    }
    lingerer.linger(this);
  }

  /** Closes at once with SO_LINGER 0: the kernel sends a reset and drops the unsent data. */
  void abort() {
    try {
      channel.setOption(StandardSocketOptions.SO_LINGER, 0);
    } catch (IOException | RuntimeException e) {
      // Already closed, or the option is refused: the close below is all that is left.
    }
    close();
  }

  /** Closes the socket, whatever it was doing, and frees its place; once. */
  void close() {
    if (state.getAndSet(State.CLOSED) == State.CLOSED) {
      return;
    }
    try {
      channel.close();
    } catch (IOException e) {
      // Closed all the same.
    } finally {
      limit.release();
    }
  }
}
