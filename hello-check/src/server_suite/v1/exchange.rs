//! Requests and their answers on v1 sessions (PROTOCOL.md, section 12): the handshake, HELLO
//! and BONJOUR, Echo across the whole i64 range, many in flight, any text, near the limit, the
//! hash, types the server must refuse and carry on after, DISCONNECT, many sessions.

use std::collections::HashMap;

use futures_util::future::join_all;
use hello_protocol::v1::{self, Message as V1};

use super::probe::{check_echo_answer, describe, echo_request, greeting};
use crate::server_suite::echo::utf8_samples;
use crate::server_suite::{Checked, Checker};

impl Checker {
    pub(crate) async fn v1_handshake(&self) -> Checked {
        let probe = self.open_v1_silent().await?;
        let header = |name: &str| probe.handshake.header(name).unwrap_or("(none)").to_owned();
        Ok(format!(
            "upgraded with userId sent; SVR {}, X-Session-Id {}",
            header("SVR"),
            header("X-Session-Id")
        ))
    }

    pub(crate) async fn v1_hello_bonjour(&self) -> Checked {
        let mut probe = self.open_v1_silent().await?;
        let language = probe.hello().await?;
        probe
            .hello()
            .await
            .map_err(|wrong| format!("a second HELLO: {wrong}; answer every HELLO with BONJOUR"))?;
        Ok(format!("BONJOUR {language}"))
    }

    pub(crate) async fn v1_echo_round_trip(&self) -> Checked {
        let mut probe = self.open_v1().await?;
        let mut notes = probe.echo(1, "Hello").await?;
        notes.extend(probe.echo(2, &greeting(2)).await?);
        notes.dedup();
        Ok(notes.join("; "))
    }

    pub(crate) async fn v1_echo_i64_ids(&self) -> Checked {
        let mut probe = self.open_v1().await?;
        for id in [i64::MIN, -1, 0, (1 << 53) + 1, i64::MAX] {
            probe.echo(id, "id range").await.map_err(|wrong| {
                format!("{wrong} (ids are signed 64-bit integers: keep them out of doubles)")
            })?;
        }
        Ok(String::new())
    }

    pub(crate) async fn v1_echo_in_flight(&self, count: i64) -> Checked {
        let mut probe = self.open_v1().await?;
        // Ids spread over the range, in an order that is neither sorted nor reversed.
        let ids: Vec<i64> = (0..count)
            .map(|n| n.wrapping_mul(0x1E37_79B9_7F4A_7C15) ^ 0xA5)
            .collect();
        let data_of = |id: i64| format!("in flight {id}");
        for &id in &ids {
            probe
                .feed_bytes(v1::encode(&echo_request(id, &data_of(id))))
                .await?;
        }
        probe.flush().await?;
        let mut waiting: HashMap<String, i64> =
            ids.iter().map(|&id| (id.to_string(), id)).collect();
        while !waiting.is_empty() {
            let answer = probe.next_answer("ECHO_RESPONSE").await.map_err(|wrong| {
                format!(
                    "{wrong}, with {} of {count} answers still missing",
                    waiting.len()
                )
            })?;
            let kv_id = match &answer {
                V1::EchoResponse { results, .. } => results
                    .first()
                    .and_then(|result| result.kv.iter().find(|(key, _)| key == "id"))
                    .map(|(_, value)| value.clone()),
                _ => None,
            };
            let Some(id) = kv_id.and_then(|kv_id| waiting.remove(&kv_id)) else {
                return Err(format!(
                    "{} answers no request in flight (or answers one twice)",
                    describe(&answer)
                ));
            };
            check_echo_answer(&answer, id, &data_of(id))?;
        }
        Ok(format!("{count} answered"))
    }

    pub(crate) async fn v1_echo_utf8(&self) -> Checked {
        let mut probe = self.open_v1().await?;
        let samples = utf8_samples();
        for (id, data) in (0..).zip(&samples) {
            probe.echo(id, data).await?;
        }
        Ok(format!("{} samples", samples.len()))
    }

