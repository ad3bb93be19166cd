package hello;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.CancelledKeyException;
import java.nio.channels.SelectionKey;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.exceptions.WebsocketNotConnectedException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.framing.Framedata;
import org.java_websocket.framing.PingFrame;

/** One client's session on the server: its timers, heartbeat, answers and end. */
final class Session {
  /** A session whose client reads nothing holds at most this much in its send queue. */
  private static final int MAX_QUEUED_FRAMES = 64;

  private static final long MAX_QUEUED_BYTES = 4L << 20;

  /** How long a Close may wait for a client that does not read before the TCP link is cut. */
  private static final long CLOSE_GRACE_MILLIS = 1000;

  private static final int MAX_ERROR_LENGTH = 500;

  private final String id;
  private final String name;
  private final WebSocketImpl connection;
  private final ServerConfig config;
  private final ScheduledExecutorService timers;
  private final Set<Session> registry;
  private final AtomicBoolean ended = new AtomicBoolean();
  private final AtomicLong pingsSent = new AtomicLong();
  private final AtomicLong pingsAnswered = new AtomicLong();
  private final List<ScheduledFuture<?>> repeatingTasks = new CopyOnWriteArrayList<>();
  private volatile Messages.KissResponse latestKiss;

  Session(
      String id,
      String name,
      WebSocketImpl connection,
      ServerConfig config,
      ScheduledExecutorService timers,
      Set<Session> registry) {
    this.id = id;
    this.name = name;
    this.connection = connection;
    this.config = config;
    this.timers = timers;
    this.registry = registry;
  }

  /** Registers the session and starts its Pings and Kiss requests, one interval from now. */
  void start(String kissRequest) {
    registry.add(this);
    Log.out("session+ id=%s name=%s peer=%s", id, name, address(connection));
    repeat(this::ping, config.pingInterval().toMillis());
    repeat(() -> send(kissRequest), config.kissInterval().toMillis());
    if (ended.get()) {
      repeatingTasks.forEach(task -> task.cancel(false));
    }
  }

  void receive(String text) {
    if (ended.get()) {
      return;
    }
    Messages.Incoming message = Messages.readByServer(text);
    if (message instanceof Messages.EchoRequest request) {
      send(Messages.echoResponse(request));
    } else if (message instanceof Messages.KissResponse kiss) {
      latestKiss = kiss;
      Log.out(
          "kiss id=%s name=%s language=%s encoding=%s time_zone=%s",
          id, name, kiss.language(), kiss.encoding(), kiss.timeZone());
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
    send(Messages.errorResponse(error));
  }

  /** Any Pong that arrives after a Ping answers it. */
  void pongReceived() {
    pingsAnswered.set(pingsSent.get());
  }

  /** Called when the library has closed the connection, whoever started it. */
  void closed(int code, String reason, boolean remote) {
    end(describeClose(code, reason, remote));
  }

  /** Closes the session with 1001 because the server is going away. */
  void shutdown() {
    if (end("shutdown")) {
      closeSoon(CloseFrame.GOING_AWAY, "server shutting down");
    }
  }

  private void ping() {
    long number = pingsSent.incrementAndGet();
    PingFrame ping = new PingFrame();
    ping.setPayload(ByteBuffer.allocate(Long.BYTES).putLong(0, number));
    send(ping);
    timers.schedule(
        () -> {
          if (pingsAnswered.get() < number) {
            evict();
          }
        },
        config.pongTimeout().toMillis(),
        TimeUnit.MILLISECONDS);
  }

  private void evict() {
    if (end("pong timeout")) {
      closeSoon(CloseFrame.POLICY_VALIDATION, "pong timeout");
    }
  }

  /** Logs the end of the session once, whatever ends it first; false if it had already ended. */
  private boolean end(String reason) {
    if (!ended.compareAndSet(false, true)) {
      return false;
    }
    registry.remove(this);
    repeatingTasks.forEach(task -> task.cancel(false));
    Log.out("session- id=%s name=%s reason=%s", id, name, reason);
    return true;
  }

  /** Sends Close, and cuts the connection if the client has not answered it in a short while. */
  private void closeSoon(int code, String reason) {
    connection.close(code, reason);
    timers.schedule(
        () -> connection.closeConnection(code, reason), CLOSE_GRACE_MILLIS, TimeUnit.MILLISECONDS);
  }

  private void send(String message) {
    try {
      connection.send(message);
    } catch (WebsocketNotConnectedException e) {
      return;
    }
    pauseReadingWhileQueueIsFull();
  }

  private void send(Framedata frame) {
    try {
      connection.sendFrame(frame);
    } catch (WebsocketNotConnectedException e) {
      return;
    }
    pauseReadingWhileQueueIsFull();
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

  private void repeat(Runnable task, long periodMillis) {
    Runnable guarded =
        () -> {
          try {
            task.run();
          } catch (RuntimeException e) {
            Log.err("session %s: %s", id, e);
          }
        };
    repeatingTasks.add(
        timers.scheduleAtFixedRate(guarded, periodMillis, periodMillis, TimeUnit.MILLISECONDS));
  }

  private static String describeClose(int code, String reason, boolean remote) {
    if (code == CloseFrame.ABNORMAL_CLOSE) {
      return "error: connection lost without a Close";
    }
    if (remote) {
      return "client closed";
    }
    switch (code) {
      case CloseFrame.NO_UTF8:
        return "error: text message is not valid UTF-8 (1007)";
      case CloseFrame.TOOBIG:
        return "error: message larger than the limit (1009)";
      default:
        return "error: closed with " + code + " " + reason;
    }
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
