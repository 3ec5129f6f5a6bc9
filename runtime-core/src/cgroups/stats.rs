//! Resource usage read from the cgroup files into [`crate::stats::Stats`] (whose serde form is
//! the `data` schema of runc's `events --stats`).
// Filled field by field, in the order of the files read; the rest keeps its zero default.
#![allow(clippy::field_reassign_with_default)]

use std::collections::BTreeMap;
use std::path::Path;

use nix::errno::Errno;

use super::fs::sys;
use super::{not_supported, Cgroup, Version};
use crate::stats::{
    Blkio, BlkioEntry, Cpu, CpuSet, Hugetlb, Memory, MemoryEntry, Pids, Psi, PsiData, Stats, Throttling,
};

/// USER_HZ: cpuacct.stat counts in clock ticks of 1/100 s on every Linux architecture.
const NANOS_PER_TICK: u64 = 10_000_000;

impl Cgroup {
    /// Current usage, as runc's `events --stats` reports it.
    pub(crate) fn stats(&self) -> crate::Result<Stats> {
        let main = self.main_path().ok_or_else(|| not_supported("stats without a cgroup"))?;
        if !main.exists() {
            return Err(sys("stat", main, Errno::ENOENT));
        }
        let dir = |key: &str| self.paths.get(key).map(|p| p.as_path());
        let mut s = Stats::default();
        match self.version {
            Version::V1 => {
                s.cpu = cpu_v1(dir("cpuacct"), dir("cpu"));
                s.cpuset = cpuset(dir("cpuset"), "");
                s.memory = memory_v1(dir("memory"));
                s.pids = pids(dir("pids"));
                s.blkio = blkio_v1(dir("blkio"));
                s.hugetlb =
                    hugetlb(dir("hugetlb"), "limit_in_bytes", &["usage_in_bytes", "max_usage_in_bytes", "failcnt"]);
            }
            Version::V2 => {
                let d = dir("");
                s.cpu = cpu_v2(d);
                s.cpuset = cpuset(d, ".effective");
                s.memory = memory_v2(d);
                s.pids = pids(d);
                s.blkio = blkio_v2(d);
                s.hugetlb = hugetlb(d, "max", &[]);
            }
        }
        Ok(s)
    }
}

impl Cgroup {
    /// Processes killed by the OOM killer in this cgroup so far (the tests' cross-check of
    /// the pushed notifications of [`super::OomWatch`]).
    #[cfg(test)]
    pub(crate) fn oom_kills(&self) -> crate::Result<u64> {
        let (key, file) = match self.version {
            Version::V1 => ("memory", "memory.oom_control"),
            Version::V2 => ("", "memory.events"),
        };
        let dir = self.paths.get(key).ok_or_else(|| not_supported("OOM events without a memory cgroup"))?;
        Ok(flat_keyed(&super::fs::read_file(dir, file)?).get("oom_kill").copied().unwrap_or(0))
    }
}

fn read(dir: Option<&Path>, file: &str) -> Option<String> {
    std::fs::read_to_string(dir?.join(file)).ok()
}

/// A single number; "max" (unlimited) reads as u64::MAX like runc.
fn num(dir: Option<&Path>, file: &str) -> u64 {
    read(dir, file).map_or(0, |s| parse_num(s.trim()))
}

fn parse_num(s: &str) -> u64 {
    if s == "max" {
        u64::MAX
    } else {
        s.parse().unwrap_or(0)
    }
}

/// `key value` lines (memory.stat, cpu.stat, memory.events).
pub(super) fn flat_keyed(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter_map(|l| l.split_once(' '))
        .filter_map(|(k, v)| v.trim().parse().ok().map(|v| (k.to_owned(), v)))
        .collect()
}

fn numbers(text: Option<String>) -> Vec<u64> {
    text.unwrap_or_default().split_whitespace().filter_map(|n| n.parse().ok()).collect()
}

fn throttling(stat: &BTreeMap<String, u64>, time_key: &str, time_scale: u64) -> Throttling {
    let get = |k: &str| stat.get(k).copied().unwrap_or(0);
    let mut t = Throttling::default();
    t.periods = get("nr_periods");
    t.throttled_periods = get("nr_throttled");
    t.throttled_time = get(time_key) * time_scale;
    t
}

fn cpu_v1(acct: Option<&Path>, cpu: Option<&Path>) -> Cpu {
    let ticks = flat_keyed(&read(acct, "cpuacct.stat").unwrap_or_default());
    let mut c = Cpu::default();
    let u = &mut c.usage;
    u.total = num(acct, "cpuacct.usage");
    u.percpu = numbers(read(acct, "cpuacct.usage_percpu"));
    u.percpu_kernel = numbers(read(acct, "cpuacct.usage_percpu_sys"));
    u.percpu_user = numbers(read(acct, "cpuacct.usage_percpu_user"));
    u.kernel = ticks.get("system").copied().unwrap_or(0) * NANOS_PER_TICK;
    u.user = ticks.get("user").copied().unwrap_or(0) * NANOS_PER_TICK;
    let stat = flat_keyed(&read(cpu, "cpu.stat").unwrap_or_default());
    c.throttling = throttling(&stat, "throttled_time", 1);
    c
}

