//! Typed resource usage, as [`crate::Container::stats`] returns it. Serialised with serde it is
//! the `data` object of runc's `events --stats`, field for field: the same names, the same
//! order, and Go's `omitempty` mirrored (a zero or empty value marked so is left out).
//!
//! ```
//! use runtime_core::stats::Stats;
//!
//! let mut s = Stats::default();
//! s.pids.current = 3;
//! let json = serde_json::to_value(&s)?;
//! assert_eq!(json["pids"], serde_json::json!({"current": 3}));
//! assert!(json["network_interfaces"].is_null());
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

fn zero(n: &u64) -> bool {
    *n == 0
}

/// Everything known about a container's resource usage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Stats {
    /// CPU time and throttling.
    pub cpu: Cpu,
    /// The cpuset (v1 files; v2 `.effective` ones).
    pub cpuset: CpuSet,
    /// Memory, swap and kernel memory.
    pub memory: Memory,
    /// Process counts.
    pub pids: Pids,
    /// Block I/O.
    pub blkio: Blkio,
    /// Huge pages, by page size (`2MB`, `1GB`).
    pub hugetlb: BTreeMap<String, Hugetlb>,
    /// Intel RDT: not collected (always empty, as runc prints it without RDT).
    pub intel_rdt: IntelRdt,
    /// Network interfaces of the container's own network namespace (not `lo`); `None` when it
    /// shares the host's or its init is gone. runc leaves this `null` for OCI containers.
    pub network_interfaces: Option<Vec<NetworkInterface>>,
}

/// CPU usage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Cpu {
    /// Time used.
    pub usage: CpuUsage,
    /// CFS throttling.
    pub throttling: Throttling,
    /// Pressure stall information (v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psi: Option<Psi>,
}

/// CPU time in nanoseconds.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CpuUsage {
    /// Total.
    #[serde(default, skip_serializing_if = "zero")]
    pub total: u64,
    /// Per CPU (v1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percpu: Vec<u64>,
    /// Per CPU in kernel mode (v1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percpu_kernel: Vec<u64>,
    /// Per CPU in user mode (v1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub percpu_user: Vec<u64>,
    /// In kernel mode.
    pub kernel: u64,
    /// In user mode.
    pub user: u64,
}

/// CFS bandwidth throttling.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Throttling {
    /// Enforcement periods elapsed.
    #[serde(default, skip_serializing_if = "zero")]
    pub periods: u64,
    /// Periods in which the group was throttled.
    #[serde(default, rename = "throttledPeriods", skip_serializing_if = "zero")]
    pub throttled_periods: u64,
    /// Time throttled, nanoseconds.
    #[serde(default, rename = "throttledTime", skip_serializing_if = "zero")]
    pub throttled_time: u64,
}

/// The cpuset.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CpuSet {
    /// CPUs allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cpus: Vec<u64>,
    /// Memory nodes allowed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mems: Vec<u64>,
    /// `cpuset.cpu_exclusive`.
    pub cpu_exclusive: u64,
    /// `cpuset.mem_hardwall`.
    pub mem_hardwall: u64,
    /// `cpuset.mem_exclusive`.
    pub mem_exclusive: u64,
    /// `cpuset.memory_migrate`.
    pub memory_migrate: u64,
    /// `cpuset.memory_spread_page`.
    pub memory_spread_page: u64,
    /// `cpuset.memory_spread_slab`.
    pub memory_spread_slab: u64,
    /// `cpuset.memory_pressure`.
    pub memory_pressure: u64,
    /// `cpuset.sched_load_balance`.
    pub sched_load_balance: u64,
    /// `cpuset.sched_relax_domain_level`.
    pub sched_relax_domain_level: i64,
}

/// Memory usage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Memory {
    /// Page cache, bytes.
    #[serde(default, skip_serializing_if = "zero")]
    pub cache: u64,
    /// Memory.
    pub usage: MemoryEntry,
    /// Memory + swap (on v2 too, the v1 meaning of the field, as runc reports it).
    pub swap: MemoryEntry,
    /// Kernel memory (v1).
    pub kernel: MemoryEntry,
    /// Kernel TCP buffers (v1).
    #[serde(rename = "kernelTCP")]
    pub kernel_tcp: MemoryEntry,
    /// `memory.stat` as it is.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub raw: BTreeMap<String, u64>,
    /// Pressure stall information (v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psi: Option<Psi>,
}

/// One memory counter, bytes.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MemoryEntry {
    /// The limit (`u64::MAX` when unlimited).
    pub limit: u64,
    /// Current usage.
    #[serde(default, skip_serializing_if = "zero")]
    pub usage: u64,
    /// Peak usage.
    #[serde(default, skip_serializing_if = "zero")]
    pub max: u64,
    /// Times the limit was hit.
    pub failcnt: u64,
}

/// Process counts.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Pids {
    /// Processes (and threads) now.
    #[serde(default, skip_serializing_if = "zero")]
    pub current: u64,
    /// The limit (0: none).
    #[serde(default, skip_serializing_if = "zero")]
    pub limit: u64,
}

