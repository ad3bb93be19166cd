package hello;

import java.util.List;

/**
 * The messages of the binary dialect v1 (PROTOCOL.md section 11.3). Integers are Java's signed
 * {@code long} and {@code int}, exactly the i64 and i32 of the wire.
 */
sealed interface V1Message {

  /** The message's type, which fixes its type byte and who may send it. */
  Type type();

  /** Who sends a type: the client, the server, or either. */
  enum Sender {
    CLIENT,
    SERVER,
    BOTH
  }

  /** Every type v1 defines, with its type byte. */
  enum Type {
    HELLO(0x01, Sender.CLIENT),
    BONJOUR(0x02, Sender.SERVER),
    ECHO_REQUEST(0x03, Sender.CLIENT),
    ECHO_RESPONSE(0x04, Sender.SERVER),
    KISS_REQUEST(0x05, Sender.SERVER),
    KISS_RESPONSE(0x06, Sender.CLIENT),
    PING(0x07, Sender.SERVER),
    PONG(0x08, Sender.CLIENT),
    TIME_NOTIFICATION(0x09, Sender.SERVER),
    RANDOM_NUMBER(0x0A, Sender.CLIENT),
    HASH_RESPONSE(0x0B, Sender.SERVER),
    DISCONNECT(0x0C, Sender.CLIENT),
    ERROR(0x7F, Sender.BOTH);

    final int code;
    final Sender sender;

    Type(int code, Sender sender) {
      this.code = code;
      this.sender = sender;
    }

    /** The type with this type byte, or null when v1 defines none. */
    static Type of(int code) {
      for (Type type : values()) {
        if (type.code == code) {
          return type;
        }
      }
      return null;
    }

    boolean sentByClient() {
      return sender != Sender.SERVER;
    }

    boolean sentByServer() {
      return sender != Sender.CLIENT;
    }
  }

  /** The ERROR codes of section 11.4. */
  final class ErrorCode {
    static final int DECODE = 1;
    static final int UNKNOWN_TYPE = 2;
    static final int LENGTH = 3;
    static final int BAD_MAGIC = 4;
    static final int BAD_VERSION = 5;

    private ErrorCode() {}

    /** Codes 1, 3, 4 and 5 end the session; code 2 does not. */
    static boolean closesSession(int code) {
      return code != UNKNOWN_TYPE;
    }
  }

  record Hello(String clientLanguage) implements V1Message {
    public Type type() {
      return Type.HELLO;
    }
  }

  record Bonjour(String serverLanguage) implements V1Message {
    public Type type() {
      return Type.BONJOUR;
    }
  }

  record EchoRequest(long id, String meta, String data) implements V1Message {
    public Type type() {
      return Type.ECHO_REQUEST;
    }
  }

  /** One entry of a kv: v1 keeps the entries in order. */
  record KeyValue(String key, String value) {}

  /** One result of an ECHO_RESPONSE; {@code type} is 0 (OK) or 1 (ERROR). */
  record Result(long idx, int type, List<KeyValue> kv) {
    static final int OK = 0;
    static final int ERROR = 1;
  }

  record EchoResponse(int status, List<Result> results) implements V1Message {
    public Type type() {
      return Type.ECHO_RESPONSE;
    }
  }

  record KissRequest(String osName, String osVersion, String osRelease, String osArchitecture)
      implements V1Message {
    public Type type() {
      return Type.KISS_REQUEST;
    }
  }

  record KissResponse(String language, String encoding, String timeZone) implements V1Message {
    public Type type() {
      return Type.KISS_RESPONSE;
    }
  }

  record Ping(long timestampMs) implements V1Message {
    public Type type() {
      return Type.PING;
    }
  }

  record Pong(long timestampMs) implements V1Message {
    public Type type() {
      return Type.PONG;
    }
  }

  record TimeNotification(long timestampMs, String iso8601) implements V1Message {
    public Type type() {
      return Type.TIME_NOTIFICATION;
    }
  }

  record RandomNumber(long id, long number) implements V1Message {
    public Type type() {
      return Type.RANDOM_NUMBER;
    }
  }

  record HashResponse(long id, String hashHex) implements V1Message {
    public Type type() {
      return Type.HASH_RESPONSE;
    }
  }

  record Disconnect(String reason) implements V1Message {
    public Type type() {
      return Type.DISCONNECT;
    }
  }

  record Error(int code, String message) implements V1Message {
    public Type type() {
      return Type.ERROR;
    }
  }
}
