//! The server host's facts sent in every Kiss request (PROTOCOL.md, section 3.5).

use hello_protocol::KissRequest;
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
