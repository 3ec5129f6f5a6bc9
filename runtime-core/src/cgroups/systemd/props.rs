//! The unit properties of a container's scope, as runc's systemd driver sets them on cgroup v2:
//! fixed ones at start, the resources systemd has a property for (the cgroup files get every
//! resource anyway, as with runc), device rules as `DevicePolicy`/`DeviceAllow`, and the
//! `org.systemd.property.*` annotations. Pure: the systemd version and /proc/devices are inputs.

use std::collections::BTreeMap;

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxResources};

use super::gvariant;
use crate::cgroups::bpf::DeviceState;
use crate::cgroups::devices::{configured_rules, default_rules};
use crate::cgroups::invalid;
use crate::cgroups::v2::{shares_to_weight, swap_max};

/// A property value, in the D-Bus type systemd expects for it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Bool(bool),
    U64(u64),
    I64(i64),
    U32(u32),
    I32(i32),
    U16(u16),
    I16(i16),
    Byte(u8),
    F64(f64),
    Str(String),
    /// `au`: PIDs.
    U32s(Vec<u32>),
    /// `ay`: CPU and memory node bitmasks.
    Bytes(Vec<u8>),
    /// `as`.
    Strs(Vec<String>),
    /// `a(ss)`: DeviceAllow's (path, access) pairs.
    Pairs(Vec<(String, String)>),
}

/// One unit property, applied only when systemd is at least `min_version` (runc skips
/// CPUQuotaPeriodUSec before v242 and AllowedCPUs/AllowedMemoryNodes before v244; the cgroup
/// files still get those values).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Property {
    pub(crate) name: String,
    pub(crate) value: Value,
    pub(crate) min_version: u32,
}

pub(super) fn prop(name: &str, value: Value) -> Property {
    Property { name: name.into(), value, min_version: 0 }
}

/// systemd's "infinity" for limits and quotas.
const INFINITY: u64 = u64::MAX;
/// The kernel's default CFS period, assumed when a quota comes without one.
const DEFAULT_PERIOD: u64 = 100_000;

/// The properties the scope starts with, before any resource: description, placement,
/// delegation, the init's pid, accounting for every controller, no default dependencies.
pub(crate) fn start_properties(id: &str, slice: &str, is_scope: bool, pid: i32) -> Vec<Property> {
    let mut out = vec![prop("Description", Value::Str(format!("hull container {id}")))];
    if is_scope {
        out.push(prop("Slice", Value::Str(slice.into())));
        out.push(prop("Delegate", Value::Bool(true)));
    } else {
        out.push(prop("Wants", Value::Strs(vec![slice.into()])));
    }
    out.push(prop("PIDs", Value::U32s(vec![pid as u32])));
    for acct in ["MemoryAccounting", "CPUAccounting", "IOAccounting", "TasksAccounting"] {
        out.push(prop(acct, Value::Bool(true)));
    }
    out.push(prop("DefaultDependencies", Value::Bool(false)));
    out
}

/// The resources systemd has properties for (runc's table for cgroup v2). `proc_devices` is the
/// text of /proc/devices, for device rules that name a whole major number.
pub(crate) fn resource_properties(r: &LinuxResources, proc_devices: &str) -> crate::Result<Vec<Property>> {
    let mut out = match r.devices() {
        Some(d) => device_properties(d, proc_devices)?,
        None => Vec::new(),
    };
    if let Some(m) = r.memory() {
        let limit = m.limit().unwrap_or(0);
        if limit != 0 {
            out.push(prop("MemoryMax", Value::U64(limit as u64)));
        }
        if let Some(low) = m.reservation().filter(|v| *v != 0) {
            out.push(prop("MemoryLow", Value::U64(low as u64)));
        }
        let swap = swap_max(m.swap().unwrap_or(0), limit)?;
        if swap != 0 {
            out.push(prop("MemorySwapMax", Value::U64(swap as u64)));
        }
    }
    if let Some(c) = r.cpu() {
        if let Some(s) = c.shares().filter(|s| *s != 0) {
            out.push(prop("CPUWeight", Value::U64(shares_to_weight(s))));
        }
        cpu_quota(&mut out, c.quota().unwrap_or(0), c.period().unwrap_or(0));
        cpuset(&mut out, c.cpus().as_deref().unwrap_or(""), c.mems().as_deref().unwrap_or(""))?;
    }
    if let Some(p) = r.pids() {
        if p.limit() > 0 || p.limit() == -1 {
            out.push(prop("TasksMax", Value::U64(p.limit() as u64)));
        }
    }
    if let Some(u) = r.unified() {
        out.extend(unified(u)?);
    }
    Ok(out)
}

