//! The Origin policy (PROTOCOL.md, section 2.2): the bytes of a handshake's `Origin` header,
//! judged by `OriginPolicy::judge` for a server with its own names and ports and one allowed
//! origin.
//!
//! No input panics it. Only an http or https origin is accepted, the server's own only with one
//! of its names (so a look-alike such as `localhost.evil.example` is refused), and the verdict
//! does not depend on the case of the letters, as host names and schemes do not. A policy that
//! allows `*` accepts every origin.

#![no_main]

use hello_protocol::{OriginPolicy, OriginVerdict};
use libfuzzer_sys::fuzz_target;

const OWN_HOSTS: [&str; 4] = ["localhost", "127.0.0.1", "[::1]", "ws.example"];

fuzz_target!(|origin: &[u8]| {
    let allowed = ["https://app.example:8443".to_owned()];
    let policy = OriginPolicy::new(["ws.example"], [9898, 9886], &allowed).expect("a valid policy");
    let verdict = policy.judge(Some(origin));
    assert_eq!(policy.judge(None), OriginVerdict::Absent);
    if verdict != OriginVerdict::Refused {
        let text = std::str::from_utf8(origin).expect("an accepted origin is UTF-8");
        let lower = text.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("http://")
            .or_else(|| lower.strip_prefix("https://"))
            .unwrap_or_else(|| panic!("{text:?} accepted without http or https"));
        assert!(
            !rest.contains('@'),
            "{text:?} accepted with user information"
        );
        if verdict == OriginVerdict::Own {
            let host_ends = |host: &&str| {
                rest.strip_prefix(host)
                    .is_some_and(|after| after.is_empty() || after.starts_with([':', '/']))
            };
            assert!(
                OWN_HOSTS.iter().any(host_ends),
                "{text:?} accepted as the server's own without one of its names"
            );
        }
    }
    assert_eq!(
        policy.judge(Some(&origin.to_ascii_uppercase())),
        verdict,
        "the case of {:?} changed the verdict",
        String::from_utf8_lossy(origin)
    );
    let anything = OriginPolicy::new([], [9898], &["*".to_owned()]).expect("a valid policy");
    assert_eq!(anything.judge(Some(origin)), OriginVerdict::Allowed);
});
