//! This host's facts: the OS facts a server sends in every Kiss request (PROTOCOL.md, section
//! 3.5), and the locale and time zone a client sends back (section 3.6).

use hello_protocol::locale::{effective_locale, is_iana_name, kiss_response};
use hello_protocol::{KissRequest, KissResponse};
use sysinfo::System;

/// Reads the host's OS name, version, kernel release and CPU architecture. Facts the platform
/// does not report are sent as `"unknown"`, never empty.
pub fn host_kiss_request() -> KissRequest {
    let known = |fact: Option<String>| {
        fact.filter(|value| !value.trim().is_empty())
            .unwrap_or_else(|| "unknown".to_owned())
    };
    KissRequest {
        os_name: known(System::name().ok()),
        os_version: known(System::os_version().ok()),
        os_release: known(System::kernel_version().ok()),
        os_architecture: known(Some(System::cpu_arch())),
    }
}

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
        .filter(|tz| is_iana_name(tz));
    from_env.or_else(|| iana_time_zone::get_timezone().ok())
}
