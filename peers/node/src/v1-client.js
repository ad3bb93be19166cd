// The client's side of a v1 session (PROTOCOL.md section 12): HELLO and ECHO_REQUESTs at once,
// a RANDOM_NUMBER every --random-interval with its HASH_RESPONSE checked, PONG for each PING,
// KISS_RESPONSE for each KISS_REQUEST, and DISCONNECT at the end.

import { randomBytes } from "node:crypto";
import WebSocket from "ws";
import { log, quoted } from "./log.js";
import { LANGUAGE_TAG } from "./messages.js";
import { kissResponse } from "./system.js";
import {
  ErrorCode,
  FrameError,
  ResultType,
  decode,
  encode,
  hashHex,
  isSentByServer,
} from "./v1.js";

export class V1Conversation {
  /** @param {object} run the client's run (client.js) */
  constructor(run) {
    this.run = run;
    this.kissResponse = kissResponse();
    this.heartbeatName = "PING";
    this.heartbeatInterval = run.config.v1PingInterval;
    this.lastRandomId = 0n;
    // RANDOM_NUMBERs awaiting their HASH_RESPONSE: the hash due, by id as a decimal string.
    this.hashesDue = new Map();
    this.randomTimer = null;
  }

  handshakeHeaders(name) {
    return { userId: name, WhoAmI: name };
  }

  send(message) {
    this.run.socket.send(encode(message));
  }

  opened() {
    this.send({ type: "HELLO", client_language: LANGUAGE_TAG });
    this.randomTimer = setInterval(
      () => this.sendRandomNumber(),
      this.run.config.randomInterval,
    );
  }

  sendEcho(id, data) {
    this.send({
      type: "ECHO_REQUEST",
      id: BigInt(id),
      meta: LANGUAGE_TAG,
      data,
    });
  }

  sendRandomNumber() {
    const id = ++this.lastRandomId;
    const number = randomBytes(8).readBigInt64BE();
    this.hashesDue.set(id.toString(), hashHex(number));
    this.send({ type: "RANDOM_NUMBER", id, number });
  }

  receive(data, isBinary) {
    const { run } = this;
    if (!isBinary) {
      run.problem("the server sent a text message on a v1 session");
      return;
    }
    let message;
    try {
      message = decode(data);
    } catch (error) {
      if (!(error instanceof FrameError)) throw error;
      run.problem(
        `an unusable frame from the server (code ${error.code}): ${error.message}`,
      );
      return;
    }
    if (!isSentByServer(message)) {
      run.problem(`the server sent ${message.type}, which only a client sends`);
      return;
    }
    switch (message.type) {
      case "BONJOUR":
        log(`bonjour server_language=${quoted(message.server_language)}`);
        break;
      case "ECHO_RESPONSE":
        this.echoAnswered(message);
        break;
      case "KISS_REQUEST":
        this.send({ type: "KISS_RESPONSE", ...this.kissResponse });
        run.kissAnswered();
        log(
          `kiss os_name=${quoted(message.os_name)} os_version=${quoted(message.os_version)} ` +
            `os_release=${quoted(message.os_release)} ` +
            `os_architecture=${quoted(message.os_architecture)} answered ` +
            `language=${quoted(this.kissResponse.language)} ` +
            `encoding=${quoted(this.kissResponse.encoding)} ` +
            `time_zone=${quoted(this.kissResponse.time_zone)}`,
        );
        break;
      case "PING":
        this.send({ type: "PONG", timestamp_ms: message.timestamp_ms });
        run.heardFromServer();
        break;
      case "TIME_NOTIFICATION":
        log(
          `time timestamp_ms=${message.timestamp_ms} iso8601=${quoted(message.iso8601)}`,
        );
        break;
      case "HASH_RESPONSE":
        this.hashAnswered(message);
        break;
      case "ERROR":
        if (message.code === ErrorCode.UNKNOWN_TYPE) {
          process.stderr.write(
            `warning: the server sent ERROR 2: ${quoted(message.message)}\n`,
          );
        } else {
          run.problem(
            `the server sent ERROR ${message.code}: ${quoted(message.message)}`,
          );
        }
        break;
    }
  }

  echoAnswered({ status, results }) {
    const { run } = this;
    if (
      status !== 200 ||
      results.length !== 1 ||
      results[0].type !== ResultType.OK
    ) {
      run.problem(
        `an ECHO_RESPONSE of status ${status} with ${results.length} result(s), ` +
          "not status 200 with one result of type OK",
      );
      return;
    }
    const [{ idx, kv }] = results;
    const value = (key) => kv.find(([name]) => name === key)?.[1];
    const [id, data, meta] = ["id", "data", "meta"].map(value);
    if (id === undefined || data === undefined) {
      run.problem("an ECHO_RESPONSE without kv.id or kv.data");
      return;
    }
    run.echoAnswered(
      id,
      data,
      `idx=${idx} data=${quoted(data)} meta=${quoted(meta ?? "")}`,
    );
  }

  hashAnswered({ id, hash_hex }) {
    const key = id.toString();
    const due = this.hashesDue.get(key);
    if (due === undefined) {
      this.run.problem(`a HASH_RESPONSE for id ${key}, which is not in flight`);
      return;
    }
    this.hashesDue.delete(key);
    if (hash_hex === due) {
      log(`hash id=${key} hash_hex=${hash_hex}`);
    } else {
      this.run.problem(
        `the HASH_RESPONSE for id ${key} carries ${quoted(hash_hex)}, not "${due}"`,
      );
    }
  }

  stop() {
    clearInterval(this.randomTimer);
  }

  /**
   * Sends DISCONNECT and gives the server --timeout to close with 1000 (ws answers its Close),
   * closing with 1000 itself when none came. Returns how much longer than the close timeout to
   * wait.
   */
  sayGoodbye() {
    const { socket, config } = this.run;
    this.send({ type: "DISCONNECT", reason: "" });
    setTimeout(() => {
      if (socket.readyState === WebSocket.OPEN) socket.close(1000, "done");
    }, config.timeout);
    return config.timeout;
  }
}
