package hello;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.nio.channels.SelectionKey;
import java.util.concurrent.ExecutorService;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import org.java_websocket.SSLSocketChannel2;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;

/**
 * The channel the library reads and writes for one server connection, plain or TLS. When the
 * library closes it (right after writing its last frame), the socket lingers instead of closing at
 * once: Java-WebSocket itself would close the socket with the client's input unread. A refused
 * handshake's answer can be replaced on its way out ({@link AcceptedSocket#refuse}).
 */
interface ServerTransport extends ByteChannel {

  AcceptedSocket acceptedSocket();

  /** The accepted socket under a connection of the server, or null before it has one. */
  static AcceptedSocket socketOf(WebSocket connection) {
    return connection instanceof WebSocketImpl impl
            && impl.getChannel() instanceof ServerTransport transport
        ? transport.acceptedSocket()
        : null;
  }

  /** A plain ws connection. */
  final class Plain implements ServerTransport {
    private final AcceptedSocket socket;

    Plain(AcceptedSocket socket) {
      this.socket = socket;
    }

    @Override
    public AcceptedSocket acceptedSocket() {
      return socket;
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
      return socket.channel().read(dst);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return socket.write(src, socket.channel()::write);
    }

    @Override
    public boolean isOpen() {
      return socket.isOpen();
    }

    @Override
    public void close() {
      socket.lingerThenClose();
    }
  }

  /** A wss connection: the library's TLS channel, closed with close_notify and then lingering. */
  final class Tls extends SSLSocketChannel2 implements ServerTransport {
    private final AcceptedSocket socket;

    Tls(AcceptedSocket socket, SSLEngine engine, ExecutorService tasks, SelectionKey key)
        throws IOException {
      super(socket.channel(), engine, tasks, key);
      this.socket = socket;
    }

    @Override
    public AcceptedSocket acceptedSocket() {
      return socket;
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
      return socket.write(src, super::write);
    }

    @Override
    public void close() {
      if (socket.isOpen()
          && sslEngine.getHandshakeStatus() == SSLEngineResult.HandshakeStatus.NOT_HANDSHAKING) {
        sslEngine.closeOutbound();
        try {
          super.write(emptybuffer); // writes close_notify, then reports the engine closed
        } catch (IOException e) {
          // The engine is closed now, or the socket is gone: lingering deals with both.
        }
      }
      socket.lingerThenClose();
    }
  }
}
