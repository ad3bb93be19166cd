//! The handshake: the headers of the 101 answer, and a path that is not the WebSocket's.

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
