package hello;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** The v1 codec against the shared vectors of the repository (PROTOCOL.md section 11.5). */
class V1CodecTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @TestFactory
  Stream<DynamicTest> sharedVectors() throws IOException {
    Path vectors = Path.of(System.getProperty("hello.vectors", "../../vectors/v1.json"));
    JsonNode list = JSON.readTree(vectors.toFile());
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode vector : list) {
      tests.add(DynamicTest.dynamicTest(vector.get("name").asText(), () -> check(vector)));
    }
    if (tests.size() < 4) {
      fail("too few vectors in " + vectors);
    }
    return tests.stream();
  }

  private static void check(JsonNode vector) throws Exception {
    byte[] frame = HexFormat.of().parseHex(vector.get("hex").asText());
    JsonNode expect = vector.get("expect");
    if (expect.has("error")) {
      V1Codec.FrameException refused =
          assertThrows(V1Codec.FrameException.class, () -> V1Codec.decode(ByteBuffer.wrap(frame)));
      assertEquals(expect.get("error").asInt(), refused.code(), refused.getMessage());
      return;
    }
    V1Message message = V1Codec.decode(ByteBuffer.wrap(frame));
    assertEquals(expect.get("type").asText(), message.type().name());
    assertEquals(JSON.convertValue(expect.get("fields"), Map.class), fieldsOf(message));
    byte[] withoutFlags = frame.clone();
    withoutFlags[3] = 0;
    assertArrayEquals(withoutFlags, V1Codec.encode(message));
  }

  /** The message's fields as the vectors write them: every integer as a decimal string. */
  private static Map<String, Object> fieldsOf(V1Message message) {
    Map<String, Object> fields = new LinkedHashMap<>();
    if (message instanceof V1Message.Hello m) {
      fields.put("client_language", m.clientLanguage());
    } else if (message instanceof V1Message.Bonjour m) {
      fields.put("server_language", m.serverLanguage());
    } else if (message instanceof V1Message.EchoRequest m) {
      fields.put("id", Long.toString(m.id()));
      fields.put("meta", m.meta());
      fields.put("data", m.data());
    } else if (message instanceof V1Message.EchoResponse m) {
      fields.put("status", Integer.toString(m.status()));
      List<Object> results = new ArrayList<>();
      for (V1Message.Result result : m.results()) {
        Map<String, Object> fieldsOfResult = new LinkedHashMap<>();
        fieldsOfResult.put("idx", Long.toString(result.idx()));
        fieldsOfResult.put("type", Integer.toString(result.type()));
        List<Object> kv = new ArrayList<>();
        for (V1Message.KeyValue entry : result.kv()) {
          kv.add(List.of(entry.key(), entry.value()));
        }
        fieldsOfResult.put("kv", kv);
        results.add(fieldsOfResult);
      }
      fields.put("results", results);
    } else if (message instanceof V1Message.KissRequest m) {
      fields.put("os_name", m.osName());
      fields.put("os_version", m.osVersion());
      fields.put("os_release", m.osRelease());
      fields.put("os_architecture", m.osArchitecture());
    } else if (message instanceof V1Message.KissResponse m) {
      fields.put("language", m.language());
      fields.put("encoding", m.encoding());
      fields.put("time_zone", m.timeZone());
    } else if (message instanceof V1Message.Ping m) {
      fields.put("timestamp_ms", Long.toString(m.timestampMs()));
    } else if (message instanceof V1Message.Pong m) {
      fields.put("timestamp_ms", Long.toString(m.timestampMs()));
    } else if (message instanceof V1Message.TimeNotification m) {
      fields.put("timestamp_ms", Long.toString(m.timestampMs()));
      fields.put("iso8601", m.iso8601());
    } else if (message instanceof V1Message.RandomNumber m) {
      fields.put("id", Long.toString(m.id()));
      fields.put("number", Long.toString(m.number()));
    } else if (message instanceof V1Message.HashResponse m) {
      fields.put("id", Long.toString(m.id()));
      fields.put("hash_hex", m.hashHex());
    } else if (message instanceof V1Message.Disconnect m) {
      fields.put("reason", m.reason());
    } else if (message instanceof V1Message.Error m) {
      fields.put("code", Integer.toString(m.code()));
      fields.put("message", m.message());
    }
    return fields;
  }

  @Test
  void hashOfMinusOneIsThePublishedOne() {
    assertEquals("1bad6b8cf9", V1Codec.hashHex(-1));
  }

  @Test
  void timeNotificationNamesTheSameMillisecond() {
    V1Message.TimeNotification time =
        V1Codec.timeNotification(Instant.ofEpochMilli(1_764_547_200_123L).plusNanos(456_789));
    assertEquals(1_764_547_200_123L, time.timestampMs());
    assertEquals("2025-12-01T00:00:00.123Z", time.iso8601());
  }

  @Test
  void echoAnswerFollowsSection12Point4() {
    V1Message.EchoResponse answer =
        V1Codec.echoAnswer(new V1Message.EchoRequest(-5, "GO", "hé"), "JAVA");
    assertEquals(200, answer.status());
    assertEquals(1, answer.results().size());
    V1Message.Result result = answer.results().get(0);
    assertEquals(-5, result.idx());
    assertEquals(V1Message.Result.OK, result.type());
    assertEquals(
        List.of(
            new V1Message.KeyValue("id", "-5"),
            new V1Message.KeyValue("data", "hé"),
            new V1Message.KeyValue("meta", "JAVA"),
            new V1Message.KeyValue("idx", "-5")),
        result.kv());
  }
}
