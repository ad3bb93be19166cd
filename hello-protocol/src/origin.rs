//! Which web pages may open a session (PROTOCOL.md, section 2.2): the server's own origins, the
//! ones it was told to allow, and none else. A browser names the page that opened a WebSocket in
//! the `Origin` header; a server that accepted every page would let any site its users visit talk
//! to it as them (cross-site WebSocket hijacking).
//!
//! The policy is built from what the server knows of itself, its host names and the ports it
//! listens on, and never from the request's `Host` header, which DNS rebinding puts in the hands
//! of the page.

use std::fmt;

use http::Uri;

/// What a server accepts as the `Origin` of a handshake.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginPolicy {
    /// The server's own host names, lowercase, IPv6 addresses in brackets.
    own_hosts: Vec<String>,
    /// The ports the server listens on.
    own_ports: Vec<u16>,
    /// Origins allowed besides the server's own.
    allowed: Allowed,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Allowed {
    /// `--allow-origin '*'`.
    Any,
    /// Each as [`Origin::serialized`] writes it.
    Listed(Vec<String>),
}

/// The host names every server has: it is always reachable on loopback by these.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The verdict on one handshake's `Origin`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OriginVerdict {
    /// No `Origin`: not a browser. Accepted.
    Absent,
    /// The server's own origin. Accepted.
    Own,
    /// An origin `--allow-origin` allows. Accepted.
    Allowed,
    /// Anything else: answered 403.
    Refused,
}

impl OriginVerdict {
    /// Whether the handshake may go on.
    pub fn is_accepted(self) -> bool {
        self != OriginVerdict::Refused
    }
}

/// An `--allow-origin` value that is not an origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadOrigin(pub String);

impl fmt::Display for BadOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is not an origin: write it as a browser does, scheme://host[:port] \
             (https://app.example:8443), or '*' for every origin",
            self.0
        )
    }
}

impl std::error::Error for BadOrigin {}

impl OriginPolicy {
    /// A policy for a server known by the loopback names and `hosts` (its `--host` and each
    /// `--san`), listening on `ports`, that also allows `allow` (`*` for every origin).
    ///
    /// # Errors
    /// An `allow` value that is neither `*` nor an origin.
    pub fn new<'a>(
        hosts: impl IntoIterator<Item = &'a str>,
        ports: impl IntoIterator<Item = u16>,
        allow: &[String],
    ) -> Result<Self, BadOrigin> {
        let mut own_hosts: Vec<String> = LOOPBACK_HOSTS.iter().map(|&h| h.to_owned()).collect();
        for host in hosts {
            let host = host_form(host);
            if !host.is_empty() && !own_hosts.contains(&host) {
                own_hosts.push(host);
            }
        }
        let allowed = if allow.iter().any(|origin| origin.trim() == "*") {
            Allowed::Any
        } else {
            let listed = allow
                .iter()
                .map(|origin| {
                    Origin::parse(origin.trim().trim_end_matches('/'))
                        .map(|origin| origin.serialized())
                        .ok_or_else(|| BadOrigin(origin.clone()))
                })
                .collect::<Result<_, _>>()?;
            Allowed::Listed(listed)
        };
        Ok(OriginPolicy {
            own_hosts,
            own_ports: ports.into_iter().collect(),
            allowed,
        })
    }

    /// The verdict on a handshake whose `Origin` header is `origin` (`None` when absent).
    pub fn judge(&self, origin: Option<&[u8]>) -> OriginVerdict {
        let Some(value) = origin else {
            return OriginVerdict::Absent;
        };
        if self.allowed == Allowed::Any {
            return OriginVerdict::Allowed;
        }
        // `null` (a page from a file, a sandboxed frame) and what is not an origin at all are
        // refused here, since they parse as nothing.
        let Some(origin) = std::str::from_utf8(value).ok().and_then(Origin::parse) else {
            return OriginVerdict::Refused;
        };
        if self.own_hosts.contains(&origin.host) && self.own_ports.contains(&origin.port) {
            return OriginVerdict::Own;
        }
        match &self.allowed {
            Allowed::Listed(listed) if listed.contains(&origin.serialized()) => {
                OriginVerdict::Allowed
            }
            _ => OriginVerdict::Refused,
        }
    }
}

/// A host name as an origin writes it: lowercase, an IPv6 address in brackets.
fn host_form(host: &str) -> String {
    let host = host.trim().to_ascii_lowercase();
    if host.contains(':') && !host.starts_with('[') {
        format!("[{host}]")
    } else {
        host
    }
}

/// An http or https origin, with its port made explicit.
struct Origin {
    secure: bool,
    host: String,
    port: u16,
}