fn cpu_v2(dir: Option<&Path>) -> Cpu {
    let stat = flat_keyed(&read(dir, "cpu.stat").unwrap_or_default());
    let us = |k: &str| stat.get(k).copied().unwrap_or(0) * 1000;
    let mut c = Cpu::default();
    c.usage.total = us("usage_usec");
    c.usage.kernel = us("system_usec");
    c.usage.user = us("user_usec");
    c.throttling = throttling(&stat, "throttled_usec", 1000);
    c.psi = read(dir, "cpu.pressure").as_deref().and_then(psi);
    c
}

/// "0-2,4" -> [0, 1, 2, 4].
pub(super) fn cpu_list(s: &str) -> Vec<u64> {
    let mut out = Vec::new();
    for part in s.trim().split(',').filter(|p| !p.is_empty()) {
        let (a, b) = part.split_once('-').unwrap_or((part, part));
        if let (Ok(a), Ok(b)) = (a.parse::<u64>(), b.parse::<u64>()) {
            out.extend(a..=b);
        }
    }
    out
}

fn cpuset(dir: Option<&Path>, suffix: &str) -> CpuSet {
    let mut c = CpuSet::default();
    c.cpus = cpu_list(&read(dir, &format!("cpuset.cpus{suffix}")).unwrap_or_default());
    c.mems = cpu_list(&read(dir, &format!("cpuset.mems{suffix}")).unwrap_or_default());
    let f = |key: &str| num(dir, &format!("cpuset.{key}"));
    c.cpu_exclusive = f("cpu_exclusive");
    c.mem_hardwall = f("mem_hardwall");
    c.mem_exclusive = f("mem_exclusive");
    c.memory_migrate = f("memory_migrate");
    c.memory_spread_page = f("memory_spread_page");
    c.memory_spread_slab = f("memory_spread_slab");
    c.memory_pressure = f("memory_pressure");
    c.sched_load_balance = f("sched_load_balance");
    let level = read(dir, "cpuset.sched_relax_domain_level").and_then(|s| s.trim().parse::<i64>().ok());
    c.sched_relax_domain_level = level.unwrap_or(0);
    c
}

fn entry(limit: u64, usage: u64, max: u64, failcnt: u64) -> MemoryEntry {
    let mut e = MemoryEntry::default();
    (e.limit, e.usage, e.max, e.failcnt) = (limit, usage, max, failcnt);
    e
}

fn memory_v1(dir: Option<&Path>) -> Memory {
    let raw = flat_keyed(&read(dir, "memory.stat").unwrap_or_default());
    let e = |prefix: &str| {
        let f = |s: &str| num(dir, &format!("{prefix}.{s}"));
        entry(f("limit_in_bytes"), f("usage_in_bytes"), f("max_usage_in_bytes"), f("failcnt"))
    };
    let mut m = Memory::default();
    m.cache = raw.get("cache").copied().unwrap_or(0);
    m.usage = e("memory");
    m.swap = e("memory.memsw");
    m.kernel = e("memory.kmem");
    m.kernel_tcp = e("memory.kmem.tcp");
    m.raw = raw;
    m
}

fn memory_v2(dir: Option<&Path>) -> Memory {
    let raw = flat_keyed(&read(dir, "memory.stat").unwrap_or_default());
    let events = flat_keyed(&read(dir, "memory.events").unwrap_or_default());
    let (usage, limit) = (num(dir, "memory.current"), num(dir, "memory.max"));
    let (swap, swap_limit) = (num(dir, "memory.swap.current"), num(dir, "memory.swap.max"));
    let mut m = Memory::default();
    m.cache = raw.get("file").copied().unwrap_or(0);
    let failcnt = events.get("max").copied().unwrap_or(0);
    m.usage = entry(limit, usage, num(dir, "memory.peak"), failcnt);
    // runc reports v2 swap as memory+swap, the v1 meaning of the field.
    m.swap = entry(swap_limit.saturating_add(limit), swap + usage, 0, 0);
    m.raw = raw;
    m.psi = read(dir, "memory.pressure").as_deref().and_then(psi);
    m
}

fn pids(dir: Option<&Path>) -> Pids {
    let limit = read(dir, "pids.max").map_or(0, |s| if s.trim() == "max" { 0 } else { parse_num(s.trim()) });
    let mut p = Pids::default();
    p.current = num(dir, "pids.current");
    p.limit = limit;
    p
}

