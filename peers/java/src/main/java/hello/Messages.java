package hello;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.math.BigInteger;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The messages of PROTOCOL.md section 3: how each side tells them apart, checks them and writes
 * them. Ids are unsigned 64-bit integers, carried as {@link BigInteger} so that every one of them
 * survives exactly.
 */
final class Messages {
  static final String LANGUAGE_TAG = "JAVA";
  static final BigInteger MAX_ID = BigInteger.ONE.shiftLeft(64).subtract(BigInteger.ONE);

  private static final ObjectMapper JSON =
      JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();
  private static final Pattern UUID_V4 =
      Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}");
  private static final Set<String> ECHO_REQUEST_KEYS = Set.of("id", "data", "meta");
  private static final Set<String> KISS_RESPONSE_KEYS = Set.of("language", "encoding", "time_zone");
  private static final Set<String> KISS_REQUEST_KEYS =
      Set.of("os_name", "os_version", "os_release", "os_architecture");

  private Messages() {}

  /** A message one side received; each side knows its own kinds. */
  interface Incoming {}

  /** Client → server: an Echo request. */
  record EchoRequest(BigInteger id, String data, String meta) implements Incoming {}

  /** Client → server: a Kiss response. */
  record KissResponse(String language, String encoding, String timeZone) implements Incoming {}

  /** Server → client: an Echo response. */
  record EchoResponse(BigInteger id, String uuid, String idx, String data, String meta)
      implements Incoming {}

  /** Server → client: an Error response. */
  record ErrorResponse(int status, String error) implements Incoming {}

  /** Server → client: a Kiss request. */
  record KissRequest(String osName, String osVersion, String osRelease, String osArchitecture)
      implements Incoming {}

  /** Anything the receiver cannot use, with the reason. */
  record Malformed(String problem) implements Incoming {}

  /** Classifies a message a server received, as PROTOCOL.md section 3.7 says. */
  static Incoming readByServer(String text) {
    ObjectNode object;
    try {
      object = parseObject(text);
    } catch (MalformedException e) {
      return new Malformed(e.getMessage());
    }
    try {
      if (hasAny(object, ECHO_REQUEST_KEYS)) {
        return echoRequest(object);
      }
      if (hasAny(object, KISS_RESPONSE_KEYS)) {
        return kissResponse(object);
      }
    } catch (MalformedException e) {
      return new Malformed(e.getMessage());
    }
    return new Malformed(
        "unknown message: an object with none of the keys id, data, meta (Echo request)"
            + " or language, encoding, time_zone (Kiss response)");
  }

  /** Classifies a message a client received, as PROTOCOL.md section 3.7 says. */
  static Incoming readByClient(String text) {
    try {
      ObjectNode object = parseObject(text);
      if (object.has("status")) {
        int status = status(object);
        return status == 200 ? echoResponse(object) : errorResponse(object, status);
      }
      if (hasAny(object, KISS_REQUEST_KEYS)) {
        return new KissRequest(
            nonEmptyString(object, "os_name", "Kiss request"),
            nonEmptyString(object, "os_version", "Kiss request"),
            nonEmptyString(object, "os_release", "Kiss request"),
            nonEmptyString(object, "os_architecture", "Kiss request"));
      }
      return new Malformed("unknown message: neither `status` nor any `os_*` key");
    } catch (MalformedException e) {
      return new Malformed(e.getMessage());
    }
  }

  static String echoRequest(BigInteger id, String data) {
    ObjectNode request = JSON.createObjectNode();
    request.put("id", id);
    request.put("data", data);
    request.put("meta", LANGUAGE_TAG);
    return write(request);
  }

  static String echoResponse(EchoRequest request) {
    ObjectNode response = JSON.createObjectNode();
    response.put("status", 200);
    ObjectNode result = response.putArray("results").addObject();
    result.put("id", request.id());
    result.put("type", "OK");
    ObjectNode kv = result.putObject("kv");
    kv.put("id", UUID.randomUUID().toString());
    kv.put("idx", request.id().toString());
    kv.put("data", request.data());
    kv.put("meta", LANGUAGE_TAG);
    return write(response);
  }

  static String errorResponse(String error) {
    ObjectNode response = JSON.createObjectNode();
    response.put("status", 400);
    response.putArray("results");
    response.put("error", error);
    return write(response);
  }

  static String kissRequest(KissRequest facts) {
    ObjectNode request = JSON.createObjectNode();
    request.put("os_name", facts.osName());
    request.put("os_version", facts.osVersion());
    request.put("os_release", facts.osRelease());
    request.put("os_architecture", facts.osArchitecture());
    return write(request);
  }

  static String kissResponse(KissResponse answer) {
    ObjectNode response = JSON.createObjectNode();
    response.put("language", answer.language());
    response.put("encoding", answer.encoding());
    response.put("time_zone", answer.timeZone());
    return write(response);
  }

  static boolean isUuidV4(String text) {
    return text != null && UUID_V4.matcher(text).matches();
  }

  private static EchoRequest echoRequest(ObjectNode object) throws MalformedException {
    BigInteger id = id(object.get("id"), "Echo request: `id`");
    String data = string(object, "data", "Echo request");
    if (hasUnpairedSurrogate(data)) {
      throw new MalformedException(
          "Echo request: `data` contains an unpaired surrogate escape, which is no Unicode text");
    }
    return new EchoRequest(id, data, string(object, "meta", "Echo request"));
  }

  private static KissResponse kissResponse(ObjectNode object) throws MalformedException {
    return new KissResponse(
        nonEmptyString(object, "language", "Kiss response"),
        nonEmptyString(object, "encoding", "Kiss response"),
        nonEmptyString(object, "time_zone", "Kiss response"));
  }

  private static EchoResponse echoResponse(ObjectNode object) throws MalformedException {
    JsonNode results = object.get("results");
    if (results == null || !results.isArray() || results.size() != 1) {
      throw new MalformedException("Echo response: `results` must be an array of one element");
    }
    JsonNode result = results.get(0);
    if (!result.isObject()) {
      throw new MalformedException("Echo response: `results[0]` must be an object");
    }
    BigInteger id = id(result.get("id"), "Echo response: `results[0].id`");
    if (!"OK".equals(string((ObjectNode) result, "type", "Echo response: results[0]"))) {
      throw new MalformedException("Echo response: `results[0].type` must be \"OK\"");
    }
    JsonNode kv = result.get("kv");
    if (kv == null || !kv.isObject()) {
      throw new MalformedException("Echo response: `results[0].kv` must be an object");
    }
    ObjectNode fields = (ObjectNode) kv;
    String where = "Echo response: results[0].kv";
    String uuid = string(fields, "id", where);
    if (!isUuidV4(uuid)) {
      throw new MalformedException(where + ": `id` must be a lowercase UUID v4, got " + uuid);
    }
    return new EchoResponse(
        id,
        uuid,
        string(fields, "idx", where),
        string(fields, "data", where),
        string(fields, "meta", where));
  }

  private static ErrorResponse errorResponse(ObjectNode object, int status)
      throws MalformedException {
    JsonNode results = object.get("results");
    if (results == null || !results.isArray() || !results.isEmpty()) {
      throw new MalformedException("Error response: `results` must be an empty array");
    }
    return new ErrorResponse(status, nonEmptyString(object, "error", "Error response"));
  }

  private static int status(ObjectNode object) throws MalformedException {
    JsonNode status = object.get("status");
    if (!status.canConvertToInt() || !status.isIntegralNumber()) {
      throw new MalformedException("`status` must be an integer, got " + describe(status));
    }
    return status.intValue();
  }

  private static ObjectNode parseObject(String text) throws MalformedException {
    JsonNode node;
    try (JsonParser parser = JSON.createParser(text)) {
      node = JSON.readTree(parser);
      if (node != null && parser.nextToken() != null) {
        throw new MalformedException("message is not JSON: more data follows the JSON value");
      }
    } catch (JsonProcessingException e) {
      throw new MalformedException("message is not JSON: " + explain(e));
    } catch (IOException e) {
      throw new MalformedException("message is not JSON: " + e.getMessage());
    }
    if (node == null || node.isMissingNode()) {
      throw new MalformedException("message is not JSON: it is empty");
    }
    if (!node.isObject()) {
      throw new MalformedException("message is not a JSON object, got " + describe(node));
    }
    return (ObjectNode) node;
  }

  /** Jackson's reason, without its notes on the parser's source, and where it was found. */
  private static String explain(JsonProcessingException e) {
    String reason = e.getOriginalMessage().lines().findFirst().orElse("invalid");
    int note = reason.indexOf(" (start marker at");
    if (note >= 0) {
      reason = reason.substring(0, note);
    }
    JsonLocation where = e.getLocation();
    if (where == null) {
      return reason;
    }
    return reason + " (line " + where.getLineNr() + ", column " + where.getColumnNr() + ")";
  }

  private static BigInteger id(JsonNode node, String what) throws MalformedException {
    String problem = what + " must be an unsigned 64-bit integer, got ";
    if (node == null) {
      throw new MalformedException(what + " is missing");
    }
    if (!node.isIntegralNumber()) {
      throw new MalformedException(problem + describe(node));
    }
    BigInteger id = node.bigIntegerValue();
    if (id.signum() < 0 || id.compareTo(MAX_ID) > 0) {
      throw new MalformedException(problem + id);
    }
    return id;
  }

  private static String string(ObjectNode object, String key, String what)
      throws MalformedException {
    JsonNode node = object.get(key);
    if (node == null) {
      throw new MalformedException(what + ": `" + key + "` is missing");
    }
    if (!node.isTextual()) {
      throw new MalformedException(
          what + ": `" + key + "` must be a string, got " + describe(node));
    }
    return node.textValue();
  }

  private static String nonEmptyString(ObjectNode object, String key, String what)
      throws MalformedException {
    String value = string(object, key, what);
    if (value.isEmpty()) {
      throw new MalformedException(what + ": `" + key + "` must not be empty");
    }
    return value;
  }

  private static boolean hasAny(ObjectNode object, Set<String> keys) {
    return keys.stream().anyMatch(object::has);
  }

  private static boolean hasUnpairedSurrogate(String text) {
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (Character.isHighSurrogate(c)
          && i + 1 < text.length()
          && Character.isLowSurrogate(text.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        return true;
      }
    }
    return false;
  }

  private static String describe(JsonNode node) {
    switch (node.getNodeType()) {
      case STRING:
        return "a string";
      case BOOLEAN:
        return "a boolean";
      case NULL:
        return "null";
      case ARRAY:
        return "an array";
      case OBJECT:
        return "an object";
      case NUMBER:
        return node.isIntegralNumber() ? node.toString() : "a number with a fraction or exponent";
      default:
        return node.getNodeType().toString().toLowerCase();
    }
  }

  private static String write(ObjectNode message) {
    try {
      return JSON.writeValueAsString(message);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  /** A message that breaks the protocol, with what is wrong as its message. */
  private static final class MalformedException extends Exception {
    MalformedException(String problem) {
      super(problem, null, false, false);
    }
  }
}
