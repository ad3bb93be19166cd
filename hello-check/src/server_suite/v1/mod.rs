//! The server suite's v1 cases (`--dialect v1`): PROTOCOL.md sections 11 and 12, judged over
//! v1 sessions the checker opens as a v1 client of the ecosystem does: `userId` and `WhoAmI`
//! sent, HELLO first.
//!
//! [`probe`] is one such session; [`exchange`] holds the request and answer cases, [`malformed`]
//! the bad frames, [`timers`] PING, TIME_NOTIFICATION, KISS_REQUEST and the session timeout.

mod exchange;
pub(crate) mod malformed;
pub(crate) mod probe;
pub(crate) mod timers;

use hello_net::connect;
use hello_protocol::defaults;
use probe::V1Probe;

use super::Checker;

impl Checker {
    /// A v1 session that has said HELLO and been answered BONJOUR.
    pub(crate) async fn open_v1(&self) -> Result<V1Probe, String> {
        let mut probe = self.open_v1_silent().await?;
        probe
            .hello()
            .await
            .map_err(|wrong| format!("opening a v1 session: {wrong}"))?;
        Ok(probe)
    }

    /// A session upgraded with the v1 client's headers, that has sent nothing yet.
    pub(crate) async fn open_v1_silent(&self) -> Result<V1Probe, String> {
        let headers = [(
            defaults::USER_ID_HEADER.to_owned(),
            "hello-check".to_owned(),
        )];
        let options = hello_net::ConnectOptions {
            headers: &headers,
            ..self.options(&self.config.url)?
        };
        let (ws, handshake) = connect(&options).await.map_err(|error| error.to_string())?;
        self.note_svr(&handshake);
        Ok(V1Probe {
            ws,
            handshake,
            timeout: self.config.timeout,
        })
    }
}
