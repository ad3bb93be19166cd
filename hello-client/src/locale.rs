//! The client's answer to a Kiss, read from this system (PROTOCOL.md, section 3.6).

use hello_protocol::KissResponse;
use hello_protocol::locale::{effective_locale, kiss_response};

/// The locale from `LC_ALL`, `LC_MESSAGES` or `LANG`, and the IANA time zone from `TZ` or the
/// system's setting.
pub fn local_kiss_response() -> KissResponse {
    let variables = ["LC_ALL", "LC_MESSAGES", "LANG"].map(|name| std::env::var(name).ok());
    let locale = effective_locale(variables.iter().map(Option::as_deref));
    let time_zone = local_time_zone();
    kiss_response(locale, time_zone.as_deref())
}

fn local_time_zone() -> Option<String> {
    // TZ may hold an IANA name, optionally behind ':'; POSIX rules like "CET-1" are not names.
    let from_env = std::env::var("TZ")
        .ok()
        .map(|tz| tz.trim_start_matches(':').to_owned())
        .filter(|tz| looks_like_iana_name(tz));
    from_env.or_else(|| iana_time_zone::get_timezone().ok())
}

fn looks_like_iana_name(tz: &str) -> bool {
    !tz.is_empty()
        && !tz.starts_with('/')
        && tz
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '+'))
        && (tz.contains('/') || tz == "UTC" || tz == "GMT")
}

#[cfg(test)]
mod tests {
    use super::looks_like_iana_name;

    #[test]
    fn iana_names_are_told_from_posix_rules() {
        for name in [
            "Europe/Paris",
            "America/Argentina/Buenos_Aires",
            "Etc/GMT+5",
            "UTC",
        ] {
            assert!(looks_like_iana_name(name), "{name}");
        }
        for rule in ["CET-1CEST", "", "/etc/localtime", "EST5EDT,M3.2.0"] {
            assert!(!looks_like_iana_name(rule), "{rule}");
        }
    }
}