    pub(crate) async fn v1_echo_near_limit(&self) -> Checked {
        let mut probe = self.open_v1().await?;
        let envelope = v1::encode(&echo_request(1, "")).len();
        let room = self
            .config
            .max_message_size
            .checked_sub(envelope + 16)
            .ok_or("--max-message-size is too small for this case")?;
        let multibyte = "é".repeat((room / 2).min(1000));
        let data = multibyte.clone() + &"x".repeat(room - multibyte.len());
        probe.echo(1, &data).await?;
        Ok(format!("a frame of {} bytes", envelope + data.len()))
    }

    pub(crate) async fn v1_hash(&self) -> Checked {
        let mut probe = self.open_v1().await?;
        let numbers = [-1, 0, 42, i64::MIN, i64::MAX];
        for (id, number) in (1..).zip(numbers) {
            probe.send(&V1::RandomNumber { id, number }).await?;
            let expected = v1::hash_hex(number);
            match probe.next_answer("HASH_RESPONSE").await? {
                V1::HashResponse { id: came, hash_hex } if came == id && hash_hex == expected => {}
                V1::HashResponse { id: came, hash_hex } => {
                    return Err(format!(
                        "RANDOM_NUMBER id {id} number {number} was answered with id {came}, hash {hash_hex:?}; expected id {id}, hash {expected:?} (the first 10 hex characters of SHA-256 of the number in ASCII decimal)"
                    ));
                }
                other => {
                    return Err(format!(
                        "RANDOM_NUMBER {number} was answered with {}, not HASH_RESPONSE",
                        describe(&other)
                    ));
                }
            }
        }
        Ok(format!("{} numbers, i64 extremes included", numbers.len()))
    }

    /// Sends `frame`, which the server must answer with ERROR code 2 and carry on after.
    async fn refused_and_carried_on(&self, frame: Vec<u8>, what: &str) -> Checked {
        let mut probe = self.open_v1().await?;
        probe.send_bytes(frame).await?;
        let (_, message) = probe
            .expect_error(&[2])
            .await
            .map_err(|wrong| format!("{what}: {wrong}"))?;
        probe.echo(5, "still usable").await.map_err(|wrong| {
            format!("after ERROR 2 the session no longer works: {wrong}; code 2 carries on")
        })?;
        Ok(format!("ERROR 2: {message}"))
    }

    pub(crate) async fn v1_unknown_type(&self) -> Checked {
        let frame = vec![v1::MAGIC, v1::VERSION, 0x42, 0, 0, 0, 0, 0];
        self.refused_and_carried_on(frame, "a frame of type 0x42")
            .await
    }

    pub(crate) async fn v1_wrong_direction(&self) -> Checked {
        let frame = v1::encode(&V1::Ping { timestamp_ms: 1 });
        self.refused_and_carried_on(frame, "a PING sent to the server")
            .await
    }

    pub(crate) async fn v1_disconnect(&self) -> Checked {
        let mut probe = self.open_v1().await?;
        probe
            .send(&V1::Disconnect {
                reason: "done".to_owned(),
            })
            .await?;
        probe.expect_close(1000).await.map_err(|wrong| {
            format!("after DISCONNECT: {wrong}; answer DISCONNECT with Close 1000")
        })?;
        Ok(String::new())
    }

    pub(crate) async fn v1_over_limit(&self) -> Checked {
        let mut probe = self.open_v1().await?;
        let envelope = v1::encode(&echo_request(1, "")).len();
        let data = "x".repeat(self.config.max_message_size + 1 - envelope);
        // The server may close before the whole message is written.
        let _ = probe.send(&echo_request(1, &data)).await;
        probe.expect_close(1009).await?;
        self.open_v1().await?.echo(1, "others unaffected").await?;
        Ok(String::new())
    }

    pub(crate) async fn v1_many_sessions(&self, count: usize) -> Checked {
        let opened = join_all((0..count).map(|_| self.open_v1())).await;
        let mut probes = opened.into_iter().collect::<Result<Vec<_>, _>>()?;
        let answered = join_all(
            (0..)
                .zip(probes.iter_mut())
                .map(|(n, probe)| probe.echo(n, "one of many")),
        )
        .await;
        answered.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok(format!("{count} sessions"))
    }
}
