package hello;

import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Encodes and decodes the frames of the binary dialect v1 (PROTOCOL.md section 11). The decoder is
 * strict: every length and count is checked against the bytes left before anything is allocated for
 * it, bytes after the last field are refused, and the first failing check, in the order of section
 * 11.4, gives the ERROR code.
 */
final class V1Codec {
  static final int MAGIC = 0x48;
  static final int VERSION = 0x01;
  static final int HEADER_LENGTH = 8;

  /** The fewest bytes a result (idx, type, empty kv) and a kv entry (two empty strings) take. */
  private static final int MIN_RESULT_LENGTH = 8 + 1 + 4;

  private static final int MIN_ENTRY_LENGTH = 4 + 4;

  private static final DateTimeFormatter ISO_8601_MILLIS =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  private V1Codec() {}

  /** A frame the decoder refuses, with the ERROR code of section 11.4 and what was wrong. */
  static final class FrameException extends Exception {
    private final int code;

    FrameException(int code, String problem) {
      super(problem, null, false, false);
      this.code = code;
    }

    int code() {
      return code;
    }
  }

  /** The whole frame for a message: header (flags 0) and payload. */
  static byte[] encode(V1Message message) {
    ByteArrayOutputStream payloadBytes = new ByteArrayOutputStream();
    try (DataOutputStream payload = new DataOutputStream(payloadBytes)) {
      writePayload(payload, message);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return ByteBuffer.allocate(HEADER_LENGTH + payloadBytes.size())
        .put((byte) MAGIC)
        .put((byte) VERSION)
        .put((byte) message.type().code)
        .put((byte) 0)
        .putInt(payloadBytes.size())
        .put(payloadBytes.toByteArray())
        .array();
  }

  /** Decodes one whole frame: the bytes of one binary WebSocket message. */
  static V1Message decode(ByteBuffer frame) throws FrameException {
    ByteBuffer bytes = frame.duplicate();
    if (bytes.remaining() < HEADER_LENGTH) {
      throw new FrameException(
          V1Message.ErrorCode.DECODE, "a frame of " + bytes.remaining() + " bytes, under 8");
    }
    int magic = Byte.toUnsignedInt(bytes.get());
    if (magic != MAGIC) {
      throw new FrameException(
          V1Message.ErrorCode.BAD_MAGIC, String.format("bad magic 0x%02x, not 0x48", magic));
    }
    int version = Byte.toUnsignedInt(bytes.get());
    if (version != VERSION) {
      throw new FrameException(
          V1Message.ErrorCode.BAD_VERSION, String.format("bad version 0x%02x, not 0x01", version));
    }
    int typeCode = Byte.toUnsignedInt(bytes.get());
    bytes.get(); // flags: ignored
    long length = Integer.toUnsignedLong(bytes.getInt());
    if (length > bytes.remaining()) {
      throw new FrameException(
          V1Message.ErrorCode.LENGTH,
          "payload length " + length + " is larger than the " + bytes.remaining() + " bytes left");
    }
    if (length < bytes.remaining()) {
      throw new FrameException(
          V1Message.ErrorCode.DECODE,
          "payload length " + length + " is smaller than the " + bytes.remaining() + " bytes left");
    }
    V1Message.Type type = V1Message.Type.of(typeCode);
    if (type == null) {
      throw new FrameException(
          V1Message.ErrorCode.UNKNOWN_TYPE, String.format("unknown message type 0x%02x", typeCode));
    }
    Reader payload = new Reader(bytes, type);
    V1Message message = readPayload(payload, type);
    payload.end();
    return message;
  }

  /** The answer of section 12.4 to an ECHO_REQUEST. */
  static V1Message.EchoResponse echoAnswer(V1Message.EchoRequest request, String languageTag) {
    String id = Long.toString(request.id());
    return new V1Message.EchoResponse(
        200,
        List.of(
            new V1Message.Result(
                request.id(),
                V1Message.Result.OK,
                List.of(
                    new V1Message.KeyValue("id", id),
                    new V1Message.KeyValue("data", request.data()),
                    new V1Message.KeyValue("meta", languageTag),
                    new V1Message.KeyValue("idx", id)))));
  }

  /** The first 10 lowercase hex characters of SHA-256 of the number in ASCII decimal. */
  static String hashHex(long number) {
    try {
      byte[] digest =
          MessageDigest.getInstance("SHA-256")
              .digest(Long.toString(number).getBytes(StandardCharsets.US_ASCII));
      return HexFormat.of().formatHex(digest).substring(0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM has SHA-256", e);
    }
  }

  static V1Message.TimeNotification timeNotification(Instant now) {
    Instant millis = Instant.ofEpochMilli(now.toEpochMilli());
    return new V1Message.TimeNotification(millis.toEpochMilli(), ISO_8601_MILLIS.format(millis));
  }

  private static void writePayload(DataOutputStream out, V1Message message) throws IOException {
    if (message instanceof V1Message.Hello m) {
      writeString(out, m.clientLanguage());
    } else if (message instanceof V1Message.Bonjour m) {
      writeString(out, m.serverLanguage());
    } else if (message instanceof V1Message.EchoRequest m) {
      out.writeLong(m.id());
      writeString(out, m.meta());
      writeString(out, m.data());
    } else if (message instanceof V1Message.EchoResponse m) {
      out.writeInt(m.status());
      out.writeInt(m.results().size());
      for (V1Message.Result result : m.results()) {
        out.writeLong(result.idx());
        out.writeByte(result.type());
        out.writeInt(result.kv().size());
        for (V1Message.KeyValue entry : result.kv()) {
          writeString(out, entry.key());
          writeString(out, entry.value());
        }
      }
    } else if (message instanceof V1Message.KissRequest m) {
      writeString(out, m.osName());
      writeString(out, m.osVersion());
      writeString(out, m.osRelease());
      writeString(out, m.osArchitecture());
    } else if (message instanceof V1Message.KissResponse m) {
      writeString(out, m.language());
      writeString(out, m.encoding());
      writeString(out, m.timeZone());
    } else if (message instanceof V1Message.Ping m) {
      out.writeLong(m.timestampMs());
    } else if (message instanceof V1Message.Pong m) {
      out.writeLong(m.timestampMs());
    } else if (message instanceof V1Message.TimeNotification m) {
      out.writeLong(m.timestampMs());
      writeString(out, m.iso8601());
    } else if (message instanceof V1Message.RandomNumber m) {
      out.writeLong(m.id());
      out.writeLong(m.number());
    } else if (message instanceof V1Message.HashResponse m) {
      out.writeLong(m.id());
      writeString(out, m.hashHex());
    } else if (message instanceof V1Message.Disconnect m) {
      writeString(out, m.reason());
    } else if (message instanceof V1Message.Error m) {
      out.writeInt(m.code());
      writeString(out, m.message());
    } else {
      throw new IllegalArgumentException("not a v1 message: " + message);
    }
  }

  private static void writeString(DataOutputStream out, String text) throws IOException {
    byte[] utf8 = text.getBytes(StandardCharsets.UTF_8);
    out.writeInt(utf8.length);
    out.write(utf8);
  }

  private static V1Message readPayload(Reader in, V1Message.Type type) throws FrameException {
    return switch (type) {
      case HELLO -> new V1Message.Hello(in.string("client_language"));
      case BONJOUR -> new V1Message.Bonjour(in.string("server_language"));
      case ECHO_REQUEST ->
          new V1Message.EchoRequest(in.i64("id"), in.string("meta"), in.string("data"));
      case ECHO_RESPONSE -> readEchoResponse(in);
      case KISS_REQUEST ->
          new V1Message.KissRequest(
              in.string("os_name"),
              in.string("os_version"),
              in.string("os_release"),
              in.string("os_architecture"));
      case KISS_RESPONSE ->
          new V1Message.KissResponse(
              in.string("language"), in.string("encoding"), in.string("time_zone"));
      case PING -> new V1Message.Ping(in.i64("timestamp_ms"));
      case PONG -> new V1Message.Pong(in.i64("timestamp_ms"));
      case TIME_NOTIFICATION ->
          new V1Message.TimeNotification(in.i64("timestamp_ms"), in.string("iso8601"));
      case RANDOM_NUMBER -> new V1Message.RandomNumber(in.i64("id"), in.i64("number"));
      case HASH_RESPONSE -> new V1Message.HashResponse(in.i64("id"), in.string("hash_hex"));
      case DISCONNECT -> new V1Message.Disconnect(in.string("reason"));
      case ERROR -> new V1Message.Error(in.i32("code"), in.string("message"));
    };
  }

  private static V1Message.EchoResponse readEchoResponse(Reader in) throws FrameException {
    int status = in.i32("status");
    long count = in.count("results", MIN_RESULT_LENGTH);
    List<V1Message.Result> results = new ArrayList<>();
    for (long i = 0; i < count; i++) {
      long idx = in.i64("results[].idx");
      int resultType = in.u8("results[].type");
      if (resultType != V1Message.Result.OK && resultType != V1Message.Result.ERROR) {
        throw new FrameException(
            V1Message.ErrorCode.DECODE, "result type " + resultType + " is neither 0 nor 1");
      }
      long entries = in.count("results[].kv", MIN_ENTRY_LENGTH);
      List<V1Message.KeyValue> kv = new ArrayList<>();
      for (long j = 0; j < entries; j++) {
        kv.add(new V1Message.KeyValue(in.string("kv key"), in.string("kv value")));
      }
      results.add(new V1Message.Result(idx, resultType, List.copyOf(kv)));
    }
    return new V1Message.EchoResponse(status, List.copyOf(results));
  }

  /** Reads the fields of one payload, refusing any that runs past its end. */
  private static final class Reader {
    private final ByteBuffer bytes;
    private final V1Message.Type type;

    Reader(ByteBuffer bytes, V1Message.Type type) {
      this.bytes = bytes;
      this.type = type;
    }

    int u8(String field) throws FrameException {
      need(1, field);
      return Byte.toUnsignedInt(bytes.get());
    }

    int i32(String field) throws FrameException {
      need(4, field);
      return bytes.getInt();
    }

    long i64(String field) throws FrameException {
      need(8, field);
      return bytes.getLong();
    }

    /** A u32 count of elements that each take at least {@code minLength} bytes. */
    long count(String field, int minLength) throws FrameException {
      need(4, field);
      long count = Integer.toUnsignedLong(bytes.getInt());
      if (count > bytes.remaining() / minLength) {
        throw new FrameException(
            V1Message.ErrorCode.DECODE,
            type
                + ": "
                + field
                + " count "
                + count
                + " cannot fit the "
                + bytes.remaining()
                + " bytes left");
      }
      return count;
    }

    String string(String field) throws FrameException {
      need(4, field);
      long length = Integer.toUnsignedLong(bytes.getInt());
      if (length > bytes.remaining()) {
        throw new FrameException(
            V1Message.ErrorCode.DECODE,
            type
                + ": "
                + field
                + " length "
                + length
                + " runs past the "
                + bytes.remaining()
                + " bytes left");
      }
      ByteBuffer utf8 = bytes.slice(bytes.position(), (int) length);
      bytes.position(bytes.position() + (int) length);
      try {
        return StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(utf8)
            .toString();
      } catch (CharacterCodingException e) {
        throw new FrameException(
            V1Message.ErrorCode.DECODE, type + ": " + field + " is not valid UTF-8");
      }
    }

    /** Refuses bytes left after the last field. */
    void end() throws FrameException {
      if (bytes.hasRemaining()) {
        throw new FrameException(
            V1Message.ErrorCode.DECODE,
            type + ": " + bytes.remaining() + " bytes after the payload's last field");
      }
    }

    private void need(int length, String field) throws FrameException {
      if (bytes.remaining() < length) {
        throw new FrameException(V1Message.ErrorCode.DECODE, type + ": " + field + " is cut short");
      }
    }
  }
}
