package hello;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.enums.ReadyState;
import org.java_websocket.exceptions.WebsocketNotConnectedException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.framing.Framedata;

/**
 * One client's session on the server: what both dialects share (registry, log lines, sending,
 * closing). The first data message fixes the dialect (PROTOCOL.md section 12.1); {@link
 * JsonSession} and {@link V1Session} do the rest.
 */
final class Session {
  /** The dialect a session speaks once fixed. */
  enum Dialect {
    JSON,
    V1;

    String label() {
      return name().toLowerCase();
    }
  }

  /** A session whose client reads nothing holds at most this much in its send queue. */
  private static final int MAX_QUEUED_FRAMES = 64;

  private static final long MAX_QUEUED_BYTES = 4L << 20;

  private final String id;
  private final String name;
  private final WebSocketImpl connection;
  private final ServerContext context;
  private final AtomicBoolean ended = new AtomicBoolean();
  private final List<ScheduledFuture<?>> repeatingTasks = new CopyOnWriteArrayList<>();
  private final JsonSession json;
  private volatile Dialect dialect;
  private volatile V1Session v1;

  Session(String id, String name, WebSocketImpl connection, ServerContext context) {
    this.id = id;
    this.name = name;
    this.connection = connection;
    this.context = context;
    this.json = new JsonSession(this, context);
  }

  String id() {
    return id;
  }

  /** Registers the session and starts the timers of its dialect, or JSON's while it has none. */
  void start() {
    context.registry().add(this);
    Log.out("session+ id=%s name=%s peer=%s", id, Log.quoted(name), address(connection));
    switch (context.config().dialects()) {
      case V1 -> fixDialect(Dialect.V1);
      case JSON -> {
        fixDialect(Dialect.JSON);
        json.startTimers();
      }
      case AUTO -> json.startTimers();
    }
    if (ended.get()) {
      cancelTimers();
    }
  }

  /**
   * Fixes the session's dialect unless it already has one, and returns the dialect it has. A v1
   * session's timers start now, and JSON's stop.
   */
  Dialect fixDialect(Dialect wanted) {
    synchronized (this) {
      if (dialect != null) {
        return dialect;
      }
      dialect = wanted;
      if (wanted == Dialect.V1) {
        json.stopTimers();
        v1 = new V1Session(this, context);
      }
    }
    if (wanted == Dialect.V1) {
      v1.startTimers();
    }
    return wanted;
  }

  Dialect dialect() {
    return dialect;
  }

  void receive(String text) {
    if (ended.get()) {
      return;
    }
    if (fixDialect(Dialect.JSON) == Dialect.V1) {
      v1.receiveText();
    } else {
      json.receive(text);
    }
  }

  /** A binary message starting with 0x48 makes a new session v1; anything else, JSON. */
  void receive(ByteBuffer bytes) {
    if (ended.get()) {
      return;
    }
    boolean looksV1 =
        bytes.hasRemaining() && Byte.toUnsignedInt(bytes.get(bytes.position())) == V1Codec.MAGIC;
    if (fixDialect(looksV1 ? Dialect.V1 : Dialect.JSON) == Dialect.V1) {
      v1.receive(bytes);
    } else {
      json.receive(bytes);
    }
  }

  /** A message the server could not handle (a bug, or a stack too deep for the JSON parser). */
  void failedToHandle(Throwable error) {
    if (dialect == Dialect.V1) {
      Log.err("session %s: %s", id, error);
    } else {
      json.replyError("the server could not handle this message: " + error);
    }
  }

  /** A WebSocket Pong: JSON's heartbeat. */
  void pongReceived() {
    json.pongReceived();
  }

  /** Logs the latest Kiss response, of either dialect. */
  void kissReceived(String language, String encoding, String timeZone) {
    Log.out(
        "kiss id=%s name=%s language=%s encoding=%s time_zone=%s",
        id, Log.quoted(name), Log.quoted(language), Log.quoted(encoding), Log.quoted(timeZone));
  }

  /** Called when the library has closed the connection, whoever started it. */
  void closed(int code, String reason, boolean remote) {
    if (remote && ServerDraft.clientCloseHadNoCode(connection)) {
      code = CloseFrame.NOCODE;
    }
    end(describeClose(code, reason, remote));
  }

  /** Closes the session with 1001 because the server is going away. */
  void shutdown() {
    endAndClose("shutdown", CloseFrame.GOING_AWAY, "server shutting down");
  }

  /** Closes the session with 1008: no Pong (JSON) or no matching PONG (v1) came in time. */
  void evict() {
    endAndClose("pong timeout", CloseFrame.POLICY_VALIDATION, "pong timeout");
  }

