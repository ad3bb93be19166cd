package hello;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.drafts.Draft;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.framing.CloseFrame;
import org.java_websocket.framing.Framedata;
import org.java_websocket.handshake.ClientHandshake;
import org.java_websocket.handshake.ServerHandshakeBuilder;
import org.java_websocket.server.DefaultSSLWebSocketServerFactory;
import org.java_websocket.server.DefaultWebSocketServerFactory;
import org.java_websocket.server.WebSocketServer;

/**
 * Serves the Hello WebSocket protocol on one port, plain or TLS; sessions live in {@link Session}.
 */
final class HelloServer extends WebSocketServer {
  private final String scheme;
  private final ServerConfig config;
  private final ScheduledExecutorService timers;
  private final Set<Session> sessions;
  private final String kissRequest;
  private final CompletableFuture<Void> started = new CompletableFuture<>();

  /** A server for the plain port, or for the TLS port when {@code tls} is not null. */
  HelloServer(
      SSLContext tls,
      int port,
      ServerConfig config,
      ScheduledExecutorService timers,
      Set<Session> sessions,
      String kissRequest) {
    super(
        new InetSocketAddress(config.host(), port),
        List.of(new Draft_6455(List.of(), config.maxMessageSize())));
    this.scheme = tls == null ? "ws" : "wss";
    this.config = config;
    this.timers = timers;
    this.sessions = sessions;
    this.kissRequest = kissRequest;
    setReuseAddr(true);
    setTcpNoDelay(true);
    // The sessions send their own Pings and evict with 1008; the library's own check is off.
    setConnectionLostTimeout(0);
    setWebSocketFactory(
        new HandshakeTimeoutFactory(
            tls == null
                ? new DefaultWebSocketServerFactory()
                : new DefaultSSLWebSocketServerFactory(tls),
            timers,
            config.handshakeTimeout()));
  }

  /** Binds the port and returns the URL served, naming the port really bound. */
  String listen(Duration timeout) throws Exception {
    start();
    try {
      started.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw (Exception) e.getCause();
    }
    String host = config.host().contains(":") ? "[" + config.host() + "]" : config.host();
    return scheme + "://" + host + ":" + getPort() + config.path();
  }

  @Override
  public ServerHandshakeBuilder onWebsocketHandshakeReceivedAsServer(
      WebSocket connection, Draft draft, ClientHandshake request) throws InvalidDataException {
    String resource = request.getResourceDescriptor();
    int query = resource.indexOf('?');
    String path = query >= 0 ? resource.substring(0, query) : resource;
    if (!path.equals(config.path())) {
      // The library answers a rejected handshake with "404 WebSocket Upgrade Failure".
      throw new InvalidDataException(CloseFrame.POLICY_VALIDATION, "no WebSocket at " + path);
    }
    ServerHandshakeBuilder response =
        super.onWebsocketHandshakeReceivedAsServer(connection, draft, request);
    String id = UUID.randomUUID().toString();
    String whoAmI = request.getFieldValue("WhoAmI").trim();
    connection.setAttachment(
        new Session(
            id,
            whoAmI.isEmpty() ? id : whoAmI,
            (WebSocketImpl) connection,
            config,
            timers,
            sessions));
    response.put("SVR", Messages.LANGUAGE_TAG);
    response.put("X-Session-Id", id);
    return response;
  }

  @Override
  public void onStart() {
    started.complete(null);
  }

  @Override
  public void onOpen(WebSocket connection, ClientHandshake handshake) {
    session(connection).start(kissRequest);
  }

  @Override
  public void onMessage(WebSocket connection, String message) {
    Session session = session(connection);
    try {
      session.receive(message);
    } catch (RuntimeException | StackOverflowError e) {
      session.replyError("the server could not handle this message: " + e);
    }
  }

  @Override
  public void onMessage(WebSocket connection, ByteBuffer message) {
    Session session = session(connection);
    try {
      session.receive(message);
    } catch (RuntimeException | StackOverflowError e) {
      session.replyError("the server could not handle this message: " + e);
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
