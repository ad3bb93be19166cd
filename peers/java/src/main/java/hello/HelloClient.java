package hello;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.client.WebSocketClient;
import org.java_websocket.drafts.Draft;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.exceptions.WebsocketNotConnectedException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.framing.Framedata;
import org.java_websocket.handshake.ServerHandshake;

/**
 * The client side of one session: sends the Echo requests, checks each answer against its request,
 * answers Kiss requests, and remembers everything that went wrong.
 *
 * <p>It runs the closing handshake itself (RFC 6455, sections 5.5.1 and 7.1.1) rather than through
 * the library's {@code close()}: after that the library stops reading at whatever frame comes next
 * (a Kiss request or a Ping the server sent before it saw the Close) and shuts the socket at once,
 * and its writer thread, interrupted while it writes an earlier frame, drops the queued Close; the
 * server then sees the connection end without a Close. Here the Close is sent as an ordinary frame,
 * nothing is sent after it, and the client reads on until the server closes the TCP connection.
 */
final class HelloClient extends WebSocketClient {
  private static final String[] GREETINGS = {
    "Hello", "Bonjour", "Hola", "こんにちは", "Ciao", "안녕하세요", "你好"
  };

  private final int count;
  private final Messages.KissResponse kissResponse;
  private final Map<BigInteger, String> unanswered = new ConcurrentHashMap<>();
  private final CountDownLatch answered;
  private final CountDownLatch finished = new CountDownLatch(1);
  private final CountDownLatch closed = new CountDownLatch(1);
  private final AtomicInteger kissesAnswered = new AtomicInteger();
  private final AtomicBoolean faulty = new AtomicBoolean();
  private final AtomicBoolean serverSilent = new AtomicBoolean();
  private volatile long lastPingNanos = System.nanoTime();
  private volatile boolean opened;
  private volatile String connectionError;

  /** The first Close sent or received, and by whom; the session ends with it. */
  private record Closing(int code, String reason, boolean byServer) {}

  /** Held while a frame is sent, so that no frame follows the client's Close. */
  private final Object sending = new Object();

  private volatile Closing closing;

  /** Counted down when the server's Close arrives (v1: the answer to DISCONNECT). */
  private final CountDownLatch serverClosed = new CountDownLatch(1);

  /** The v1 side of the session, or null when the client speaks JSON. */
  private final V1Exchange v1;

  HelloClient(ClientConfig config, Messages.KissResponse kissResponse) {
    super(config.url(), new ClosingDraft(), config.headers(), (int) config.timeout().toMillis());
    this.count = config.count();
    this.kissResponse = kissResponse;
    this.answered = new CountDownLatch(count);
    this.v1 = config.dialect() == ClientConfig.Dialect.V1 ? new V1Exchange(this, config) : null;
    // Pings are the server's job here: the library's own keep-alive is off.
    setConnectionLostTimeout(0);
  }

  /** Sends every Echo request at once, ids 1 to count (v1: after HELLO). */
  void sendEchoRequests() {
    for (int i = 1; i <= count; i++) {
      unanswered.put(BigInteger.valueOf(i), GREETINGS[(i - 1) % GREETINGS.length]);
    }
    if (v1 != null) {
      v1.start(count, GREETINGS);
      return;
    }
    synchronized (sending) {
      try {
        for (int i = 1; i <= count && closing == null; i++) {
          BigInteger id = BigInteger.valueOf(i);
          send(Messages.echoRequest(id, unanswered.get(id)));
        }
      } catch (WebsocketNotConnectedException e) {
        Log.err("client: the connection closed while sending the Echo requests");
      }
    }
  }

  /** Waits until every Echo request is answered, the session ends, or the timeout passes. */
  boolean awaitAnswers(Duration timeout) throws InterruptedException {
    answered.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    if (!unanswered.isEmpty()) {
      Log.err("client: no answer for ids %s", new TreeSet<>(unanswered.keySet()));
      return false;
    }
    return true;
  }

  /** Waits until the session ends, a signal stops the client, or the time runs out. */
  void awaitFinished(Duration limit) throws InterruptedException {
    if (limit == null) {
      finished.await();
    } else {
      finished.await(Math.max(0, limit.toMillis()), TimeUnit.MILLISECONDS);
    }
  }

  /** Ends every wait: called on SIGINT and SIGTERM. */
  void stop() {
    finished.countDown();
    while (answered.getCount() > 0) {
      answered.countDown();
    }
  }

