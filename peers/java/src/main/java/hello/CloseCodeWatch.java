package hello;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Queue;

/**
 * Follows the frame headers of the bytes a client sends, only to tell whether each of its Close
 * frames carried a code. Java-WebSocket reads a Close without payload as code 1000, so that it
 * cannot be told from a Close 1000; the {@code session-} line wants 1005 for it (PROTOCOL.md
 * section 7, RFC 6455 section 7.1.5). It reads no payload and keeps no bytes: a frame's header is
 * at most 14 bytes, and the rest is skipped by counting.
 */
final class CloseCodeWatch {
  private enum Part {
    FIRST,
    SECOND,
    LENGTH,
    MASK,
    PAYLOAD
  }

  private static final int CLOSE = 0x8;

  private final Queue<Boolean> closesWithoutCode = new ArrayDeque<>();
  private Part part = Part.FIRST;
  private boolean close;
  private boolean masked;
  private int lengthBytesLeft;
  private long length;
  private int maskBytesLeft;
  private long payloadLeft;

  /** Follows the bytes between the buffer's position and its limit, without moving them. */
  void follow(ByteBuffer bytes) {
    int at = bytes.position();
    int end = bytes.limit();
    while (at < end) {
      if (part == Part.PAYLOAD) {
        int skipped = (int) Math.min(payloadLeft, end - at);
        at += skipped;
        payloadLeft -= skipped;
        if (payloadLeft == 0) {
          part = Part.FIRST;
        }
        continue;
      }
      int b = Byte.toUnsignedInt(bytes.get(at++));
      switch (part) {
        case FIRST -> {
          close = (b & 0x0f) == CLOSE;
          part = Part.SECOND;
        }
        case SECOND -> {
          masked = (b & 0x80) != 0;
          int shortLength = b & 0x7f;
          length = 0;
          if (shortLength == 126 || shortLength == 127) {
            lengthBytesLeft = shortLength == 126 ? 2 : 8;
            part = Part.LENGTH;
          } else {
            length = shortLength;
            headerRead();
          }
        }
        case LENGTH -> {
          length = (length << 8) | b;
          if (--lengthBytesLeft == 0) {
            headerRead();
          }
        }
        case MASK -> {
          if (--maskBytesLeft == 0) {
            payloadStarts();
          }
        }
        default -> throw new IllegalStateException(part.name());
      }
    }
  }

  /**
   * Whether the oldest Close frame not asked about yet had no payload, hence no code; false when no
   * Close frame was seen.
   */
  boolean nextCloseHadNoCode() {
    return Boolean.TRUE.equals(closesWithoutCode.poll());
  }

  private void headerRead() {
    if (close) {
      closesWithoutCode.add(length == 0);
    }
    if (masked) {
      maskBytesLeft = 4;
      part = Part.MASK;
    } else {
      payloadStarts();
    }
  }

  private void payloadStarts() {
    payloadLeft = length;
    // A length above Long.MAX_VALUE (the top bit set) is refused by the library before it matters.
    part = payloadLeft > 0 ? Part.PAYLOAD : Part.FIRST;
  }
}
