package hello;

import java.io.IOException;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.java_websocket.WebSocketAdapter;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.WebSocketServerFactory;
import org.java_websocket.drafts.Draft;
import org.java_websocket.enums.ReadyState;
import org.java_websocket.framing.CloseFrame;

/**
 * Wraps the library's connection factory to drop every TCP connection whose WebSocket handshake has
 * not completed within the handshake timeout; Java-WebSocket has no such limit of its own.
 */
final class HandshakeTimeoutFactory implements WebSocketServerFactory {
  private final WebSocketServerFactory delegate;
  private final ScheduledExecutorService timers;
  private final Duration timeout;

  HandshakeTimeoutFactory(
      WebSocketServerFactory delegate, ScheduledExecutorService timers, Duration timeout) {
    this.delegate = delegate;
    this.timers = timers;
    this.timeout = timeout;
  }

  @Override
  public WebSocketImpl createWebSocket(WebSocketAdapter adapter, Draft draft) {
    return withDeadline(delegate.createWebSocket(adapter, draft));
  }

  @Override
  public WebSocketImpl createWebSocket(WebSocketAdapter adapter, List<Draft> drafts) {
    return withDeadline(delegate.createWebSocket(adapter, drafts));
  }

  @Override
  public ByteChannel wrapChannel(SocketChannel channel, SelectionKey key) throws IOException {
    return delegate.wrapChannel(channel, key);
  }

  @Override
  public void close() {
    delegate.close();
  }

  private WebSocketImpl withDeadline(WebSocketImpl connection) {
    timers.schedule(
        () -> {
          if (connection.getReadyState() == ReadyState.NOT_YET_CONNECTED) {
            connection.closeConnection(CloseFrame.NEVER_CONNECTED, "handshake timeout");
          }
        },
        timeout.toMillis(),
        TimeUnit.MILLISECONDS);
    return connection;
  }
}
