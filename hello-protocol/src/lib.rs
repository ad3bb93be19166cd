//! The Hello WebSocket protocol, with no I/O: what the messages are, how an incoming JSON object is
//! told apart and checked, and the defaults every implementation shares.
//!
//! `PROTOCOL.md` at the repository root is the normative text; this crate is its executable form.
//!
//! # Layout
//! - [`message`]: the five messages (Echo request/response, Error response, Kiss request/response).
//! - [`decode`]: classifying and strictly validating incoming objects, on the server's side
//!   ([`decode_client_message`]) and on the client's ([`decode_server_message`]).
//! - [`defaults`]: ports, path, intervals, limits and header names.
//! - [`locale`]: turning a POSIX locale and a time zone into a Kiss response.
//! - [`name`]: names from the network, bounded, and quoted wherever they are logged.
//! - [`origin`]: which web pages may open a session (the `Origin` policy).
//! - [`dialect`]: JSON or v1, and how a session's first message tells them apart.
//! - [`v1`]: the ecosystem's binary dialect: frames, messages, strict encoding and decoding.

pub mod decode;
pub mod defaults;
pub mod dialect;
pub mod locale;
pub mod message;
pub mod name;
pub mod origin;
pub mod v1;

pub use decode::{
    ClientMessage, DecodeError, MessageKind, ServerMessage, decode_client_message,
    decode_server_message,
};
pub use dialect::Dialect;
pub use message::{
    EchoRequest, EchoResponse, EchoResult, ErrorResponse, GREETINGS, KissRequest, KissResponse,
    ResultKv, encode, encode_echo_answer,
};
pub use name::{Quoted, untrusted_name};
pub use origin::{OriginPolicy, OriginVerdict};