/// blkio `8:0 Read 4096` lines; the closing `Total N` line has no device and is skipped.
pub(super) fn blkio_entries(text: &str) -> Vec<BlkioEntry> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let [dev, op, value] = f[..] else { return None };
            let (major, minor) = dev.split_once(':')?;
            Some(BlkioEntry::new(major.parse().ok()?, minor.parse().ok()?, op, value.parse().ok()?))
        })
        .collect()
}

fn blkio_v1(dir: Option<&Path>) -> Blkio {
    // BFQ's counters when that scheduler is active, else the throttle layer's (runc's choice).
    let pick = |name: &str| {
        read(dir, &format!("blkio.bfq.{name}"))
            .or_else(|| read(dir, &format!("blkio.throttle.{name}")))
            .unwrap_or_default()
    };
    let mut b = Blkio::default();
    b.io_service_bytes_recursive = blkio_entries(&pick("io_service_bytes_recursive"));
    b.io_serviced_recursive = blkio_entries(&pick("io_serviced_recursive"));
    b
}

fn blkio_v2(dir: Option<&Path>) -> Blkio {
    let mut b = Blkio::default();
    for line in read(dir, "io.stat").unwrap_or_default().lines() {
        let mut f = line.split_whitespace();
        let Some((major, minor)) = f.next().and_then(|d| d.split_once(':')) else { continue };
        let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else { continue };
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else { continue };
            let v = v.parse().unwrap_or(0);
            match k {
                "rbytes" => b.io_service_bytes_recursive.push(BlkioEntry::new(major, minor, "Read", v)),
                "wbytes" => b.io_service_bytes_recursive.push(BlkioEntry::new(major, minor, "Write", v)),
                "rios" => b.io_serviced_recursive.push(BlkioEntry::new(major, minor, "Read", v)),
                "wios" => b.io_serviced_recursive.push(BlkioEntry::new(major, minor, "Write", v)),
                _ => {}
            }
        }
    }
    b.psi = read(dir, "io.pressure").as_deref().and_then(psi);
    b
}

/// Page sizes from `hugetlb.<size>.<limit_file>`; v1 reads usage/max/failcnt files, v2 reads
/// `current`, `max` and the `max` count of `events`.
fn hugetlb(dir: Option<&Path>, limit_file: &str, v1_files: &[&str]) -> BTreeMap<String, Hugetlb> {
    let mut out = BTreeMap::new();
    let Some(d) = dir else { return out };
    let Ok(entries) = std::fs::read_dir(d) else { return out };
    let suffix = format!(".{limit_file}");
    for name in entries.flatten().filter_map(|e| e.file_name().into_string().ok()) {
        let Some(size) = name.strip_prefix("hugetlb.").and_then(|n| n.strip_suffix(&suffix)) else { continue };
        if size.contains('.') {
            continue; // the rsvd variants
        }
        let f = |s: &str| num(dir, &format!("hugetlb.{size}.{s}"));
        let mut h = Hugetlb::default();
        (h.usage, h.max, h.failcnt) = match v1_files {
            [u, m, fc] => (f(u), f(m), f(fc)),
            _ => {
                let events = flat_keyed(&read(dir, &format!("hugetlb.{size}.events")).unwrap_or_default());
                (f("current"), 0, events.get("max").copied().unwrap_or(0))
            }
        };
        out.insert(size.to_owned(), h);
    }
    out
}

/// `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` lines as runc's PSIStats.
pub(super) fn psi(text: &str) -> Option<Psi> {
    let mut out = Psi::default();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let kind = f.next();
        let mut data = PsiData::default();
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else { continue };
            let avg = v.parse::<f64>().unwrap_or(0.0);
            match k {
                "avg10" => data.avg10 = avg,
                "avg60" => data.avg60 = avg,
                "avg300" => data.avg300 = avg,
                "total" => data.total = v.parse().unwrap_or(0),
                _ => {}
            }
        }
        match kind {
            Some("some") => out.some = Some(data),
            Some("full") => out.full = Some(data),
            _ => {}
        }
    }
    (out.some.is_some() || out.full.is_some()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parsers() {
        assert_eq!(cpu_list("0-2,4\n"), [0, 1, 2, 4]);
        assert_eq!(cpu_list(""), Vec::<u64>::new());
        let kv = flat_keyed("cache 10\nrss 20\nbad\n");
        assert_eq!((kv["cache"], kv["rss"], kv.len()), (10, 20, 2));
        let e = serde_json::to_value(blkio_entries("8:0 Read 4096\n8:0 Write 0\nTotal 4096\n")).unwrap();
        assert_eq!(e, json!([{"major":8,"op":"Read","value":4096}, {"major":8,"op":"Write"}]));
        let p =
            psi("some avg10=1.50 avg60=0.00 avg300=0.00 total=42\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        let p = serde_json::to_value(p.unwrap()).unwrap();
        assert_eq!(p["some"], json!({"avg10":1.5,"avg60":0.0,"avg300":0.0,"total":42}));
    }
}
