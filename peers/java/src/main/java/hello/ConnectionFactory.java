package hello;

import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.java_websocket.WebSocketAdapter;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.WebSocketServerFactory;
import org.java_websocket.drafts.Draft;
import org.java_websocket.enums.ReadyState;
import org.java_websocket.framing.CloseFrame;

/**
 * Makes the server's connections: counts each one under {@code --max-connections} from accept,
 * wraps its socket so that it can linger or be aborted ({@link ServerTransport}), and drops it when
 * its WebSocket handshake has not completed within the handshake timeout, which Java-WebSocket does
 * not do by itself.
 */
final class ConnectionFactory implements WebSocketServerFactory {
  private final SSLContext tls;
  private final ExecutorService tlsTasks;
  private final ScheduledExecutorService timers;
  private final Duration handshakeTimeout;
  private final ConnectionLimit limit;
  private final Lingerer lingerer;

  /** A factory for plain connections, or TLS ones when {@code tls} is not null. */
  ConnectionFactory(
      SSLContext tls,
      ScheduledExecutorService timers,
      Duration handshakeTimeout,
      ConnectionLimit limit,
      Lingerer lingerer) {
    this.tls = tls;
    this.tlsTasks = tls == null ? null : Executors.newSingleThreadExecutor();
    this.timers = timers;
    this.handshakeTimeout = handshakeTimeout;
    this.limit = limit;
    this.lingerer = lingerer;
  }

  @Override
  public WebSocketImpl createWebSocket(WebSocketAdapter adapter, Draft draft) {
    return withDeadline(new WebSocketImpl(adapter, draft));
  }

  @Override
  public WebSocketImpl createWebSocket(WebSocketAdapter adapter, List<Draft> drafts) {
    return withDeadline(new WebSocketImpl(adapter, drafts));
  }

  @Override
  public ByteChannel wrapChannel(SocketChannel channel, SelectionKey key) throws IOException {
    AcceptedSocket socket = new AcceptedSocket(channel, limit, lingerer);
    if (tls == null) {
      return new ServerTransport.Plain(socket);
    }
    try {
      SSLEngine engine = tls.createSSLEngine();
      engine.setUseClientMode(false);
      return new ServerTransport.Tls(socket, engine, tlsTasks, key);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  @Override
  public void close() {
    if (tlsTasks != null) {
      tlsTasks.shutdown();
    }
  }

  private WebSocketImpl withDeadline(WebSocketImpl connection) {
    timers.schedule(
        () -> {
          if (connection.getReadyState() == ReadyState.NOT_YET_CONNECTED) {
            AcceptedSocket socket = ServerTransport.socketOf(connection);
            if (socket != null) {
              socket.close();
            }
            connection.closeConnection(CloseFrame.NEVER_CONNECTED, "handshake timeout");
          }
        },
        handshakeTimeout.toMillis(),
        TimeUnit.MILLISECONDS);
    return connection;
  }
}
