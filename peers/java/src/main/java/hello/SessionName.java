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
   * WhoAmI, else userId, else the whoami query parameter, else the session id; each as {@link
   * #untrusted} has it, and one that is empty then passes to the next. Missing values are null or
   * empty.
   */
  static String of(String whoAmI, String userId, String whoamiQuery, String sessionId) {
    for (String candidate : new String[] {whoAmI, userId, whoamiQuery}) {
      String name = untrusted(candidate);
      if (!name.isEmpty()) {
        return name;
      }
    }
    return sessionId;
  }

  /**
   * A value from the network as it may be logged (PROTOCOL.md section 2.1): trimmed of white space,
   * cut to at most 128 bytes of UTF-8 at a character boundary, then trimmed again at its end, where
   * the cut may leave white space (127 bytes, a space, more). Null is empty.
   */
  static String untrusted(String text) {
    if (text == null) {
      return "";
    }
    return trimEnd(cut(trimStart(trimEnd(text)), MAX_BYTES));
  }

  /**
   * White space as the reference server's Rust {@code trim} has it ({@code char::is_whitespace},
   * Unicode's White_Space property): the space separators (Zs, Zl, Zp), U+0009 to U+000D and
   * U+0085. Java's {@code String.strip} goes by {@code Character.isWhitespace}, which leaves out
   * the no-break spaces (U+00A0, U+2007, U+202F) and U+0085 and counts U+001C to U+001F.
   */
  static boolean isWhiteSpace(int codePoint) {
    return Character.isSpaceChar(codePoint)
        || (codePoint >= 0x09 && codePoint <= 0x0D)
        || codePoint == 0x85;
  }

  // Every White_Space character is in the BMP, and half a surrogate pair is not white space, so
  // these look at chars.
  private static String trimStart(String text) {
    int start = 0;
    while (start < text.length() && isWhiteSpace(text.charAt(start))) {
      start++;
    }
    return text.substring(start);
  }

  private static String trimEnd(String text) {
    int end = text.length();
    while (end > 0 && isWhiteSpace(text.charAt(end - 1))) {
      end--;
    }
    return text.substring(0, end);
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