/// Block I/O counters.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Blkio {
    /// Bytes per device and operation.
    #[serde(default, rename = "ioServiceBytesRecursive", skip_serializing_if = "Vec::is_empty")]
    pub io_service_bytes_recursive: Vec<BlkioEntry>,
    /// Operations per device and operation.
    #[serde(default, rename = "ioServicedRecursive", skip_serializing_if = "Vec::is_empty")]
    pub io_serviced_recursive: Vec<BlkioEntry>,
    /// Pressure stall information (v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psi: Option<Psi>,
}

/// One blkio counter.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BlkioEntry {
    /// Device major number.
    #[serde(default, skip_serializing_if = "zero")]
    pub major: u64,
    /// Device minor number.
    #[serde(default, skip_serializing_if = "zero")]
    pub minor: u64,
    /// `Read`, `Write`...
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub op: String,
    /// The count.
    #[serde(default, skip_serializing_if = "zero")]
    pub value: u64,
}

impl BlkioEntry {
    /// An entry.
    pub fn new(major: u64, minor: u64, op: &str, value: u64) -> Self {
        BlkioEntry { major, minor, op: op.to_owned(), value }
    }
}

/// Huge pages of one size.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Hugetlb {
    /// Bytes in use.
    #[serde(default, skip_serializing_if = "zero")]
    pub usage: u64,
    /// Peak (v1).
    #[serde(default, skip_serializing_if = "zero")]
    pub max: u64,
    /// Times the limit was hit.
    pub failcnt: u64,
}

/// Intel RDT (not collected).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IntelRdt {}

/// Pressure stall information of one resource.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Psi {
    /// Some tasks stalled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub some: Option<PsiData>,
    /// All tasks stalled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full: Option<PsiData>,
}

/// Averages over 10, 60 and 300 seconds (percent) and the total stall time (microseconds).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct PsiData {
    /// Over 10 s.
    pub avg10: f64,
    /// Over 60 s.
    pub avg60: f64,
    /// Over 300 s.
    pub avg300: f64,
    /// Total, microseconds.
    pub total: u64,
}

/// Counters of one network interface (`/proc/PID/net/dev`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NetworkInterface {
    /// Its name inside the container.
    pub name: String,
    /// Bytes received.
    pub rx_bytes: u64,
    /// Packets received.
    pub rx_packets: u64,
    /// Receive errors.
    pub rx_errors: u64,
    /// Received packets dropped.
    pub rx_dropped: u64,
    /// Bytes sent.
    pub tx_bytes: u64,
    /// Packets sent.
    pub tx_packets: u64,
    /// Send errors.
    pub tx_errors: u64,
    /// Packets dropped on sending.
    pub tx_dropped: u64,
}

/// Parses `/proc/net/dev`: two header lines, then `name: rx(8 fields) tx(8 fields)`; `lo` is
/// left out.
pub(crate) fn parse_net_dev(text: &str) -> Vec<NetworkInterface> {
    text.lines()
        .skip(2)
        .filter_map(|l| {
            let (name, rest) = l.split_once(':')?;
            let name = name.trim();
            let n: Vec<u64> = rest.split_whitespace().filter_map(|v| v.parse().ok()).collect();
            if name == "lo" || n.len() < 16 {
                return None;
            }
            Some(NetworkInterface {
                name: name.to_owned(),
                rx_bytes: n[0],
                rx_packets: n[1],
                rx_errors: n[2],
                rx_dropped: n[3],
                tx_bytes: n[8],
                tx_packets: n[9],
                tx_errors: n[10],
                tx_dropped: n[11],
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_stats_print_as_runc_s() {
        let text = serde_json::to_string(&Stats::default()).unwrap();
        assert_eq!(
            text,
            concat!(
                r#"{"cpu":{"usage":{"kernel":0,"user":0},"throttling":{}},"#,
                r#""cpuset":{"cpu_exclusive":0,"mem_hardwall":0,"mem_exclusive":0,"memory_migrate":0,"#,
                r#""memory_spread_page":0,"memory_spread_slab":0,"memory_pressure":0,"sched_load_balance":0,"#,
                r#""sched_relax_domain_level":0},"#,
                r#""memory":{"usage":{"limit":0,"failcnt":0},"swap":{"limit":0,"failcnt":0},"#,
                r#""kernel":{"limit":0,"failcnt":0},"kernelTCP":{"limit":0,"failcnt":0}},"#,
                r#""pids":{},"blkio":{},"hugetlb":{},"intel_rdt":{},"network_interfaces":null}"#
            )
        );
    }

    #[test]
    fn net_dev_without_lo() {
        let text = "Inter-|   Receive |  Transmit\n face |bytes packets\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n  eth0: 100 2 0 1 0 0 0 0 200 3 0 4 0 0 0 0\n";
        let ifs = parse_net_dev(text);
        assert_eq!(ifs.len(), 1);
        let e = &ifs[0];
        assert_eq!((e.name.as_str(), e.rx_bytes, e.rx_dropped, e.tx_bytes, e.tx_dropped), ("eth0", 100, 1, 200, 4));
    }
}
