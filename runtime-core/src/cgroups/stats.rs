//! Resource usage in the `data` schema of runc's `events --stats` (runc `types/events.go`):
//! Go's `omitempty` is mirrored field by field, so absent and zero values print as runc's do.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{json, Map, Value};

use nix::errno::Errno;

use super::fs::{read_file, sys};
use super::{not_supported, Cgroup, Version};

/// USER_HZ: cpuacct.stat counts in clock ticks of 1/100 s on every Linux architecture.
const NANOS_PER_TICK: u64 = 10_000_000;

impl Cgroup {
    /// Current usage, shaped as runc's `events --stats` `data` object.
    pub(crate) fn stats(&self) -> crate::Result<Value> {
        let main = self.main_path().ok_or_else(|| not_supported("stats without a cgroup"))?;
        if !main.exists() {
            return Err(sys("stat", main, Errno::ENOENT));
        }
        let dir = |key: &str| self.paths.get(key).map(|p| p.as_path());
        let (cpu, cpuset, memory, pids, blkio, hugetlb) = match self.version {
            Version::V1 => (
                cpu_v1(dir("cpuacct"), dir("cpu")),
                cpuset(dir("cpuset"), ""),
                memory_v1(dir("memory")),
                pids(dir("pids")),
                blkio_v1(dir("blkio")),
                hugetlb(dir("hugetlb"), "limit_in_bytes", &["usage_in_bytes", "max_usage_in_bytes", "failcnt"]),
            ),
            Version::V2 => {
                let d = dir("");
                (cpu_v2(d), cpuset(d, ".effective"), memory_v2(d), pids(d), blkio_v2(d), hugetlb(d, "max", &[]))
            }
        };
        Ok(json!({
            "cpu": cpu, "cpuset": cpuset, "memory": memory, "pids": pids, "blkio": blkio,
            "hugetlb": hugetlb, "intel_rdt": {}, "network_interfaces": null,
        }))
    }
}

