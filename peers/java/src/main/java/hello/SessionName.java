package hello;

import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.StandardCharsets;

/** The name a session is logged under (PROTOCOL.md sections 2.1 and 12.2). */
final class SessionName {
  static final int MAX_BYTES = 128;

  /** The query parameter that names a client that cannot set headers (a browser). */
  static final String QUERY_KEY = "whoami";

  private SessionName() {}

  /**
   * WhoAmI, else userId, else the whoami query parameter, else the session id; trimmed, and cut to
   * at most 128 bytes of UTF-8 at a character boundary. Missing values are null or empty.
   */
  static String of(String whoAmI, String userId, String whoamiQuery, String sessionId) {
    for (String candidate : new String[] {whoAmI, userId, whoamiQuery}) {
      String name = candidate == null ? "" : candidate.strip();
      if (!name.isEmpty()) {
        return cut(name, MAX_BYTES);
      }
    }
    return sessionId;
  }

  /**
   * The first {@code whoami} parameter of a request target's query ({@code /ws?whoami=alice}),
   * decoded as a form value ({@code %XX} as UTF-8, {@code +} a space), or null when there is none.
   * A parameter whose escapes are broken ({@code %zz}) is skipped.
   */
  static String whoamiQuery(String requestTarget) {
    int question = requestTarget.indexOf('?');
    if (question < 0) {
      return null;
    }
    for (String pair : requestTarget.substring(question + 1).split("&")) {
      int equals = pair.indexOf('=');
      String key = equals < 0 ? pair : pair.substring(0, equals);
      String value = equals < 0 ? "" : pair.substring(equals + 1);
      try {
        if (URLDecoder.decode(key, StandardCharsets.UTF_8).equals(QUERY_KEY)) {
          return URLDecoder.decode(value, StandardCharsets.UTF_8);
        }
      } catch (IllegalArgumentException e) {
        // A broken escape: not a parameter anyone could have meant.
      }
    }
    return null;
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
