//! The v1 codec (PROTOCOL.md, section 11) on any bytes: `v1::decode`, which the server calls on
//! each binary message from a client and the client on each from a server. Both use the one
//! decoder; the direction is checked on what it decoded (`client_sends`, `server_sends`).
//!
//! Beyond "no panic":
//! - a frame that decodes encodes back to the same bytes, flags aside (section 11.5), and its
//!   encoding decodes to the same message;
//! - a frame that is refused gets the code of the first check that fails, in the order of
//!   section 11.4: size, magic, version, length, type, then the payload (code 1);
//! - the ERROR frame that answers a refusal decodes to the same code and text.

#![no_main]

use hello_protocol::Dialect;
use hello_protocol::v1::{self, ErrorCode, HEADER_LEN, MAGIC, Message, VERSION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|frame: &[u8]| {
    let decoded = v1::decode(frame);
    let expected = code_by_header(frame);
    match decoded {
        Ok(message) => {
            assert_eq!(expected, None, "{frame:02x?} decoded, its header is bad");
            assert_decoded(frame, &message);
        }
        Err(refused) => {
            assert_eq!(
                refused.code,
                expected.unwrap_or(ErrorCode::Decode),
                "{frame:02x?}: {refused}"
            );
            assert!(!refused.what.is_empty());
            let answer = v1::encode(&Message::Error {
                code: refused.code.number(),
                message: refused.what.clone(),
            });
            assert_eq!(
                v1::decode(&answer),
                Ok(Message::Error {
                    code: refused.code.number(),
                    message: refused.what,
                })
            );
        }
    }
});

fn assert_decoded(frame: &[u8], message: &Message) {
    assert!(v1::is_v1(frame));
    assert_eq!(Dialect::of_first_message(frame), Dialect::V1);
    assert_eq!(message.type_byte(), frame[2]);
    assert!(message.client_sends() || message.server_sends());
    let encoded = v1::encode(message);
    let mut without_flags = frame.to_vec();
    without_flags[3] = 0;
    assert_eq!(
        encoded, without_flags,
        "{message:?} encodes to other bytes than the frame it came from"
    );
    assert_eq!(v1::decode(&encoded).as_ref(), Ok(message));
}

/// The code the header alone calls for (section 11.4's order), `None` for a good header.
fn code_by_header(frame: &[u8]) -> Option<ErrorCode> {
    let Some((header, payload)) = frame.split_first_chunk::<HEADER_LEN>() else {
        return Some(ErrorCode::Decode);
    };
    let length = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if header[0] != MAGIC {
        Some(ErrorCode::BadMagic)
    } else if header[1] != VERSION {
        Some(ErrorCode::BadVersion)
    } else if length > payload.len() {
        Some(ErrorCode::LengthOverrun)
    } else if length < payload.len() {
        Some(ErrorCode::Decode)
    } else if v1::type_name(header[2]).is_none() {
        Some(ErrorCode::UnknownType)
    } else {
        None
    }
}