  /**
   * Closes with 1000, unless a Close was already sent, and waits up to {@code wait} for the server
   * to answer it and close the TCP connection; past that, the client closes the connection itself.
   */
  void closeNormally(Duration wait, Duration timeout) throws InterruptedException {
    if (v1 != null && v1.disconnect()) {
      // The server answers DISCONNECT with Close 1000, which onCloseFrame answers.
      if (!serverClosed.await(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        Log.err(
            "client: no Close from the server within %s of DISCONNECT; closing with 1000",
            Durations.format(timeout));
      }
    }
    synchronized (sending) {
      if (closing == null && isOpen()) {
        closing = new Closing(CloseFrame.NORMAL, "bye", false);
        sendClose(CloseFrame.NORMAL, "bye");
      }
    }
    if (!closed.await(wait.toMillis(), TimeUnit.MILLISECONDS)) {
      Log.err(
          "client: the server did not end the connection within %s of the Close",
          Durations.format(wait));
      closeConnection(CloseFrame.NORMAL, "bye");
    }
  }

  /**
   * A Close from the server: the answer to the client's, or else answered with its code. Either way
   * the server now closes the TCP connection, and onClose follows.
   */
  private void onCloseFrame(CloseFrame frame) {
    synchronized (sending) {
      if (closing == null) {
        closing = new Closing(frame.getCloseCode(), frame.getMessage(), true);
        sendClose(frame.getCloseCode(), "");
      }
    }
    serverClosed.countDown();
    stop();
  }

  private void sendClose(int code, String reason) {
    CloseFrame frame = new CloseFrame();
    frame.setCode(code);
    frame.setReason(reason);
    try {
      sendFrame(frame);
    } catch (WebsocketNotConnectedException e) {
      // The connection is already gone: onClose has run or is about to.
    }
  }

  /** Sends one binary message unless the client has closed; false when it was not sent. */
  boolean sendBinary(byte[] message) {
    synchronized (sending) {
      if (closing != null) {
        return false;
      }
      try {
        send(message);
        return true;
      } catch (WebsocketNotConnectedException e) {
        return false;
      }
    }
  }

  /** A sign of life from the server: a WebSocket Ping, or a v1 PING. */
  void serverPinged() {
    lastPingNanos = System.nanoTime();
    serverSilent.set(false);
  }

  /** Counts a Kiss request answered, in either dialect, and prints it. */
  void kissAnswered(String request) {
    kissesAnswered.incrementAndGet();
    Log.out(
        "kiss %s -> language=%s encoding=%s time_zone=%s",
        request, kissResponse.language(), kissResponse.encoding(), kissResponse.timeZone());
  }

  /** The Kiss response this client sends: the locale and time zone of its system. */
  Messages.KissResponse kissResponse() {
    return kissResponse;
  }

  /**
   * Matches an Echo answer to its request by id and checks its data, in either dialect; {@code
   * line} is printed when it is right.
   */
  void echoAnswered(BigInteger id, String data, String line) {
    String sent = unanswered.get(id);
    if (sent == null) {
      fault("an Echo response for id " + id + ", which has no request in flight");
      return;
    }
    if (!sent.equals(data)) {
      fault("Echo response " + id + " has data " + data + ", not " + sent);
    } else {
      Log.out("%s", line);
    }
    unanswered.remove(id);
    answered.countDown();
  }

  /** Warns once per silence when the server has sent no Ping for three ping intervals. */
  void warnIfServerSilent(Duration pingInterval) {
    long silence = System.nanoTime() - lastPingNanos;
    if (isOpen()
        && silence > 3 * pingInterval.toNanos()
        && serverSilent.compareAndSet(false, true)) {
      Log.err(
          "client: warning: no Ping from the server for %s (three ping intervals)",
          Durations.format(Duration.ofNanos(silence)));
    }
  }

  /** Exit status 0 only when everything was answered right (and a Kiss, when required). */
  int exitStatus(boolean kissRequired) {
    Log.out(
        "answered %d/%d echo requests, %d kiss requests",
        count - unanswered.size(), count, kissesAnswered.get());
    if (kissRequired && kissesAnswered.get() == 0) {
      Log.err("client: no Kiss request came while connected");
    }
    boolean ok =
        !faulty.get() && unanswered.isEmpty() && (!kissRequired || kissesAnswered.get() > 0);
    return ok ? 0 : 1;
  }

  String connectionError() {
    return connectionError == null ? "no answer" : connectionError;
  }

  @Override
  public void onOpen(ServerHandshake handshake) {
    opened = true;
    String svr = handshake.getFieldValue("SVR");
    String sessionId = handshake.getFieldValue("X-Session-Id");
    Log.out("SVR: %s", svr);
    Log.out("X-Session-Id: %s", sessionId);
    if (svr.isEmpty()) {
      fault("the handshake answer has no SVR header");
    }
    if (!Messages.isUuidV4(sessionId)) {
      fault("X-Session-Id is not a lowercase UUID v4: " + sessionId);
    }
  }

  @Override
  public void onMessage(String text) {
    if (v1 != null) {
      fault("a text message on a v1 session");
      return;
    }
    Messages.Incoming message = Messages.readByClient(text);
    if (message instanceof Messages.EchoResponse response) {
      check(response);
    } else if (message instanceof Messages.KissRequest request) {
      synchronized (sending) {
        if (closing != null) {
          return;
        }
        try {
          send(Messages.kissResponse(kissResponse));
        } catch (WebsocketNotConnectedException e) {
          return;
        }
      }
      kissAnswered(
          String.format(
              "os_name=%s os_version=%s os_release=%s os_architecture=%s",
              request.osName(),
              request.osVersion(),
              request.osRelease(),
              request.osArchitecture()));
    } else if (message instanceof Messages.ErrorResponse error) {
      fault("the server answered with Error " + error.status() + ": " + error.error());
    } else if (message instanceof Messages.Malformed malformed) {
      fault("unusable message from the server: " + malformed.problem());
    }
  }

  @Override
  public void onMessage(ByteBuffer bytes) {
    if (v1 != null) {
      v1.receive(bytes);
      return;
    }
    try {
      onMessage(StandardCharsets.UTF_8.newDecoder().decode(bytes).toString());
    } catch (CharacterCodingException e) {
      fault("the server sent a binary message that is not UTF-8");
    }
  }

  @Override
  public void onWebsocketPing(WebSocket connection, Framedata ping) {
    serverPinged();
    synchronized (sending) {
      if (closing == null) {
        super.onWebsocketPing(connection, ping);
      }
    }
  }

  @Override
  public void onClose(int code, String reason, boolean remote) {
    if (v1 != null) {
      v1.stop();
    }
    if (!opened) {
      if (connectionError == null) {
        connectionError = "closed before the session opened: " + code + " " + reason;
      }
      closed.countDown();
      stop();
      return;
    }
    Closing ending = closing;
    if (ending != null) {
      Log.out(
          "closed code=%d reason=%s by=%s",
          ending.code(), ending.reason(), ending.byServer() ? "server" : "client");
    } else {
      Log.out("closed code=%d reason=%s by=%s", code, reason, remote ? "server" : "client");
    }
    closed.countDown();
    stop();
  }

  @Override
  public void onError(Exception error) {
    if (opened) {
      Log.err("client: %s", error);
    } else if (connectionError == null) {
      connectionError = error.toString();
    }
  }

  private void check(Messages.EchoResponse response) {
    if (!response.idx().equals(response.id().toString())) {
      fault("Echo response " + response.id() + " has idx " + response.idx());
    }
    echoAnswered(
        response.id(),
        response.data(),
        String.format(
            "echo id=%s idx=%s data=%s meta=%s kv.id=%s",
            response.id(), response.idx(), response.data(), response.meta(), response.uuid()));
  }

  void fault(String problem) {
    faulty.set(true);
    Log.err("client: fault of the server: %s", problem);
  }

  /**
   * RFC 6455 as the library speaks it, except that a Close from the server goes to {@link
   * #onCloseFrame} instead of the library's closing, so that reading goes on until the server
   * closes the TCP connection.
   */
  private static final class ClosingDraft extends Draft_6455 {
    @Override
    public void processFrame(WebSocketImpl connection, Framedata frame)
        throws InvalidDataException {
      if (frame instanceof CloseFrame close
          && connection.getWebSocketListener() instanceof HelloClient client) {
        client.onCloseFrame(close);
      } else {
        super.processFrame(connection, frame);
      }
    }

    @Override
    public Draft copyInstance() {
      return new ClosingDraft();
    }
  }
}
