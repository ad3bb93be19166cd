package hello;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.StandardCharsets;

/** The name a session is logged under (PROTOCOL.md sections 2.1 and 12.2). */
final class SessionName {
  static final int MAX_BYTES = 128;

  private SessionName() {}

  /**
   * WhoAmI, else userId, else the session id; trimmed, and cut to at most 128 bytes of UTF-8 at a
   * character boundary. Missing headers are null or empty.
   */
  static String of(String whoAmI, String userId, String sessionId) {
    for (String candidate : new String[] {whoAmI, userId}) {
      String name = candidate == null ? "" : candidate.strip();
      if (!name.isEmpty()) {
        return cut(name, MAX_BYTES);
      }
    }
    return sessionId;
  }

  /** The longest prefix of {@code text} whose UTF-8 takes at most {@code maxBytes} bytes. */
  static String cut(String text, int maxBytes) {
    CharsetEncoder encoder = StandardCharsets.UTF_8.newEncoder();
    CharBuffer in = CharBuffer.wrap(text);
    // The encoder stops before a character that does not fit whole, so the cut is at a boundary.
    encoder.encode(in, ByteBuffer.allocate(maxBytes), true);
    return text.substring(0, in.position());
  }
}