/// CPUQuotaPerSecUSec (and the period): systemd keeps the quota as a whole percentage of a CPU,
/// so a fraction is rounded up to the next 10 ms per second, as runc does, so that the kernel
/// quota is not below the one asked for.
pub(super) fn cpu_quota(out: &mut Vec<Property>, quota: i64, period: u64) {
    if period != 0 {
        out.push(Property { min_version: 242, ..prop("CPUQuotaPeriodUSec", Value::U64(period)) });
    }
    if quota == 0 && period == 0 {
        return;
    }
    let mut per_sec = INFINITY;
    if quota > 0 {
        let period = if period == 0 { DEFAULT_PERIOD } else { period };
        per_sec = (quota as u64).saturating_mul(1_000_000) / period;
        if !per_sec.is_multiple_of(10_000) {
            per_sec = (per_sec / 10_000 + 1) * 10_000;
        }
    }
    out.push(prop("CPUQuotaPerSecUSec", Value::U64(per_sec)));
}

pub(super) fn cpuset(out: &mut Vec<Property>, cpus: &str, mems: &str) -> crate::Result<()> {
    for (name, list) in [("AllowedCPUs", cpus), ("AllowedMemoryNodes", mems)] {
        if !list.is_empty() {
            out.push(Property { min_version: 244, ..prop(name, Value::Bytes(range_to_bits(list)?)) });
        }
    }
    Ok(())
}

/// A cpu list (`0-3,7`) as systemd's bitmask: bit n of byte n/8 for cpu n.
pub(crate) fn range_to_bits(list: &str) -> crate::Result<Vec<u8>> {
    let bad = || invalid(format!("invalid cpu or memory node list {list:?}"));
    let mut bits: Vec<u8> = Vec::new();
    for part in list.trim().split(',').map(str::trim) {
        let (lo, hi) = match part.split_once('-') {
            Some((a, b)) => {
                (a.trim().parse::<usize>().map_err(|_| bad())?, b.trim().parse::<usize>().map_err(|_| bad())?)
            }
            None => {
                let n = part.parse::<usize>().map_err(|_| bad())?;
                (n, n)
            }
        };
        if lo > hi || hi >= 8192 {
            return Err(bad());
        }
        for n in lo..=hi {
            if bits.len() <= n / 8 {
                bits.resize(n / 8 + 1, 0);
            }
            bits[n / 8] |= 1 << (n % 8);
        }
    }
    if bits.is_empty() {
        bits.push(0);
    }
    Ok(bits)
}

/// `linux.resources.unified` keys systemd knows; the others only go to the files.
fn unified(u: &std::collections::HashMap<String, String>) -> crate::Result<Vec<Property>> {
    let mut out = Vec::new();
    let sorted: BTreeMap<_, _> = u.iter().collect();
    for (key, value) in sorted {
        let v = value.trim();
        let num = |v: &str| -> crate::Result<u64> {
            if v == "max" {
                return Ok(INFINITY);
            }
            v.parse().map_err(|_| invalid(format!("unified resource {key:?} value invalid: {v:?}")))
        };
        match key.as_str() {
            "cpu.max" => {
                let f: Vec<&str> = v.split_whitespace().collect();
                if f.is_empty() || f.len() > 2 {
                    return Err(invalid(format!("unified resource {key:?} value invalid: {v:?}")));
                }
                let quota = if f[0] == "max" { 0 } else { num(f[0])? as i64 };
                let period = if f.len() == 2 { num(f[1])? } else { DEFAULT_PERIOD };
                cpu_quota(&mut out, quota, period);
            }
            "cpu.weight" => out.push(prop("CPUWeight", Value::U64(num(v)?))),
            "cpuset.cpus" => cpuset(&mut out, v, "")?,
            "cpuset.mems" => cpuset(&mut out, "", v)?,
            "memory.high" | "memory.low" | "memory.min" | "memory.max" | "memory.swap.max" => {
                let name = match key.as_str() {
                    "memory.high" => "MemoryHigh",
                    "memory.low" => "MemoryLow",
                    "memory.min" => "MemoryMin",
                    "memory.max" => "MemoryMax",
                    _ => "MemorySwapMax",
                };
                out.push(prop(name, Value::U64(num(v)?)));
            }
            "pids.max" => out.push(prop("TasksMax", Value::U64(num(v)?))),
            _ => {}
        }
    }
    Ok(out)
}

