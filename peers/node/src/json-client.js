// The client's side of a JSON session (PROTOCOL.md sections 3 to 5): Echo requests out, Echo
// and Error responses and Kiss requests in. ws answers the server's Pings by itself.

import { isUtf8 } from "node:buffer";
import {
  InvalidMessage,
  decodeServerMessage,
  echoRequest,
} from "./messages.js";
import { log, quoted } from "./log.js";
import { kissResponse } from "./system.js";

export class JsonConversation {
  /** @param {object} run the client's run (client.js) */
  constructor(run) {
    this.run = run;
    this.kissResponse = JSON.stringify(kissResponse());
    this.heartbeatName = "Ping";
    this.heartbeatInterval = run.config.pingInterval;
  }

  handshakeHeaders(name) {
    return { WhoAmI: name };
  }

  opened() {
    this.run.socket.on("ping", () => this.run.heardFromServer());
  }

  sendEcho(id, data) {
    this.run.socket.send(echoRequest(id, data));
  }

  receive(data, isBinary) {
    const { run } = this;
    if (isBinary && !isUtf8(data)) {
      run.problem("the server sent a binary message that is not UTF-8");
      return;
    }
    let message;
    try {
      message = decodeServerMessage(data.toString("utf8"));
    } catch (error) {
      if (!(error instanceof InvalidMessage)) throw error;
      run.problem(`unusable message from the server: ${error.message}`);
      return;
    }
    if (message.kind === "echo") {
      const { id, kv } = message;
      run.echoAnswered(
        id.toString(),
        kv.data,
        `idx=${kv.idx} data=${quoted(kv.data)} meta=${quoted(kv.meta)} kv.id=${kv.id}`,
      );
    } else if (message.kind === "error") {
      run.problem(
        `the server answered with an Error response (${message.status}): ${message.error}`,
      );
    } else {
      run.socket.send(this.kissResponse);
      run.kissAnswered();
      const { os_name, os_version, os_release, os_architecture } = message;
      log(
        `kiss os_name=${quoted(os_name)} os_version=${quoted(os_version)} ` +
          `os_release=${quoted(os_release)} os_architecture=${quoted(os_architecture)} ` +
          `answered ${this.kissResponse}`,
      );
    }
  }

  stop() {}

  /** Closes with 1000; returns how much longer than the close timeout to wait. */
  sayGoodbye() {
    this.run.socket.close(1000, "done");
    return 0;
  }
}