impl Cgroup {
    /// Processes killed by the OOM killer in this cgroup so far; `events` reports an `oom`
    /// event whenever it grows.
    pub(crate) fn oom_kills(&self) -> crate::Result<u64> {
        let (key, file) = match self.version {
            Version::V1 => ("memory", "memory.oom_control"),
            Version::V2 => ("", "memory.events"),
        };
        let dir = self.paths.get(key).ok_or_else(|| not_supported("OOM events without a memory cgroup"))?;
        Ok(flat_keyed(&read_file(dir, file)?).get("oom_kill").copied().unwrap_or(0))
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

/// Inserts `v` unless it is zero (Go's omitempty).
fn put(m: &mut Map<String, Value>, key: &str, v: u64) {
    if v != 0 {
        m.insert(key.into(), v.into());
    }
}

fn put_list(m: &mut Map<String, Value>, key: &str, v: Vec<u64>) {
    if !v.is_empty() {
        m.insert(key.into(), v.into());
    }
}

fn numbers(text: Option<String>) -> Vec<u64> {
    text.unwrap_or_default().split_whitespace().filter_map(|n| n.parse().ok()).collect()
}

fn throttling(stat: &BTreeMap<String, u64>, time_key: &str, time_scale: u64) -> Value {
    let mut t = Map::new();
    put(&mut t, "periods", stat.get("nr_periods").copied().unwrap_or(0));
    put(&mut t, "throttledPeriods", stat.get("nr_throttled").copied().unwrap_or(0));
    put(&mut t, "throttledTime", stat.get(time_key).copied().unwrap_or(0) * time_scale);
    Value::Object(t)
}

fn cpu_v1(acct: Option<&Path>, cpu: Option<&Path>) -> Value {
    let ticks = flat_keyed(&read(acct, "cpuacct.stat").unwrap_or_default());
    let mut usage = Map::new();
    put(&mut usage, "total", num(acct, "cpuacct.usage"));
    put_list(&mut usage, "percpu", numbers(read(acct, "cpuacct.usage_percpu")));
    put_list(&mut usage, "percpu_kernel", numbers(read(acct, "cpuacct.usage_percpu_sys")));
    put_list(&mut usage, "percpu_user", numbers(read(acct, "cpuacct.usage_percpu_user")));
    usage.insert("kernel".into(), (ticks.get("system").copied().unwrap_or(0) * NANOS_PER_TICK).into());
    usage.insert("user".into(), (ticks.get("user").copied().unwrap_or(0) * NANOS_PER_TICK).into());
    let stat = flat_keyed(&read(cpu, "cpu.stat").unwrap_or_default());
    json!({ "usage": usage, "throttling": throttling(&stat, "throttled_time", 1) })
}

fn cpu_v2(dir: Option<&Path>) -> Value {
    let stat = flat_keyed(&read(dir, "cpu.stat").unwrap_or_default());
    let us = |k: &str| stat.get(k).copied().unwrap_or(0) * 1000;
    let mut usage = Map::new();
    put(&mut usage, "total", us("usage_usec"));
    usage.insert("kernel".into(), us("system_usec").into());
    usage.insert("user".into(), us("user_usec").into());
    let mut cpu = Map::new();
    cpu.insert("usage".into(), usage.into());
    cpu.insert("throttling".into(), throttling(&stat, "throttled_usec", 1000));
    insert_psi(&mut cpu, dir, "cpu.pressure");
    Value::Object(cpu)
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

fn cpuset(dir: Option<&Path>, suffix: &str) -> Value {
    let mut m = Map::new();
    put_list(&mut m, "cpus", cpu_list(&read(dir, &format!("cpuset.cpus{suffix}")).unwrap_or_default()));
    put_list(&mut m, "mems", cpu_list(&read(dir, &format!("cpuset.mems{suffix}")).unwrap_or_default()));
    for key in [
        "cpu_exclusive",
        "mem_hardwall",
        "mem_exclusive",
        "memory_migrate",
        "memory_spread_page",
        "memory_spread_slab",
        "memory_pressure",
        "sched_load_balance",
    ] {
        m.insert(key.into(), num(dir, &format!("cpuset.{key}")).into());
    }
    let level = read(dir, "cpuset.sched_relax_domain_level").and_then(|s| s.trim().parse::<i64>().ok());
    m.insert("sched_relax_domain_level".into(), level.unwrap_or(0).into());
    Value::Object(m)
}

fn entry(limit: u64, usage: u64, max: u64, failcnt: u64) -> Value {
    let mut m = Map::new();
    m.insert("limit".into(), limit.into());
    put(&mut m, "usage", usage);
    put(&mut m, "max", max);
    m.insert("failcnt".into(), failcnt.into());
    Value::Object(m)
}

fn memory_v1(dir: Option<&Path>) -> Value {
    let raw = flat_keyed(&read(dir, "memory.stat").unwrap_or_default());
    let e = |prefix: &str| {
        let f = |s: &str| num(dir, &format!("{prefix}.{s}"));
        entry(f("limit_in_bytes"), f("usage_in_bytes"), f("max_usage_in_bytes"), f("failcnt"))
    };
    let mut m = Map::new();
    put(&mut m, "cache", raw.get("cache").copied().unwrap_or(0));
    m.insert("usage".into(), e("memory"));
    m.insert("swap".into(), e("memory.memsw"));
    m.insert("kernel".into(), e("memory.kmem"));
    m.insert("kernelTCP".into(), e("memory.kmem.tcp"));
    if !raw.is_empty() {
        m.insert("raw".into(), json!(raw));
    }
    Value::Object(m)
}

fn memory_v2(dir: Option<&Path>) -> Value {
    let raw = flat_keyed(&read(dir, "memory.stat").unwrap_or_default());
    let events = flat_keyed(&read(dir, "memory.events").unwrap_or_default());
    let (usage, limit) = (num(dir, "memory.current"), num(dir, "memory.max"));
    let (swap, swap_limit) = (num(dir, "memory.swap.current"), num(dir, "memory.swap.max"));
    let mut m = Map::new();
    put(&mut m, "cache", raw.get("file").copied().unwrap_or(0));
    let failcnt = events.get("max").copied().unwrap_or(0);
    m.insert("usage".into(), entry(limit, usage, num(dir, "memory.peak"), failcnt));
    // runc reports v2 swap as memory+swap, the v1 meaning of the field.
    m.insert("swap".into(), entry(swap_limit.saturating_add(limit), swap + usage, 0, 0));
    m.insert("kernel".into(), entry(0, 0, 0, 0));
    m.insert("kernelTCP".into(), entry(0, 0, 0, 0));
    if !raw.is_empty() {
        m.insert("raw".into(), json!(raw));
    }
    insert_psi(&mut m, dir, "memory.pressure");
    Value::Object(m)
}

fn pids(dir: Option<&Path>) -> Value {
    let limit = read(dir, "pids.max").map_or(0, |s| if s.trim() == "max" { 0 } else { parse_num(s.trim()) });
    let mut m = Map::new();
    put(&mut m, "current", num(dir, "pids.current"));
    put(&mut m, "limit", limit);
    Value::Object(m)
}

/// blkio `8:0 Read 4096` lines; the closing `Total N` line has no device and is skipped.
pub(super) fn blkio_entries(text: &str) -> Vec<Value> {
    text.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let [dev, op, value] = f[..] else { return None };
            let (major, minor) = dev.split_once(':')?;
            Some(blkio_entry(major.parse().ok()?, minor.parse().ok()?, op, value.parse().ok()?))
        })
        .collect()
}

fn blkio_entry(major: u64, minor: u64, op: &str, value: u64) -> Value {
    let mut m = Map::new();
    put(&mut m, "major", major);
    put(&mut m, "minor", minor);
    if !op.is_empty() {
        m.insert("op".into(), op.into());
    }
    put(&mut m, "value", value);
    Value::Object(m)
}

fn blkio_v1(dir: Option<&Path>) -> Value {
    // BFQ's counters when that scheduler is active, else the throttle layer's (runc's choice).
    let pick = |name: &str| {
        read(dir, &format!("blkio.bfq.{name}"))
            .or_else(|| read(dir, &format!("blkio.throttle.{name}")))
            .unwrap_or_default()
    };
    let mut m = Map::new();
    for (key, file) in
        [("ioServiceBytesRecursive", "io_service_bytes_recursive"), ("ioServicedRecursive", "io_serviced_recursive")]
    {
        let entries = blkio_entries(&pick(file));
        if !entries.is_empty() {
            m.insert(key.into(), entries.into());
        }
    }
    Value::Object(m)
}

fn blkio_v2(dir: Option<&Path>) -> Value {
    let (mut bytes, mut ios) = (Vec::new(), Vec::new());
    for line in read(dir, "io.stat").unwrap_or_default().lines() {
        let mut f = line.split_whitespace();
        let Some((major, minor)) = f.next().and_then(|d| d.split_once(':')) else { continue };
        let (Ok(major), Ok(minor)) = (major.parse(), minor.parse()) else { continue };
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else { continue };
            let v = v.parse().unwrap_or(0);
            match k {
                "rbytes" => bytes.push(blkio_entry(major, minor, "Read", v)),
                "wbytes" => bytes.push(blkio_entry(major, minor, "Write", v)),
                "rios" => ios.push(blkio_entry(major, minor, "Read", v)),
                "wios" => ios.push(blkio_entry(major, minor, "Write", v)),
                _ => {}
            }
        }
    }
    let mut m = Map::new();
    if !bytes.is_empty() {
        m.insert("ioServiceBytesRecursive".into(), bytes.into());
    }
    if !ios.is_empty() {
        m.insert("ioServicedRecursive".into(), ios.into());
    }
    insert_psi(&mut m, dir, "io.pressure");
    Value::Object(m)
}

