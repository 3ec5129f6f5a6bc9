//! `hull update [--resources FILE|-] [--memory 64m ...] ID`: change a container's cgroup limits.
//! The JSON (a LinuxResources, as containerd sends it on stdin) comes first, then runc's single
//! flags override it.

use std::io::Read;
use std::path::Path;

use anyhow::{anyhow, bail, Result};
use oci_spec::runtime::LinuxResources;
use runtime_core::Runtime;
use serde_json::{json, Value};

pub fn run(rt: &Runtime, id: &str, resources: Option<&Path>, flags: &[(&'static str, String)]) -> Result<u8> {
    let c = super::load(rt, id)?;
    let mut r: Value = match resources {
        Some(p) if p == Path::new("-") => {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            serde_json::from_str(&s).map_err(|e| anyhow!("parsing resources from stdin: {e}"))?
        }
        Some(p) => {
            let s = std::fs::read_to_string(p)
                .map_err(|e| anyhow!("reading {}: {}", p.display(), runtime_core::io_error_text(&e)))?;
            serde_json::from_str(&s).map_err(|e| anyhow!("parsing {}: {e}", p.display()))?
        }
        None => json!({}),
    };
    for (name, value) in flags {
        apply_flag(&mut r, name, value)?;
    }
    let r: LinuxResources = serde_json::from_value(r).map_err(|e| anyhow!("invalid resources: {e}"))?;
    c.update(&r)?;
    Ok(0)
}

/// Sets the resource that runc's flag `name` stands for.
fn apply_flag(r: &mut Value, name: &str, value: &str) -> Result<()> {
    let num = |v: &str| v.parse::<i64>().map_err(|_| anyhow!("invalid value {v:?} for flag -{name}"));
    let (section, key, v) = match name {
        "blkio-weight" => ("blockIO", "weight", json!(num(value)?)),
        "cpu-period" => ("cpu", "period", json!(num(value)?)),
        "cpu-quota" => ("cpu", "quota", json!(num(value)?)),
        "cpu-rt-period" => ("cpu", "realtimePeriod", json!(num(value)?)),
        "cpu-rt-runtime" => ("cpu", "realtimeRuntime", json!(num(value)?)),
        "cpu-share" => ("cpu", "shares", json!(num(value)?)),
        "cpuset-cpus" => ("cpu", "cpus", json!(value)),
        "cpuset-mems" => ("cpu", "mems", json!(value)),
        "kernel-memory" => ("memory", "kernel", json!(bytes(value)?)),
        "kernel-memory-tcp" => ("memory", "kernelTCP", json!(bytes(value)?)),
        "memory" => ("memory", "limit", json!(bytes(value)?)),
        "memory-reservation" => ("memory", "reservation", json!(bytes(value)?)),
        "memory-swap" => ("memory", "swap", json!(bytes(value)?)),
        "pids-limit" => ("pids", "limit", json!(num(value)?)),
        "l3-cache-schema" | "mem-bw-schema" => bail!("not supported: update --{name} (Intel RDT)"),
        other => bail!("flag provided but not defined: -{other}"),
    };
    if !r[section].is_object() {
        r[section] = json!({});
    }
    r[section][key] = v;
    Ok(())
}

/// runc's RAMInBytes: a number with an optional b/k/m/g/t/p suffix (powers of 1024), or -1.
fn bytes(s: &str) -> Result<i64> {
    if s == "-1" {
        return Ok(-1);
    }
    let lower = s.to_ascii_lowercase();
    let t = lower.trim_end_matches('b');
    let (num, mult) = match t.chars().last() {
        Some('k') => (&t[..t.len() - 1], 1i64 << 10),
        Some('m') => (&t[..t.len() - 1], 1 << 20),
        Some('g') => (&t[..t.len() - 1], 1 << 30),
        Some('t') => (&t[..t.len() - 1], 1 << 40),
        Some('p') => (&t[..t.len() - 1], 1 << 50),
        _ => (t, 1),
    };
    let n: f64 = num.trim().parse().map_err(|_| anyhow!("invalid size: {s:?}"))?;
    Ok((n * mult as f64) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_like_runc() {
        assert_eq!(bytes("64m").unwrap(), 64 << 20);
        assert_eq!(bytes("1G").unwrap(), 1 << 30);
        assert_eq!(bytes("512kb").unwrap(), 512 << 10);
        assert_eq!(bytes("100").unwrap(), 100);
        assert_eq!(bytes("-1").unwrap(), -1);
        assert!(bytes("lots").is_err());
    }

    #[test]
    fn flags_land_in_their_sections() {
        let mut r = json!({"memory": {"limit": 1}});
        apply_flag(&mut r, "memory", "32m").unwrap();
        apply_flag(&mut r, "pids-limit", "7").unwrap();
        apply_flag(&mut r, "cpuset-cpus", "0").unwrap();
        assert_eq!(r, json!({"memory": {"limit": 33554432}, "pids": {"limit": 7}, "cpu": {"cpus": "0"}}));
        assert!(apply_flag(&mut r, "l3-cache-schema", "x").unwrap_err().to_string().contains("not supported"));
    }
}
