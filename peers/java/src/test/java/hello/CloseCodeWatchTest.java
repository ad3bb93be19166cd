package hello;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import org.junit.jupiter.api.Test;

/** Telling a Close without a code from a Close 1000 in a client's byte stream. */
class CloseCodeWatchTest {
  /** A masked client frame (FIN set) with the given opcode and payload. */
  private static byte[] frame(int opcode, byte[] payload) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(0x80 | opcode);
    if (payload.length < 126) {
      out.write(0x80 | payload.length);
    } else if (payload.length < 65536) {
      out.write(0x80 | 126);
      out.write(payload.length >> 8);
      out.write(payload.length & 0xff);
    } else {
      out.write(0x80 | 127);
      for (int shift = 56; shift >= 0; shift -= 8) {
        out.write((int) ((long) payload.length >> shift) & 0xff);
      }
    }
    byte[] mask = {1, 2, 3, 4};
    out.writeBytes(mask);
    for (int i = 0; i < payload.length; i++) {
      out.write(payload[i] ^ mask[i % 4]);
    }
    return out.toByteArray();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] part : parts) {
      out.writeBytes(part);
    }
    return out.toByteArray();
  }

  @Test
  void closeWithoutPayloadHasNoCode() {
    CloseCodeWatch watch = new CloseCodeWatch();
    ByteBuffer bytes = ByteBuffer.wrap(frame(0x8, new byte[0]));
    watch.follow(bytes);
    assertTrue(bytes.position() == 0, "the bytes are not consumed");
    assertTrue(watch.nextCloseHadNoCode());
    assertFalse(watch.nextCloseHadNoCode(), "asked once per Close");
  }

  @Test
  void closeWithACodeAfterDataFramesOfEveryLengthForm() {
    CloseCodeWatch watch = new CloseCodeWatch();
    byte[] stream =
        concat(
            frame(0x1, "hello".getBytes()),
            frame(0x2, new byte[300]),
            frame(0x2, new byte[70_000]),
            frame(0x9, new byte[0]),
            frame(0x8, new byte[] {0x03, (byte) 0xe8}),
            frame(0x8, new byte[0]));
    // One byte at a time, as a slow client would send it.
    for (int i = 0; i < stream.length; i++) {
      watch.follow(ByteBuffer.wrap(stream, i, 1));
    }
    assertFalse(watch.nextCloseHadNoCode(), "Close 1000 has a code");
    assertTrue(watch.nextCloseHadNoCode(), "then one without");
  }

  @Test
  void noCloseSeen() {
    CloseCodeWatch watch = new CloseCodeWatch();
    watch.follow(ByteBuffer.wrap(frame(0x1, new byte[10])));
    assertFalse(watch.nextCloseHadNoCode());
  }
}