/// Page sizes from `hugetlb.<size>.<limit_file>`; v1 reads usage/max/failcnt files, v2 reads
/// `current`, `max` and the `max` count of `events`.
fn hugetlb(dir: Option<&Path>, limit_file: &str, v1_files: &[&str]) -> Value {
    let mut out = Map::new();
    let Some(d) = dir else { return Value::Object(out) };
    let Ok(entries) = std::fs::read_dir(d) else { return Value::Object(out) };
    let suffix = format!(".{limit_file}");
    for name in entries.flatten().filter_map(|e| e.file_name().into_string().ok()) {
        let Some(size) = name.strip_prefix("hugetlb.").and_then(|n| n.strip_suffix(&suffix)) else { continue };
        if size.contains('.') {
            continue; // the rsvd variants
        }
        let f = |s: &str| num(dir, &format!("hugetlb.{size}.{s}"));
        let (usage, max, failcnt) = match v1_files {
            [u, m, fc] => (f(u), f(m), f(fc)),
            _ => {
                let events = flat_keyed(&read(dir, &format!("hugetlb.{size}.events")).unwrap_or_default());
                (f("current"), 0, events.get("max").copied().unwrap_or(0))
            }
        };
        let mut m = Map::new();
        put(&mut m, "usage", usage);
        put(&mut m, "max", max);
        m.insert("failcnt".into(), failcnt.into());
        out.insert(size.to_owned(), Value::Object(m));
    }
    Value::Object(out)
}

/// `some avg10=0.00 avg60=0.00 avg300=0.00 total=0` lines as runc's PSIStats.
pub(super) fn psi(text: &str) -> Option<Value> {
    let mut out = Map::new();
    for line in text.lines() {
        let mut f = line.split_whitespace();
        let Some(kind @ ("some" | "full")) = f.next() else { continue };
        let mut data = Map::new();
        for kv in f {
            let Some((k, v)) = kv.split_once('=') else { continue };
            let v = if k == "total" {
                v.parse::<u64>().map(Value::from).ok()
            } else {
                v.parse::<f64>().ok().map(Value::from)
            };
            data.insert(k.into(), v.unwrap_or(Value::from(0)));
        }
        out.insert(kind.into(), data.into());
    }
    (!out.is_empty()).then_some(Value::Object(out))
}

fn insert_psi(m: &mut Map<String, Value>, dir: Option<&Path>, file: &str) {
    if let Some(p) = read(dir, file).as_deref().and_then(psi) {
        m.insert("psi".into(), p);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsers() {
        assert_eq!(cpu_list("0-2,4\n"), [0, 1, 2, 4]);
        assert_eq!(cpu_list(""), Vec::<u64>::new());
        let kv = flat_keyed("cache 10\nrss 20\nbad\n");
        assert_eq!((kv["cache"], kv["rss"], kv.len()), (10, 20, 2));
        let e = blkio_entries("8:0 Read 4096\n8:0 Write 0\nTotal 4096\n");
        assert_eq!(e, [json!({"major":8,"op":"Read","value":4096}), json!({"major":8,"op":"Write"})]);
        let p =
            psi("some avg10=1.50 avg60=0.00 avg300=0.00 total=42\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
        assert_eq!(p.unwrap()["some"], json!({"avg10":1.5,"avg60":0.0,"avg300":0.0,"total":42}));
    }
}