impl Origin {
    /// `scheme://host[:port]`, as a browser writes an origin, with nothing after it but an
    /// optional `/`; `None` for anything else, `null` included.
    fn parse(text: &str) -> Option<Origin> {
        let uri: Uri = text.parse().ok()?;
        let secure = match uri.scheme_str()?.to_ascii_lowercase().as_str() {
            "http" => false,
            "https" => true,
            _ => return None,
        };
        let authority = uri.authority()?;
        // An origin is its scheme and authority, nothing else: the parser would set aside a
        // fragment (`#…`) and anything after it, and a path or query are no origin's.
        let rebuilt = format!("{}://{}", uri.scheme_str()?, authority.as_str());
        if !text.eq_ignore_ascii_case(&rebuilt)
            && !text.eq_ignore_ascii_case(&format!("{rebuilt}/"))
        {
            return None;
        }
        // Nor has it user information.
        if authority.as_str().contains('@') {
            return None;
        }
        let host = authority.host();
        if host.is_empty() {
            return None;
        }
        // The parser reads a host and a port out of more than an origin holds
        // (`[::1]junk:9898` is host `[::1]`, port 9898): the authority must be exactly them.
        let exact = match authority.port() {
            Some(port) => authority.as_str() == format!("{host}:{}", port.as_str()),
            None => authority.as_str() == host,
        };
        if !exact {
            return None;
        }
        let port = match authority.port_u16() {
            Some(port) => port,
            // `http://host:` has an empty port, which is no port.
            None if authority.as_str().ends_with(':') => return None,
            None if secure => 443,
            None => 80,
        };
        Some(Origin {
            secure,
            host: host_form(host),
            port,
        })
    }

    /// The origin as compared with `--allow-origin`: lowercase, the port always written.
    fn serialized(&self) -> String {
        let scheme = if self.secure { "https" } else { "http" };
        format!("{scheme}://{}:{}", self.host, self.port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(allow: &[&str]) -> OriginPolicy {
        let allow: Vec<String> = allow.iter().map(|&a| a.to_owned()).collect();
        OriginPolicy::new(["ws.example", "2001:db8::1"], [9898, 9886], &allow)
            .expect("a valid policy")
    }

    fn judge(policy: &OriginPolicy, origin: &str) -> OriginVerdict {
        policy.judge(Some(origin.as_bytes()))
    }

    #[test]
    fn no_origin_is_not_a_browser_and_is_accepted() {
        assert_eq!(policy(&[]).judge(None), OriginVerdict::Absent);
    }

    #[test]
    fn the_servers_own_names_and_ports_are_its_own_origin() {
        let policy = policy(&[]);
        for origin in [
            "http://127.0.0.1:9898",
            "https://127.0.0.1:9886",
            "http://localhost:9898",
            "HTTP://LocalHost:9898",
            "http://[::1]:9898",
            "https://ws.example:9886/",
            "http://[2001:db8::1]:9898",
        ] {
            assert_eq!(judge(&policy, origin), OriginVerdict::Own, "{origin}");
        }
    }

    #[test]
    fn a_missing_port_is_the_schemes_default() {
        let policy = OriginPolicy::new([], [80, 443], &[]).unwrap();
        assert_eq!(judge(&policy, "http://localhost"), OriginVerdict::Own);
        assert_eq!(judge(&policy, "https://localhost"), OriginVerdict::Own);
        let elsewhere = OriginPolicy::new([], [9898], &[]).unwrap();
        assert_eq!(
            judge(&elsewhere, "http://localhost"),
            OriginVerdict::Refused
        );
    }

    #[test]
    fn other_hosts_ports_schemes_and_non_origins_are_refused() {
        let policy = policy(&[]);
        for origin in [
            "https://evil.example",
            "http://127.0.0.1:9899",
            "http://127.0.0.2:9898",
            "ws://127.0.0.1:9898",
            "file://127.0.0.1:9898",
            "null",
            "",
            "127.0.0.1:9898",
            "http://127.0.0.1:9898/page",
            "http://127.0.0.1:9898?x=1",
            "http://user@127.0.0.1:9898",
            "http://127.0.0.1:",
            "http://localhost.evil.example:9898",
            // Found by the fuzz target `origin`: junk between an IPv6 host and its port.
            "http://[::1]ALHOS:9898",
            "https://app.example:8443#@127.0.0.1",
            "http://127.0.0.1:9898#",
        ] {
            assert_eq!(judge(&policy, origin), OriginVerdict::Refused, "{origin:?}");
        }
        assert_eq!(
            policy.judge(Some(b"http://127.0.0.1:9898\xff")),
            OriginVerdict::Refused
        );
    }

    #[test]
    fn allowed_origins_are_compared_without_case_and_trailing_slash() {
        let policy = policy(&["https://App.example:8443/", "http://page.test"]);
        assert_eq!(
            judge(&policy, "https://app.example:8443"),
            OriginVerdict::Allowed
        );
        assert_eq!(
            judge(&policy, "http://page.test:80"),
            OriginVerdict::Allowed
        );
        assert_eq!(
            judge(&policy, "https://app.example:8444"),
            OriginVerdict::Refused
        );
        assert_eq!(judge(&policy, "https://page.test"), OriginVerdict::Refused);
    }

    #[test]
    fn a_star_allows_every_origin_even_null() {
        let policy = policy(&["*"]);
        assert_eq!(
            judge(&policy, "https://evil.example"),
            OriginVerdict::Allowed
        );
        assert_eq!(judge(&policy, "null"), OriginVerdict::Allowed);
        assert!(judge(&policy, "null").is_accepted());
    }

    #[test]
    fn an_allowed_value_that_is_not_an_origin_is_refused_at_start() {
        let error = OriginPolicy::new([], [9898], &["example.com".to_owned()]).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("\"example.com\" is not an origin")
        );
    }
}