  /** Ends the session for the reason given, then sends Close and aborts if it goes unanswered. */
  void endAndClose(String reason, int code, String closeReason) {
    if (!end(reason)) {
      return;
    }
    connection.close(code, closeReason);
    // Java-WebSocket closes the socket once its Close is written out (then it lingers); a client
    // that is not reading never lets it be written, and is aborted with a reset here.
    context
        .timers()
        .schedule(
            () -> {
              if (connection.getReadyState() != ReadyState.CLOSED) {
                AcceptedSocket socket = ServerTransport.socketOf(connection);
                if (socket != null) {
                  socket.abort();
                }
                connection.closeConnection(code, closeReason);
              }
            },
            context.config().closeTimeout().toMillis(),
            TimeUnit.MILLISECONDS);
  }

  /** Logs the end of the session once, whatever ends it first; false if it had already ended. */
  private boolean end(String reason) {
    if (!ended.compareAndSet(false, true)) {
      return false;
    }
    context.registry().remove(this);
    cancelTimers();
    Dialect spoken = dialect;
    Log.out(
        "session- id=%s name=%s reason=%s dialect=%s",
        id, Log.quoted(name), reason, spoken == null ? "none" : spoken.label());
    return true;
  }

  boolean hasEnded() {
    return ended.get();
  }

  void send(String message) {
    try {
      connection.send(message);
    } catch (WebsocketNotConnectedException e) {
      return;
    }
    pauseReadingWhileQueueIsFull();
  }

  void send(byte[] binary) {
    try {
      connection.send(binary);
    } catch (WebsocketNotConnectedException e) {
      return;
    }
    pauseReadingWhileQueueIsFull();
  }

  void send(Framedata frame) {
    try {
      connection.sendFrame(frame);
    } catch (WebsocketNotConnectedException e) {
      return;
    }
    pauseReadingWhileQueueIsFull();
  }

  /** Runs {@code task} every period, the first time one period from now, until the session ends. */
  ScheduledFuture<?> repeat(Runnable task, long periodMillis) {
    Runnable guarded =
        () -> {
          try {
            task.run();
          } catch (RuntimeException e) {
            Log.err("session %s: %s", id, e);
          }
        };
    ScheduledFuture<?> future =
        context
            .timers()
            .scheduleAtFixedRate(guarded, periodMillis, periodMillis, TimeUnit.MILLISECONDS);
    repeatingTasks.add(future);
    if (ended.get()) {
      future.cancel(false);
    }
    return future;
  }

  private void cancelTimers() {
    repeatingTasks.forEach(task -> task.cancel(false));
  }

  /**
   * Java-WebSocket's send queue has no bound, so the session bounds it here: when the queue is full
   * (the client is not reading), the server stops reading this client's requests. The library's
   * selector asks to read again once it has written the whole queue, and a client that stays silent
   * is evicted by the pong timeout.
   */
  private void pauseReadingWhileQueueIsFull() {
    if (!isSendQueueFull()) {
      return;
    }
    SelectionKey key = connection.getSelectionKey();
    try {
      key.interestOps(SelectionKey.OP_WRITE);
      key.selector().wakeup();
    } catch (CancelledKeyException e) {
      // The connection is closing: nothing left to hold back.
    }
  }

  private boolean isSendQueueFull() {
    if (connection.outQueue.size() >= MAX_QUEUED_FRAMES) {
      return true;
    }
    long bytes = 0;
    for (ByteBuffer frame : connection.outQueue) {
      bytes += frame.remaining();
    }
    return bytes >= MAX_QUEUED_BYTES;
  }

  private static String describeClose(int code, String reason, boolean remote) {
    if (code == CloseFrame.ABNORMAL_CLOSE) {
      return "client vanished";
    }
    if (remote) {
      // The client's Close ended the session: its code, 1005 when it had none (PROTOCOL.md
      // section 7). A v1 DISCONNECT ends the session elsewhere, without a code.
      return "client closed code=" + code;
    }
    return switch (code) {
      case CloseFrame.NO_UTF8 -> "error: text message is not valid UTF-8 (1007)";
      case CloseFrame.TOOBIG -> "error: message larger than the limit (1009)";
      case CloseFrame.PROTOCOL_ERROR -> "error: WebSocket protocol violation (1002)";
      default -> "error: closed with " + code;
    };
  }

  static String address(WebSocketImpl connection) {
    InetSocketAddress address = connection.getRemoteSocketAddress();
    if (address == null) {
      return "unknown";
    }
    String host = address.getAddress().getHostAddress();
    if (address.getAddress() instanceof Inet6Address) {
      host = "[" + host.replaceFirst("(^|:)(0(:|$)){2,}", "::") + "]";
    }
    return host + ":" + address.getPort();
  }
}
