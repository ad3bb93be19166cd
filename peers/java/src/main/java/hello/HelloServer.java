package hello;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.drafts.Draft;
import org.java_websocket.enums.ReadyState;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.framing.Framedata;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.ServerHandshakeBuilder;
import org.java_websocket.server.WebSocketServer;

/**
 * Serves the Hello WebSocket protocol on one port, plain or TLS; sessions live in {@link Session}.
 */
final class HelloServer extends WebSocketServer {
  /** When a refused handshake's answer, if still unwritten, is asked to be written again. */
  private static final long[] ANSWER_AGAIN_AFTER_MILLIS = {50, 250, 1000};

  private final String scheme;
  private final ServerContext context;
  private final CompletableFuture<Void> started = new CompletableFuture<>();

  /** A server for the plain port, or for the TLS port when {@code tls} is not null. */
  HelloServer(
      SSLContext tls, int port, ServerContext context, ConnectionLimit limit, Lingerer lingerer) {
    super(
        new InetSocketAddress(context.config().host(), port),
        List.of(new ServerDraft(context.config().maxMessageSize())));
    this.scheme = tls == null ? "ws" : "wss";
    this.context = context;
    setReuseAddr(true);
    setTcpNoDelay(true);
    // The sessions send their own Pings and evict with 1008; the library's own check is off.
    setConnectionLostTimeout(0);
    setWebSocketFactory(
        new ConnectionFactory(
            tls, context.timers(), context.config().handshakeTimeout(), limit, lingerer));
  }

  /** Binds the port and returns the URL served, naming the port really bound. */
  String listen(Duration timeout) throws Exception {
    start();
    try {
      started.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
    ServerConfig config = context.config();
    String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
    return scheme + "://" + host + ":" + getPort() + config.path();
  }

  @Override
  public ServerHandshakeBuilder onWebsocketHandshakeReceivedAsServer(
      WebSocket connection, Draft draft, ClientHandshake request) throws InvalidDataException {
    String resource = request.getResourceDescriptor();
    int query = resource.indexOf('?');
    String path = query >= 0 ? resource.substring(0, query) : resource;
    // Java-WebSocket answers every refused handshake "404 WebSocket Upgrade Failure": the one
    // beyond --max-connections too, which PROTOCOL.md would answer 503. The refused origin's 403
    // is written in its place by the socket (AcceptedSocket.refuse).
    AcceptedSocket socket = ServerTransport.socketOf(connection);
    if (!path.equals(context.config().path())) {
      throw refused(connection, CloseFrame.POLICY_VALIDATION, "no WebSocket at this path");
    }
    String origin =
        request.hasFieldValue(ServerDraft.ORIGIN)
            ? request.getFieldValue(ServerDraft.ORIGIN)
            : null;
    if (!context.origins().allows(origin)) {
      refuseOrigin(connection, socket, origin);
      throw refused(connection, CloseFrame.POLICY_VALIDATION, "origin refused");
    }
    if (socket != null && socket.overLimit()) {
      throw refused(connection, CloseFrame.TRY_AGAIN_LATER, "at the connection limit");
    }
    ServerHandshakeBuilder response =
        super.onWebsocketHandshakeReceivedAsServer(connection, draft, request);
    String id = UUID.randomUUID().toString();
    String name =
        SessionName.of(
            request.getFieldValue("WhoAmI"),
            request.getFieldValue("userId"),
            SessionName.whoamiQuery(resource),
            id);
    connection.setAttachment(new Session(id, name, (WebSocketImpl) connection, context));
    response.put("SVR", Messages.LANGUAGE_TAG);
    response.put("X-Session-Id", id);
    return response;
  }

  /**
   * Logs a handshake refused for its origin and has it answered 403 (PROTOCOL.md section 2.2); the
   * connection is closed once the answer is out, so that a page cannot hold places with refused
   * handshakes until the handshake timeout.
   */
  private void refuseOrigin(WebSocket connection, AcceptedSocket socket, String origin) {
    Log.out(
        "origin refused peer=%s origin=%s",
        Session.address((WebSocketImpl) connection),
        Log.quoted(SessionName.cut(origin, SessionName.MAX_BYTES)));
    if (socket != null) {
      socket.refuse(
          403,
          "Forbidden",
          "origin not allowed\n",
          () ->
              context
                  .timers()
                  .execute(
                      () ->
                          ((WebSocketImpl) connection)
                              .closeConnection(CloseFrame.NEVER_CONNECTED, "origin refused")));
    }
  }

  /**
   * The exception that makes the library refuse a handshake, once the answer's delivery is made
   * sure of. The library writes the answer from a worker thread and asks the selector thread to
   * write it, but the selector thread can overwrite that demand: with a write of its own in flight
   * (over TLS, right after the TLS handshake) it finds its queue empty, then sets the key back to
   * reading only, after the worker added the answer. An open session recovers at its next frame; a
   * refused handshake has none, and its client would wait for the handshake timeout. So the demand
   * is made again a few times while the answer is still queued.
   */
  private InvalidDataException refused(WebSocket connection, int code, String why) {
    WebSocketImpl impl = (WebSocketImpl) connection;
    for (long delay : ANSWER_AGAIN_AFTER_MILLIS) {
      context
          .timers()
          .schedule(
              () -> {
                if (impl.getReadyState() == ReadyState.NOT_YET_CONNECTED
                    && !impl.outQueue.isEmpty()) {
                  onWriteDemand(impl);
                }
              },
              delay,
              TimeUnit.MILLISECONDS);
    }
    return new InvalidDataException(code, why);
  }

  @Override
  public void onStart() {
    started.complete(null);
  }

  @Override
  public void onOpen(WebSocket connection, ClientHandshake handshake) {
    session(connection).start();
  }

  @Override
  public void onMessage(WebSocket connection, String message) {
    Session session = session(connection);
    try {
      session.receive(message);
    } catch (RuntimeException | StackOverflowError e) {
      session.failedToHandle(e);
    }
  }

  @Override
  public void onMessage(WebSocket connection, ByteBuffer message) {
    Session session = session(connection);
    try {
      session.receive(message);
    } catch (RuntimeException | StackOverflowError e) {
      session.failedToHandle(e);
    }
  }

  @Override
  public void onWebsocketPong(WebSocket connection, Framedata pong) {
    Session session = session(connection);
    if (session != null) {
      session.pongReceived();
    }
  }

  @Override
  public void onClose(WebSocket connection, int code, String reason, boolean remote) {
    Session session = session(connection);
    if (session != null) {
      session.closed(code, reason, remote);
    }
  }

  @Override
  public void onError(WebSocket connection, Exception error) {
    if (connection == null && !started.isDone()) {
      started.completeExceptionally(error);
    } else if (connection == null) {
      Log.err("%s server: %s", scheme, error);
    } else {
      Log.err("peer %s: %s", Session.address((WebSocketImpl) connection), error);
    }
  }

  private static Session session(WebSocket connection) {
    return connection.getAttachment();
  }
}
