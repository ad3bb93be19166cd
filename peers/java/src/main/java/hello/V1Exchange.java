package hello;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The client's side of a v1 session (PROTOCOL.md section 12 and peers/README.md): HELLO and the
 * ECHO_REQUESTs at once, a RANDOM_NUMBER every random interval, PONGs and KISS_RESPONSEs, and
 * DISCONNECT at the end. {@link HelloClient} keeps the connection, the Echo bookkeeping and the
 * closing handshake, which are the same in both dialects.
 */
final class V1Exchange {
  private final HelloClient client;
  private final Duration randomInterval;
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          task -> {
            Thread thread = new Thread(task, "random-numbers");
            thread.setDaemon(true);
            return thread;
          });
  private final Map<Long, Long> hashesAwaited = new ConcurrentHashMap<>();
  private final AtomicLong lastRandomId = new AtomicLong();
  private final AtomicBoolean disconnected = new AtomicBoolean();

  V1Exchange(HelloClient client, ClientConfig config) {
    this.client = client;
    this.randomInterval = config.randomInterval();
  }

  /** Says HELLO, sends the ECHO_REQUESTs ids 1 to count, and starts the random numbers. */
  void start(int count, String[] greetings) {
    client.sendBinary(V1Codec.encode(new V1Message.Hello(Messages.LANGUAGE_TAG)));
    for (int i = 1; i <= count; i++) {
      client.sendBinary(
          V1Codec.encode(
              new V1Message.EchoRequest(
                  i, Messages.LANGUAGE_TAG, greetings[(i - 1) % greetings.length])));
    }
    long period = randomInterval.toMillis();
    timer.scheduleAtFixedRate(this::sendRandomNumber, period, period, TimeUnit.MILLISECONDS);
  }

  /** Sends DISCONNECT, once; false when it could not be sent (the session is already closing). */
  boolean disconnect() {
    stop();
    return disconnected.compareAndSet(false, true)
        && client.sendBinary(V1Codec.encode(new V1Message.Disconnect("bye")));
  }

  void stop() {
    timer.shutdownNow();
  }

  void receive(ByteBuffer bytes) {
    V1Message message;
    try {
      message = V1Codec.decode(bytes);
    } catch (V1Codec.FrameException e) {
      client.fault(
          "a v1 frame the client cannot decode (ERROR " + e.code() + "): " + e.getMessage());
      return;
    }
    if (!message.type().sentByServer()) {
      client.fault(message.type() + " is sent by a client, not to one");
    } else if (message instanceof V1Message.Bonjour bonjour) {
      Log.out("bonjour server_language=%s", bonjour.serverLanguage());
    } else if (message instanceof V1Message.EchoResponse response) {
      check(response);
    } else if (message instanceof V1Message.KissRequest request) {
      Messages.KissResponse answer = client.kissResponse();
      if (client.sendBinary(
          V1Codec.encode(
              new V1Message.KissResponse(
                  answer.language(), answer.encoding(), answer.timeZone())))) {
        client.kissAnswered(
            String.format(
                "os_name=%s os_version=%s os_release=%s os_architecture=%s",
                request.osName(),
                request.osVersion(),
                request.osRelease(),
                request.osArchitecture()));
      }
    } else if (message instanceof V1Message.Ping ping) {
      client.serverPinged();
      client.sendBinary(V1Codec.encode(new V1Message.Pong(ping.timestampMs())));
    } else if (message instanceof V1Message.TimeNotification time) {
      Log.out("time timestamp_ms=%d iso8601=%s", time.timestampMs(), time.iso8601());
    } else if (message instanceof V1Message.HashResponse hash) {
      check(hash);
    } else if (message instanceof V1Message.Error error) {
      if (error.code() == V1Message.ErrorCode.UNKNOWN_TYPE) {
        Log.err("client: warning: the server answered ERROR 2: %s", error.message());
      } else {
        client.fault("the server answered ERROR " + error.code() + ": " + error.message());
      }
    }
  }

  private void sendRandomNumber() {
    long id = lastRandomId.incrementAndGet();
    long number = ThreadLocalRandom.current().nextLong();
    hashesAwaited.put(id, number);
    if (!client.sendBinary(V1Codec.encode(new V1Message.RandomNumber(id, number)))) {
      hashesAwaited.remove(id);
    }
  }

  /** Status 200, one result of type OK, matched by {@code kv.id}, with the data sent. */
  private void check(V1Message.EchoResponse response) {
    if (response.status() != 200 || response.results().size() != 1) {
      client.fault(
          "ECHO_RESPONSE with status "
              + response.status()
              + " and "
              + response.results().size()
              + " results, not 200 and one");
      return;
    }
    V1Message.Result result = response.results().get(0);
    String id = value(result, "id");
    String data = value(result, "data");
    if (result.type() != V1Message.Result.OK || id == null || data == null) {
      client.fault("ECHO_RESPONSE whose result is not OK with kv.id and kv.data");
      return;
    }
    BigInteger number;
    try {
      number = new BigInteger(id);
    } catch (NumberFormatException e) {
      client.fault("ECHO_RESPONSE whose kv.id is not a number: " + id);
      return;
    }
    client.echoAnswered(
        number,
        data,
        String.format(
            "echo kv.id=%s data=%s meta=%s idx=%d", id, data, value(result, "meta"), result.idx()));
  }

  private void check(V1Message.HashResponse hash) {
    Long number = hashesAwaited.remove(hash.id());
    if (number == null) {
      client.fault("HASH_RESPONSE for id " + hash.id() + ", which no RANDOM_NUMBER carried");
    } else if (!V1Codec.hashHex(number).equals(hash.hashHex())) {
      client.fault(
          "HASH_RESPONSE "
              + hash.id()
              + " has hash "
              + hash.hashHex()
              + ", not "
              + V1Codec.hashHex(number));
    } else {
      Log.out("hash id=%d number=%d hash_hex=%s", hash.id(), number, hash.hashHex());
    }
  }

  private static String value(V1Message.Result result, String key) {
    for (V1Message.KeyValue entry : result.kv()) {
      if (entry.key().equals(key)) {
        return entry.value();
      }
    }
    return null;
  }
}
