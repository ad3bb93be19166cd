package hello;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.java_websocket.framing.PingFrame;

/**
 * The JSON dialect of a session (PROTOCOL.md sections 3 to 6): answers, WebSocket Pings with
 * eviction by the pong timeout, and Kiss requests. Its timers run from the handshake until the
 * session turns out to be v1.
 */
final class JsonSession {
  private static final int MAX_ERROR_LENGTH = 500;

  private final Session session;
  private final ServerContext context;
  private final AtomicLong pingsSent = new AtomicLong();
  private final AtomicLong pingsAnswered = new AtomicLong();
  private volatile ScheduledFuture<?> pings;
  private volatile ScheduledFuture<?> kisses;

  JsonSession(Session session, ServerContext context) {
    this.session = session;
    this.context = context;
  }

  /** Pings and Kiss requests, each first one interval from now. */
  void startTimers() {
    pings = session.repeat(this::ping, context.config().pingInterval().toMillis());
    kisses = session.repeat(this::kiss, context.config().kissInterval().toMillis());
  }

  void stopTimers() {
    for (ScheduledFuture<?> timer : new ScheduledFuture<?>[] {pings, kisses}) {
      if (timer != null) {
        timer.cancel(false);
      }
    }
  }

  void receive(String text) {
    Messages.Incoming message = Messages.readByServer(text);
    if (message instanceof Messages.EchoRequest request) {
      session.send(Messages.echoResponse(request));
    } else if (message instanceof Messages.KissResponse kiss) {
      session.kissReceived(kiss.language(), kiss.encoding(), kiss.timeZone());
    } else if (message instanceof Messages.Malformed malformed) {
      replyError(malformed.problem());
    }
  }

  /** A binary message carries the same JSON as a text one, as UTF-8. */
  void receive(ByteBuffer bytes) {
    String text;
    try {
      text = StandardCharsets.UTF_8.newDecoder().decode(bytes).toString();
    } catch (CharacterCodingException e) {
      replyError("message is not JSON: the binary message is not valid UTF-8");
      return;
    }
    receive(text);
  }

  void replyError(String problem) {
    String error =
        problem.length() > MAX_ERROR_LENGTH
            ? problem.substring(0, MAX_ERROR_LENGTH) + "…"
            : problem;
    session.send(Messages.errorResponse(error));
  }

  /** Any Pong that arrives after a Ping answers it. */
  void pongReceived() {
    pingsAnswered.set(pingsSent.get());
  }

  private void ping() {
    if (session.dialect() == Session.Dialect.V1) {
      return;
    }
    long number = pingsSent.incrementAndGet();
    PingFrame ping = new PingFrame();
    ping.setPayload(ByteBuffer.allocate(Long.BYTES).putLong(0, number));
    session.send(ping);
    context
        .timers()
        .schedule(
            () -> {
              if (pingsAnswered.get() < number && session.dialect() != Session.Dialect.V1) {
                session.evict();
              }
            },
            context.config().pongTimeout().toMillis(),
            TimeUnit.MILLISECONDS);
  }

  /** A session that has said nothing by its first Kiss is a JSON session (section 12.1). */
  private void kiss() {
    if (session.fixDialect(Session.Dialect.JSON) == Session.Dialect.JSON) {
      session.send(context.jsonKissRequest());
    }
  }
}
