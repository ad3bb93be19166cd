// TCP connections, from accept to close, before and around the HTTP server that does the
// WebSocket handshakes: each is counted against --max-connections from the moment it is
// accepted, dropped when its handshake (TLS and WebSocket) is not done within
// --handshake-timeout, and wrapped in TLS for wss://. The HTTP server never listens itself; the
// listeners hand it each connection, so the TCP socket under a session stays within reach (for
// the reset of an evicted session, section 5).

import net from "node:net";
import tls from "node:tls";

/** One accepted connection: the TCP socket, and the socket HTTP and WebSocket are spoken on. */
class Connection {
  constructor(tcpSocket, socket, overLimit) {
    this.tcpSocket = tcpSocket;
    /** The TCP socket itself for ws://, the TLS socket over it for wss://. */
    this.socket = socket;
    /** Accepted beyond --max-connections: its handshake gets 503. */
    this.overLimit = overLimit;
    this.handshakeTimer = null;
  }

  /** The WebSocket handshake is over: the connection is no longer on the clock. */
  handshakeDone() {
    clearTimeout(this.handshakeTimer);
  }

  /** Drops the connection at once. */
  destroy() {
    this.socket.destroy();
    this.tcpSocket.destroy();
  }
}

export class Connections {
  /**
   * @param {object} params
   * @param {import("node:http").Server} params.httpServer does the handshakes; never listens
   * @param {number} params.maxConnections connections served at once, counted from accept
   * @param {number} params.handshakeTimeout ms from accept to a finished WebSocket handshake
   */
  constructor({ httpServer, maxConnections, handshakeTimeout }) {
    this.httpServer = httpServer;
    this.maxConnections = maxConnections;
    this.handshakeTimeout = handshakeTimeout;
    this.open = 0;
    this.bySocket = new WeakMap();
  }

  /** A TCP listener whose connections are served as ws://, or wss:// given a secure context. */
  createListener(secureContext = null) {
    return net.createServer({ noDelay: true }, (tcpSocket) =>
      this.accept(tcpSocket, secureContext),
    );
  }

  /** The connection a socket the HTTP server saw belongs to. */
  of(socket) {
    return this.bySocket.get(socket);
  }

  accept(tcpSocket, secureContext) {
    this.open++;
    // Errors end the connection ('close' follows); the sockets' owners report what they need.
    tcpSocket.on("error", () => {});
    let socket = tcpSocket;
    if (secureContext !== null) {
      socket = new tls.TLSSocket(tcpSocket, { isServer: true, secureContext });
      socket.on("error", () => socket.destroy());
    }
    const connection = new Connection(
      tcpSocket,
      socket,
      this.open > this.maxConnections,
    );
    this.bySocket.set(socket, connection);

    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.open--;
      connection.handshakeDone();
    };
    tcpSocket.once("close", release);
    socket.once("close", release);
    connection.handshakeTimer = setTimeout(
      () => connection.destroy(),
      this.handshakeTimeout,
    );
    this.httpServer.emit("connection", socket);
  }
}
