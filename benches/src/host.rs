//! Facts about the machine a report was produced on: date, kernel, CPUs, memory.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Value};

/// The machine and moment a benchmark ran on.
#[derive(Debug, Clone, PartialEq)]
pub struct Host {
    /// UTC, `YYYY-MM-DD HH:MM:SS UTC`.
    pub date: String,
    pub kernel: String,
    pub cpus: usize,
    pub cpu_model: String,
    pub mem_mib: u64,
}

impl Host {
    pub fn detect() -> Host {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let secs = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Host {
            date: utc_date(secs),
            kernel: read("/proc/sys/kernel/osrelease").trim().to_string(),
            cpus: std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
            cpu_model: cpuinfo_model(&read("/proc/cpuinfo")).unwrap_or_else(|| "unknown".to_string()),
            mem_mib: meminfo_total_kib(&read("/proc/meminfo")).unwrap_or(0) / 1024,
        }
    }

    pub fn to_json(&self) -> Value {
        json!({"date": self.date, "kernel": self.kernel, "cpus": self.cpus, "cpu_model": self.cpu_model,
               "mem_mib": self.mem_mib})
    }
}

/// Formats seconds since the epoch as a UTC date: `2025-11-25 18:58:24 UTC`.
pub fn utc_date(secs: u64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    let iso = humantime::format_rfc3339_seconds(at).to_string();
    format!("{} UTC", iso.trim_end_matches('Z').replacen('T', " ", 1))
}

fn meminfo_total_kib(meminfo: &str) -> Option<u64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn cpuinfo_model(cpuinfo: &str) -> Option<String> {
    let line = cpuinfo.lines().find(|l| l.starts_with("model name"))?;
    Some(line.split_once(':')?.1.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_date_formats_known_instants() {
        assert_eq!(utc_date(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc_date(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc_date(1_764_097_104), "2025-11-25 18:58:24 UTC");
    }

    #[test]
    fn meminfo_and_cpuinfo_lines_are_parsed() {
        assert_eq!(meminfo_total_kib("MemTotal:       24683520 kB\nMemFree: 1 kB\n"), Some(24_683_520));
        assert_eq!(meminfo_total_kib("MemFree: 1 kB\n"), None);
        assert_eq!(cpuinfo_model("processor\t: 0\nmodel name\t: AMD EPYC 9B14\n").as_deref(), Some("AMD EPYC 9B14"));
    }

    #[test]
    fn detect_reads_this_machine() {
        let host = Host::detect();
        assert!(!host.kernel.is_empty());
        assert!(host.cpus >= 1);
        assert!(host.mem_mib > 0);
    }
}
