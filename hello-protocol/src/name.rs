//! Names that come from the network (PROTOCOL.md, section 2.1): a client's `WhoAmI` or `userId`,
//! and the strings of its Kiss response. They are untrusted: a name is cut to a bounded length,
//! and whatever came from a client is logged as a JSON string, so that it can forge neither a
//! field nor a line of the log.

use std::fmt;

use crate::defaults;

/// The name a header value gives a session: decoded as UTF-8 (a byte that is not becomes
/// U+FFFD), trimmed, and cut to at most [`defaults::MAX_NAME_BYTES`] at a character boundary,
/// then trimmed again at its end, where the cut may have left white space. `None` for a value
/// that is empty once trimmed.
pub fn untrusted_name(value: &[u8]) -> Option<String> {
    let decoded = String::from_utf8_lossy(value);
    let trimmed = decoded.trim();
    if trimmed.is_empty() {
        return None;
    }
    // Not empty: the trimmed value starts with a character that is not white space, and no
    // character is longer than the limit.
    Some(
        cut_at_char_boundary(trimmed, defaults::MAX_NAME_BYTES)
            .trim_end()
            .to_owned(),
    )
}

/// The longest prefix of `text` of at most `max_bytes` that ends on a character boundary.
fn cut_at_char_boundary(text: &str, max_bytes: usize) -> &str {
    if text.len() <= max_bytes {
        return text;
    }
    let end = (0..=max_bytes)
        .rev()
        .find(|&end| text.is_char_boundary(end))
        .unwrap_or(0);
    &text[..end]
}

/// Displays a string that came from the network as a JSON string, quotes included: `"evil
/// reason=pong timeout"`, `"two\nlines"`. Log fields written with it cannot be forged.
#[derive(Debug, Clone, Copy)]
pub struct Quoted<'a>(pub &'a str);

impl fmt::Display for Quoted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let json = serde_json::to_string(self.0).map_err(|_| fmt::Error)?;
        f.write_str(&json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_trimmed_and_blank_is_none() {
        assert_eq!(untrusted_name(b"  alice \t").as_deref(), Some("alice"));
        assert_eq!(untrusted_name(b"   "), None);
        assert_eq!(untrusted_name(b""), None);
    }

    #[test]
    fn a_long_name_is_cut_at_a_character_boundary() {
        let long = "a".repeat(5000);
        assert_eq!(untrusted_name(long.as_bytes()).unwrap().len(), 128);
        // 127 ASCII bytes, then a 3-byte character across the 128-byte line: it goes whole.
        let across = format!("{}こんにちは", "a".repeat(127));
        let cut = untrusted_name(across.as_bytes()).unwrap();
        assert_eq!(cut, "a".repeat(127));
        // 126 ASCII bytes and a 2-byte character end exactly at 128.
        let exact = format!("{}é", "a".repeat(126));
        assert_eq!(untrusted_name(exact.as_bytes()).unwrap(), exact);
    }

    #[test]
    fn a_cut_that_ends_in_white_space_is_trimmed_again() {
        // Found by the fuzz target untrusted_name: 127 bytes, a space, then more.
        let spaced = format!("{} b", "a".repeat(127));
        assert_eq!(untrusted_name(spaced.as_bytes()).unwrap(), "a".repeat(127));
        let ideographic = format!("{}\u{3000}\u{3000}b", "a".repeat(122));
        assert_eq!(
            untrusted_name(ideographic.as_bytes()).unwrap(),
            "a".repeat(122)
        );
    }

    #[test]
    fn bytes_that_are_not_utf8_become_replacement_characters() {
        assert_eq!(untrusted_name(b"bob\xff").as_deref(), Some("bob\u{fffd}"));
    }

    #[test]
    fn quoted_names_cannot_forge_a_field_or_a_line() {
        assert_eq!(
            Quoted("evil reason=pong timeout").to_string(),
            r#""evil reason=pong timeout""#
        );
        assert_eq!(
            Quoted("a\"b\\c\nd\u{1b}").to_string(),
            r#""a\"b\\c\nd\u001b""#
        );
        assert_eq!(Quoted("こんにちは").to_string(), "\"こんにちは\"");
    }
}
