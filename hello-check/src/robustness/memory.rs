//! The server's memory while a case presses it: its resident set (`VmRSS` in
//! `/proc/PID/status`) before, at its peak and after, and, as a figure only since it counts the
//! whole machine, the kernel's TCP memory (`/proc/net/sockstat`, `TCP: … mem PAGES`).

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::mib;

/// How often the memory is sampled while a case runs.
const PERIOD: Duration = Duration::from_millis(100);

/// The server's resident memory in bytes, from `/proc/PID/status`.
pub fn rss_bytes(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The memory the kernel holds for TCP on this machine, in bytes (`TCP: … mem PAGES` of
/// `/proc/net/sockstat`, in pages of 4 KiB).
pub fn tcp_memory_bytes() -> Option<u64> {
    let sockstat = std::fs::read_to_string("/proc/net/sockstat").ok()?;
    let line = sockstat.lines().find(|line| line.starts_with("TCP:"))?;
    let fields: Vec<&str> = line.split_whitespace().collect();
    let at = fields.iter().position(|field| *field == "mem")?;
    let pages: u64 = fields.get(at + 1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Samples the server's memory until [`MemoryWatch::finish`].
pub struct MemoryWatch {
    pid: Option<u32>,
    before: Option<u64>,
    tcp_before: Option<u64>,
    peak: Arc<AtomicU64>,
    tcp_peak: Arc<AtomicU64>,
    stop: CancellationToken,
}

/// What [`MemoryWatch`] measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemoryFigures {
    pub rss_before: u64,
    pub rss_peak: u64,
    pub rss_after: u64,
    /// The machine's TCP memory, when it could be read.
    pub tcp: Option<(u64, u64, u64)>,
}

impl MemoryWatch {
    /// Starts sampling the memory of `pid`; with no pid it measures nothing.
    pub fn start(pid: Option<u32>) -> MemoryWatch {
        let before = pid.and_then(rss_bytes);
        let tcp_before = pid.and(tcp_memory_bytes());
        let peak = Arc::new(AtomicU64::new(before.unwrap_or(0)));
        let tcp_peak = Arc::new(AtomicU64::new(tcp_before.unwrap_or(0)));
        let stop = CancellationToken::new();
        if let Some(pid) = pid.filter(|_| before.is_some()) {
            let (peak, tcp_peak, stop) = (peak.clone(), tcp_peak.clone(), stop.clone());
            tokio::spawn(async move {
                let mut ticks = tokio::time::interval(PERIOD);
                loop {
                    tokio::select! {
                        () = stop.cancelled() => return,
                        _ = ticks.tick() => {}
                    }
                    if let Some(rss) = rss_bytes(pid) {
                        peak.fetch_max(rss, Ordering::Relaxed);
                    }
                    if let Some(tcp) = tcp_memory_bytes() {
                        tcp_peak.fetch_max(tcp, Ordering::Relaxed);
                    }
                }
            });
        }
        MemoryWatch {
            pid,
            before,
            tcp_before,
            peak,
            tcp_peak,
            stop,
        }
    }

    /// Stops sampling; the figures, when the server's memory could be read.
    pub fn finish(self) -> Option<MemoryFigures> {
        self.stop.cancel();
        let pid = self.pid?;
        let before = self.before?;
        let after = rss_bytes(pid).unwrap_or(0);
        let peak = self.peak.load(Ordering::Relaxed).max(after);
        let tcp = self.tcp_before.map(|tcp_before| {
            let tcp_after = tcp_memory_bytes().unwrap_or(0);
            let tcp_peak = self.tcp_peak.load(Ordering::Relaxed).max(tcp_after);
            (tcp_before, tcp_peak, tcp_after)
        });
        Some(MemoryFigures {
            rss_before: before,
            rss_peak: peak,
            rss_after: after,
            tcp,
        })
    }
}

impl MemoryFigures {
    /// How much the resident memory grew at its peak.
    pub fn growth(&self) -> u64 {
        self.rss_peak.saturating_sub(self.rss_before)
    }
}

impl fmt::Display for MemoryFigures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "server RSS {} before, {} at peak (+{}), {} after",
            mib(self.rss_before),
            mib(self.rss_peak),
            mib(self.growth()),
            mib(self.rss_after)
        )?;
        if let Some((before, peak, after)) = self.tcp {
            write!(
                f,
                "; kernel TCP memory (whole machine) {} before, {} at peak, {} after",
                mib(before),
                mib(peak),
                mib(after)
            )?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_a_resident_set() {
        let rss = rss_bytes(std::process::id()).expect("VmRSS of this process");
        assert!(rss > 0);
    }

    #[test]
    fn figures_read_as_documented() {
        let figures = MemoryFigures {
            rss_before: 10 * 1024 * 1024,
            rss_peak: 30 * 1024 * 1024,
            rss_after: 12 * 1024 * 1024,
            tcp: None,
        };
        assert_eq!(figures.growth(), 20 * 1024 * 1024);
        assert_eq!(
            figures.to_string(),
            "server RSS 10.0 MiB before, 30.0 MiB at peak (+20.0 MiB), 12.0 MiB after"
        );
    }
}
