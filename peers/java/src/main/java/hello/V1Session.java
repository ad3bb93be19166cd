package hello;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import org.java_websocket.framing.CloseFrame;

/**
 * The v1 dialect of a session (PROTOCOL.md section 12): answers to each frame, and the PING,
 * TIME_NOTIFICATION and KISS_REQUEST timers, from when the session became v1. The session lives on
 * only through PONGs that match a PING it sent.
 */
final class V1Session {
  /** A PING not matched yet: its timestamp and when it was sent, on the server's clock. */
  private record SentPing(long timestampMs, long sentNanos) {}

  private final Session session;
  private final ServerContext context;
  private final ServerConfig.V1Timings timings;
  private final long timeoutNanos;

  /** Guarded by this: the PINGs not matched yet, oldest first, and when the session expires. */
  private final Deque<SentPing> outstanding = new ArrayDeque<>();

  private long expiresNanos;

  V1Session(Session session, ServerContext context) {
    this.session = session;
    this.context = context;
    this.timings = context.config().v1();
    this.timeoutNanos = timings.sessionTimeout().toNanos();
    this.expiresNanos = System.nanoTime() + timeoutNanos;
  }

  void startTimers() {
    session.repeat(this::ping, timings.pingInterval().toMillis());
    session.repeat(
        () -> session.send(V1Codec.encode(V1Codec.timeNotification(Instant.now()))),
        timings.timeInterval().toMillis());
    session.repeat(() -> session.send(context.v1KissRequest()), timings.kissInterval().toMillis());
  }

  void receive(ByteBuffer frame) {
    V1Message message;
    try {
      message = V1Codec.decode(frame);
    } catch (V1Codec.FrameException e) {
      refuse(e.code(), e.getMessage());
      return;
    }
    if (!message.type().sentByClient()) {
      refuse(V1Message.ErrorCode.UNKNOWN_TYPE, message.type() + " is sent by a server, not to one");
      return;
    }
    if (message instanceof V1Message.Hello) {
      session.send(V1Codec.encode(new V1Message.Bonjour(Messages.LANGUAGE_TAG)));
    } else if (message instanceof V1Message.EchoRequest request) {
      session.send(V1Codec.encode(V1Codec.echoAnswer(request, Messages.LANGUAGE_TAG)));
    } else if (message instanceof V1Message.KissResponse kiss) {
      session.kissReceived(kiss.language(), kiss.encoding(), kiss.timeZone());
    } else if (message instanceof V1Message.Pong pong) {
      matchPong(pong.timestampMs());
    } else if (message instanceof V1Message.RandomNumber random) {
      session.send(
          V1Codec.encode(
              new V1Message.HashResponse(random.id(), V1Codec.hashHex(random.number()))));
    } else if (message instanceof V1Message.Disconnect) {
      session.endAndClose("client closed", CloseFrame.NORMAL, "disconnect");
    }
    // The client's own ERROR gets no answer.
  }

  /** A text message on a v1 session is a decode error. */
  void receiveText() {
    refuse(
        V1Message.ErrorCode.DECODE,
        "a text message on a v1 session; v1 frames are binary messages");
  }

  /**
   * Sends ERROR; codes other than 2 then close the session with 1002. The answers to earlier frames
   * are already queued, so they go out first.
   */
  private void refuse(int code, String problem) {
    session.send(V1Codec.encode(new V1Message.Error(code, problem)));
    if (V1Message.ErrorCode.closesSession(code)) {
      session.endAndClose(
          "error: malformed v1 frame (ERROR " + code + ")",
          CloseFrame.PROTOCOL_ERROR,
          "malformed v1 frame");
    }
  }

  /** Evicts an expired session, else sends a PING and remembers its timestamp. */
  private void ping() {
    long now = System.nanoTime();
    long timestampMs = System.currentTimeMillis();
    boolean expired;
    synchronized (this) {
      expired = now - expiresNanos >= 0;
      if (!expired) {
        outstanding.removeIf(ping -> now - ping.sentNanos() >= timeoutNanos);
        if (outstanding.size() >= timings.outstandingPings()) {
          outstanding.removeFirst();
        }
        outstanding.addLast(new SentPing(timestampMs, now));
      }
    }
    if (expired) {
      session.evict();
      return;
    }
    session.send(V1Codec.encode(new V1Message.Ping(timestampMs)));
  }

  /** A PONG extends the session only when it echoes a PING sent within the timeout, once. */
  private synchronized void matchPong(long timestampMs) {
    long now = System.nanoTime();
    for (var pings = outstanding.iterator(); pings.hasNext(); ) {
      SentPing ping = pings.next();
      if (ping.timestampMs() == timestampMs && now - ping.sentNanos() < timeoutNanos) {
        pings.remove();
        expiresNanos = now + timeoutNanos;
        return;
      }
    }
  }
}
