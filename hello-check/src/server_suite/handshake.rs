//! The handshake: the headers of the 101 answer, a path that is not the WebSocket's, and the
//! `Origin` policy.

use hello_net::connect;
use tokio_tungstenite::tungstenite::http::Uri;
use uuid::Uuid;

use super::{Checked, Checker};

impl Checker {
    pub(super) async fn handshake(&self) -> Checked {
        let probe = self.open().await?;
        let svr = probe
            .handshake
            .svr()
            .filter(|svr| !svr.trim().is_empty())
            .ok_or("the 101 answer has no SVR header: send `SVR: <language tag>`")?;
        let session_id = probe
            .handshake
            .session_id()
            .ok_or("the 101 answer has no X-Session-Id header: send a fresh UUID v4")?;
        is_uuid_v4(session_id).then_some(()).ok_or_else(|| {
            format!("X-Session-Id {session_id:?} is not a UUID v4 (lowercase, hyphenated)")
        })?;
        Ok(format!("SVR {svr}, X-Session-Id {session_id}"))
    }

    pub(super) async fn path_404(&self) -> Checked {
        let path = format!("/not-the-hello-path-{}", Uuid::new_v4().simple());
        let url = replace_path(&self.config.url, &path)?;
        match self.open_url(&url).await {
            Ok(_) => Err(format!(
                "{path} was upgraded; answer 404 for any path but the configured one"
            )),
            Err(error) if error.contains("HTTP 404") => Ok(String::new()),
            Err(error) => Err(format!("expected HTTP 404 for {path}, got: {error}")),
        }
    }
}

impl Checker {
    /// A browser's handshake is judged by its `Origin` (PROTOCOL.md, section 2.2): a foreign page
    /// and an opaque one (`null`) are refused with 403, the server's own page is served.
    pub(super) async fn origin(&self) -> Checked {
        for foreign in ["https://hello-check.invalid", "null"] {
            match self.open_from(foreign).await {
                Ok(()) => {
                    return Err(format!(
                        "a handshake with Origin {foreign} was upgraded: answer 403 to an origin \
                         that is neither the server's own nor allowed, or any web page can use \
                         the server as its visitors (cross-site WebSocket hijacking)"
                    ));
                }
                Err(error) if error.contains("HTTP 403") => {}
                Err(error) => {
                    return Err(format!(
                        "expected HTTP 403 for Origin {foreign}, got: {error}"
                    ));
                }
            }
        }
        let own = own_origin(&self.config.url)?;
        self.open_from(&own).await.map_err(|error| {
            format!("a handshake with the server's own Origin {own} was refused: {error}")
        })?;
        Ok(format!(
            "403 for a foreign origin and for null, 101 for {own}"
        ))
    }

    /// Opens a session as a page of `origin` would, and closes it.
    async fn open_from(&self, origin: &str) -> Result<(), String> {
        let headers = [("Origin".to_owned(), origin.to_owned())];
        let options = hello_net::ConnectOptions {
            headers: &headers,
            ..self.options(&self.config.url)?
        };
        let (mut ws, _) = connect(&options).await.map_err(|error| error.to_string())?;
        let _ = ws.close(None).await;
        Ok(())
    }
}

/// The origin of a page served where the judged URL points: `http://HOST:PORT` for `ws://`,
/// `https://HOST:PORT` for `wss://`.
fn own_origin(url: &str) -> Result<String, String> {
    let uri: Uri = url
        .parse()
        .map_err(|error| format!("the URL {url:?}: {error}"))?;
    let scheme = match uri.scheme_str() {
        Some("wss") => "https",
        _ => "http",
    };
    let authority = uri
        .authority()
        .ok_or_else(|| format!("the URL {url:?} has no host"))?;
    Ok(format!("{scheme}://{authority}"))
}

fn is_uuid_v4(text: &str) -> bool {
    Uuid::try_parse(text)
        .is_ok_and(|uuid| uuid.get_version_num() == 4 && uuid.hyphenated().to_string() == text)
}

fn replace_path(url: &str, path: &str) -> Result<String, String> {
    let after_scheme = url
        .find("://")
        .map(|at| at + 3)
        .ok_or("the URL has no scheme")?;
    let path_at = url[after_scheme..]
        .find('/')
        .map_or(url.len(), |at| after_scheme + at);
    Ok(format!("{}{path}", &url[..path_at]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_own_origin_is_the_urls_host_and_port_over_http_or_https() {
        assert_eq!(
            own_origin("ws://127.0.0.1:9898/ws").unwrap(),
            "http://127.0.0.1:9898"
        );
        assert_eq!(
            own_origin("wss://localhost:9886/ws?x=1").unwrap(),
            "https://localhost:9886"
        );
    }

    #[test]
    fn paths_are_replaced_whatever_the_url() {
        assert_eq!(replace_path("ws://h:1/ws", "/x").unwrap(), "ws://h:1/x");
        assert_eq!(replace_path("wss://h:1", "/x").unwrap(), "wss://h:1/x");
        assert_eq!(
            replace_path("ws://[::1]:1/a/b", "/x").unwrap(),
            "ws://[::1]:1/x"
        );
    }

    #[test]
    fn only_canonical_v4_uuids_pass() {
        assert!(is_uuid_v4(&Uuid::new_v4().to_string()));
        assert!(!is_uuid_v4(&Uuid::new_v4().simple().to_string()));
        assert!(!is_uuid_v4(&Uuid::new_v4().to_string().to_uppercase()));
        assert!(!is_uuid_v4("00000000-0000-1000-8000-000000000000"));
    }
}
