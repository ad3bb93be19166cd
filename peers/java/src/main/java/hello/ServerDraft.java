package hello;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.java_websocket.WebSocket;
import org.java_websocket.WebSocketImpl;
import org.java_websocket.drafts.Draft;
import org.java_websocket.drafts.Draft_6455;
import org.java_websocket.enums.Opcode;
import org.java_websocket.exceptions.InvalidDataException;
import org.java_websocket.exceptions.InvalidHandshakeException;
import org.java_websocket.framing.Framedata;
import org.java_websocket.handshake.HandshakeBuilder;
import org.java_websocket.handshake.Handshakedata;

/**
 * RFC 6455 as the library speaks it on the server, one instance per connection, with two additions:
 *
 * <ul>
 *   <li>the names a client gives ({@code WhoAmI}, {@code userId}) are read as UTF-8, with
 *       replacement characters where they are not: the library reads every header as ASCII, which
 *       would turn each byte of a non-ASCII name into U+FFFD;
 *   <li>it tells a client's Close without a code from a Close 1000, which the library reads alike
 *       ({@link CloseCodeWatch}).
 * </ul>
 */
final class ServerDraft extends Draft_6455 {
  private static final List<String> NAME_HEADERS = List.of("WhoAmI", "userId");
  static final String ORIGIN = "Origin";
  private final int maxMessageSize;
  private final CloseCodeWatch closes = new CloseCodeWatch();
  private volatile boolean clientCloseHadNoCode;

  ServerDraft(int maxMessageSize) {
    super(List.of(), maxMessageSize);
    this.maxMessageSize = maxMessageSize;
  }

  /** True when the client's Close, once one came, had no code: it is logged as 1005. */
  static boolean clientCloseHadNoCode(WebSocket connection) {
    return connection instanceof WebSocketImpl impl
        && impl.getDraft() instanceof ServerDraft draft
        && draft.clientCloseHadNoCode;
  }

  @Override
  public Handshakedata translateHandshake(ByteBuffer buffer) throws InvalidHandshakeException {
    int start = buffer.position();
    Handshakedata handshake = super.translateHandshake(buffer);
    if (handshake instanceof HandshakeBuilder headers) {
      ByteBuffer head = buffer.duplicate().position(start).limit(buffer.position());
      String origin = null;
      for (String line : StandardCharsets.UTF_8.decode(head).toString().split("\r\n")) {
        int colon = line.indexOf(':');
        if (colon <= 0) {
          continue;
        }
        String field = line.substring(0, colon).trim();
        String value = line.substring(colon + 1).trim();
        for (String name : NAME_HEADERS) {
          if (field.equalsIgnoreCase(name)) {
            headers.put(name, value);
          }
        }
        if (field.equalsIgnoreCase(ORIGIN)) {
          // Joined as the library joins a repeated header: two origins are no origin.
          origin = origin == null ? value : origin + "; " + value;
        }
      }
      if (origin != null) {
        headers.put(ORIGIN, origin);
      }
    }
    return handshake;
  }

  @Override
  public List<Framedata> translateFrame(ByteBuffer buffer) throws InvalidDataException {
    // Every byte after the handshake passes here once, in order, before the library parses it.
    closes.follow(buffer);
    return super.translateFrame(buffer);
  }

  @Override
  public void processFrame(WebSocketImpl connection, Framedata frame) throws InvalidDataException {
    if (frame.getOpcode() == Opcode.CLOSING) {
      clientCloseHadNoCode = closes.nextCloseHadNoCode();
    }
    super.processFrame(connection, frame);
  }

  @Override
  public Draft copyInstance() {
    return new ServerDraft(maxMessageSize);
  }
}
