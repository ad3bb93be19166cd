//! Echo requests answered as PROTOCOL.md section 3 says: field by field, ids across the whole
//! u64 range, many in flight, any text, up to the limit, in a binary frame too.

use std::collections::HashSet;

use tokio_tungstenite::tungstenite::Message;

use super::probe::request_text;
use hello_protocol::GREETINGS;

use super::{Checked, Checker};

impl Checker {
    pub(super) async fn echo_round_trip(&self) -> Checked {
        let mut probe = self.open().await?;
        let first = probe.echo(1, "Hello").await?;
        let second = probe.echo(1, "Hello").await?;
        let (first, second) = (first.result(), second.result());
        if first.kv.id == second.kv.id {
            return Err(format!(
                "two answers carried the same `kv.id` {:?}: make a fresh UUID v4 for each response",
                first.kv.id
            ));
        }
        Ok(format!("meta {}", first.kv.meta))
    }

    pub(super) async fn echo_u64_ids(&self) -> Checked {
        let mut probe = self.open().await?;
        for id in [0, (1 << 53) + 1, u64::MAX] {
            probe.echo(id, "id range").await.map_err(|wrong| {
                format!("{wrong} (ids are unsigned 64-bit integers: parse them without going through a double or a signed long)")
            })?;
        }
        Ok(String::new())
    }

    pub(super) async fn echo_in_flight(&self, count: u64) -> Checked {
        let mut probe = self.open().await?;
        // Ids spread over the range, in an order that is neither sorted nor reversed.
        let ids: Vec<u64> = (0..count)
            .map(|n| n.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5)
            .collect();
        let data_of = |id: u64| format!("in flight {id}");
        for &id in &ids {
            probe.feed(&request_text(id, &data_of(id))).await?;
        }
        probe.flush().await?;
        let mut waiting: HashSet<u64> = ids.iter().copied().collect();
        while !waiting.is_empty() {
            let response = probe.echo_response().await.map_err(|wrong| {
                format!(
                    "{wrong}, with {} of {count} answers still missing",
                    waiting.len()
                )
            })?;
            let result = response.result();
            if !waiting.remove(&result.id) {
                return Err(format!(
                    "an answer for id {} that was not in flight (or a second answer to it)",
                    result.id
                ));
            }
            if result.kv.data != data_of(result.id) {
                return Err(format!(
                    "the answer for id {} carries another request's data {:?}",
                    result.id, result.kv.data
                ));
            }
        }
        Ok(format!("{count} answered"))
    }

    pub(super) async fn echo_utf8(&self) -> Checked {
        let mut probe = self.open().await?;
        let samples = utf8_samples();
        for (id, data) in samples.iter().enumerate() {
            probe.echo(id as u64, data).await?;
        }
        // The same code points written as escapes in the request.
        probe
            .send_text(r#"{"id": 900, "data": "caf\u00e9 \ud83d\udc4b", "meta": "RUST"}"#)
            .await?;
        probe.expect_echo(900, "café 👋").await?;
        Ok(format!("{} samples", samples.len() + 1))
    }

    pub(super) async fn echo_near_limit(&self) -> Checked {
        let mut probe = self.open().await?;
        let envelope = request_text(1, "").len();
        let room = self
            .config
            .max_message_size
            .checked_sub(envelope + 16)
            .ok_or("--max-message-size is too small for this case")?;
        let multibyte = "é".repeat((room / 2).min(1000));
        let data = multibyte.clone() + &"x".repeat(room - multibyte.len());
        probe.echo(1, &data).await?;
        Ok(format!("{} bytes", request_text(1, &data).len()))
    }

    pub(super) async fn unknown_keys_ignored(&self) -> Checked {
        let mut probe = self.open().await?;
        probe
            .send_text(r#"{"trace": {"span": [1, 2]}, "id": 7, "data": "extra keys", "meta": "RUST", "zz": null}"#)
            .await?;
        probe.expect_echo(7, "extra keys").await?;
        Ok(String::new())
    }

    pub(super) async fn binary_frame(&self) -> Checked {
        let mut probe = self.open().await?;
        let request = request_text(8, "in a binary frame");
        probe
            .send(Message::Binary(request.into_bytes().into()))
            .await?;
        probe.expect_echo(8, "in a binary frame").await?;
        Ok(String::new())
    }
}

/// Text every dialect must carry unchanged: the greetings, scripts of every direction, emoji
/// with modifiers and joiners, the empty string, JSON's special characters, controls, and the
/// last code point.
pub(super) fn utf8_samples() -> Vec<&'static str> {
    GREETINGS
        .into_iter()
        .chain([
            "Привет",
            "مرحبا",
            "👋🏽",
            "👨‍👩‍👧‍👦 family",
            "",
            "quote \" backslash \\ slash /",
            "control \n\t\r\u{1} \u{7f}",
            "\u{10FFFF}",
        ])
        .collect()
}
