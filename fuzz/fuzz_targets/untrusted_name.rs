//! Names from the network (PROTOCOL.md, section 2.1): the bytes of a `WhoAmI` or `userId` header
//! value, turned into a session's name by `untrusted_name`, and every string a client sends
//! written into the log by `Quoted`.
//!
//! A name is non-empty, at most `MAX_NAME_BYTES`, and trimmed (no white space at either end);
//! `None` is only for a value that is blank once decoded. Quoted, a string is one JSON string
//! that parses back to itself and holds no raw control character of C0 (a line break, a tab,
//! an escape): it forges neither a field nor a line of the log.

#![no_main]

use hello_protocol::defaults::MAX_NAME_BYTES;
use hello_protocol::{Quoted, untrusted_name};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|header_value: &[u8]| {
    let decoded = String::from_utf8_lossy(header_value);
    match untrusted_name(header_value) {
        None => assert!(
            decoded.trim().is_empty(),
            "no name for {decoded:?}, which is not blank"
        ),
        Some(name) => {
            assert!(!name.is_empty());
            assert!(
                name.len() <= MAX_NAME_BYTES,
                "{} bytes, over {MAX_NAME_BYTES}",
                name.len()
            );
            assert_eq!(name.trim(), name, "a name is trimmed at both ends");
            assert!(
                decoded.trim().starts_with(&name),
                "{name:?} is not the start of {decoded:?}, trimmed"
            );
            assert_quoted(&name);
        }
    }
    // A Kiss response's strings are logged quoted too, whole.
    assert_quoted(&decoded);
});

fn assert_quoted(text: &str) {
    let quoted = Quoted(text).to_string();
    assert!(quoted.len() >= 2 && quoted.starts_with('"') && quoted.ends_with('"'));
    let parsed: String = serde_json::from_str(&quoted).expect("a quoted string is JSON");
    assert_eq!(parsed, text, "{quoted} parses back to another string");
    assert!(
        !quoted.chars().any(|c| c < ' '),
        "{quoted} holds a raw control character"
    );
}
