//! Sessions as a whole: a clean close answered, and many at once kept apart.

use std::collections::HashSet;

use futures_util::StreamExt;
use futures_util::future::join_all;
use tokio::time::{Instant, timeout_at};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

use super::human;

use super::{Checked, Checker};

impl Checker {
    pub(super) async fn clean_close(&self) -> Checked {
        let mut probe = self.open().await?;
        let frame = CloseFrame {
            code: CloseCode::Normal,
            reason: Utf8Bytes::from_static("bye"),
        };
        probe.send(Message::Close(Some(frame))).await?;
        let deadline = Instant::now() + probe.timeout;
        loop {
            match timeout_at(deadline, probe.ws.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => {
                    let code =
                        frame.map_or("no code".to_owned(), |f| u16::from(f.code).to_string());
                    return Ok(format!("answered with Close ({code})"));
                }
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(error))) => {
                    return Err(format!("the connection failed instead of a Close: {error}"));
                }
                Ok(None) => {
                    return Err("the connection ended without answering the Close".to_owned());
                }
                Err(_) => {
                    return Err(format!(
                        "no Close came back within {}",
                        human(probe.timeout)
                    ));
                }
            }
        }
    }

    pub(super) async fn many_sessions(&self, count: usize) -> Checked {
        let opened = join_all((0..count).map(|_| self.open())).await;
        let mut probes = opened.into_iter().collect::<Result<Vec<_>, _>>()?;
        let ids: HashSet<String> = probes
            .iter()
            .filter_map(|probe| probe.handshake.session_id().map(str::to_owned))
            .collect();
        if ids.len() != count {
            return Err(format!(
                "{count} sessions got only {} distinct X-Session-Id values",
                ids.len()
            ));
        }
        let answered = join_all(
            probes
                .iter_mut()
                .enumerate()
                .map(|(n, probe)| probe.echo(n as u64, "one of many")),
        )
        .await;
        answered.into_iter().collect::<Result<Vec<_>, _>>()?;
        Ok(format!("{count} sessions"))
    }
}