/// Device rules as systemd's allow-list, as runc derives it: the rules (with the default ones)
/// are reduced to a default and exceptions; an allow-all becomes `DevicePolicy=auto`; a deny-list
/// systemd cannot express becomes strict with no entries (the eBPF program the files driver
/// attaches beside systemd's carries the real rules); otherwise `strict` plus one entry per
/// allowed device: `/dev/{char,block}/M:m`, `char-<group>` for a whole major (its name in
/// /proc/devices), `char-*`/`block-*` for all. `*:m` rules have no systemd form and are left to
/// the eBPF program.
pub(super) fn device_properties(devices: &[LinuxDeviceCgroup], proc_devices: &str) -> crate::Result<Vec<Property>> {
    let mut rules = configured_rules(devices)?;
    rules.extend(default_rules());
    let state = DeviceState::from_rules(&rules);
    let policy = |p: &str, allow: Vec<(String, String)>| {
        vec![prop("DevicePolicy", Value::Str(p.into())), prop("DeviceAllow", Value::Pairs(allow))]
    };
    if state.default_allow {
        let policy_name = if state.exceptions.is_empty() { "auto" } else { "strict" };
        return Ok(policy(policy_name, Vec::new()));
    }
    let mut allow = Vec::new();
    for rule in &state.exceptions {
        let kinds: &[char] = if rule.kind == 'a' { &['c', 'b'] } else { std::slice::from_ref(&rule.kind) };
        for &kind in kinds {
            let (dir, group) = if kind == 'b' { ("block", "block-") } else { ("char", "char-") };
            let path = match (rule.major, rule.minor) {
                (None, None) => format!("{group}*"),
                (None, Some(_)) => continue,
                (Some(major), None) => match device_group(proc_devices, kind, major) {
                    Some(name) => format!("{group}{name}"),
                    None => continue,
                },
                (Some(major), Some(minor)) => format!("/dev/{dir}/{major}:{minor}"),
            };
            allow.push((path, rule.access.clone()));
        }
    }
    // An empty DeviceAllow first: on SetUnitProperties a list adds to the entries already there.
    let mut out = policy("strict", Vec::new());
    out.push(prop("DeviceAllow", Value::Pairs(allow)));
    Ok(out)
}

/// The name /proc/devices gives a major number of a kind (`136 pts` under "Character devices:").
fn device_group(proc_devices: &str, kind: char, major: i64) -> Option<String> {
    let header = if kind == 'b' { "Block devices:" } else { "Character devices:" };
    let mut in_section = false;
    for line in proc_devices.lines().map(str::trim) {
        if line.ends_with("devices:") {
            in_section = line == header;
            continue;
        }
        let mut f = line.split_whitespace();
        if in_section && f.next().and_then(|m| m.parse::<i64>().ok()) == Some(major) {
            return f.next().map(str::to_owned);
        }
    }
    None
}

/// `org.systemd.property.<Name>` annotations as unit properties (runc's rules): the name is
/// letters only; the value is in GVariant text form; a `...Sec` name with a number becomes
/// `...USec` in microseconds, as systemd's D-Bus API takes it.
pub(crate) fn annotation_properties(annotations: &BTreeMap<String, String>) -> crate::Result<Vec<Property>> {
    let mut out = Vec::new();
    for (key, text) in annotations {
        let Some(name) = key.strip_prefix("org.systemd.property.") else { continue };
        if name.len() < 3 || !name.chars().all(|c| c.is_ascii_alphabetic()) {
            return Err(invalid(format!("annotation {key}: invalid systemd property name {name:?}")));
        }
        let value = gvariant::parse(text).map_err(|e| invalid(format!("annotation {key}={text}: {e}")))?;
        let sec = name.strip_suffix("Sec").filter(|t| t.ends_with(|c: char| c.is_ascii_lowercase()));
        match sec {
            Some(stem) => {
                let usec = to_usec(&value).ok_or_else(|| invalid(format!("annotation {key}={text}: not a number")))?;
                out.push(prop(&format!("{stem}USec"), Value::U64(usec)));
            }
            None => out.push(prop(name, value)),
        }
    }
    Ok(out)
}

fn to_usec(v: &Value) -> Option<u64> {
    let secs = |n: i64| u64::try_from(n).ok().map(|n| n.saturating_mul(1_000_000));
    match *v {
        Value::U64(n) => Some(n.saturating_mul(1_000_000)),
        Value::I64(n) => secs(n),
        Value::U32(n) => secs(n.into()),
        Value::I32(n) => secs(n.into()),
        Value::U16(n) => secs(n.into()),
        Value::I16(n) => secs(n.into()),
        Value::Byte(n) => secs(n.into()),
        Value::F64(f) if f >= 0.0 => Some((f * 1_000_000.0) as u64),
        _ => None,
    }
}

#[cfg(test)]
#[path = "props_tests.rs"]
mod tests;
