//! `linux.resources` as cgroup v2 file writes, converting v1-style values the way runc and crun
//! do (shares to cpu.weight, blkio to io.*, memory+swap to memory.swap.max). Pure.

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources, LinuxThrottleDevice};

use super::v1::{cpuset, hugetlb, pids_max, rdma_lines};
use super::{invalid, not_supported, Write, WriteMode};

/// All writes for `r` into a v2 cgroup whose available controllers are `controllers`. Device
/// rules are not writes on v2: see `bpf::v2_program`.
pub(crate) fn writes(r: &LinuxResources, controllers: &[String]) -> crate::Result<Vec<Write>> {
    let mut out = Vec::new();
    let cpu = r.cpu().clone().unwrap_or_default();
    push(&mut out, controllers, "cpuset", cpuset(&cpu, ""))?;
    if let Some(m) = r.memory() {
        push(&mut out, controllers, "memory", memory(m)?)?;
    }
    push(&mut out, controllers, "cpu", cpu_writes(&cpu)?)?;
    if let Some(p) = r.pids() {
        let w = (p.limit() != 0).then(|| Write::new("", "pids.max", pids_max(p.limit())));
        push(&mut out, controllers, "pids", w.into_iter().collect())?;
    }
    if let Some(b) = r.block_io() {
        push(&mut out, controllers, "io", io(b)?)?;
    }
    let huge = hugetlb(r, "", |size| format!("hugetlb.{size}.max"), |size| format!("hugetlb.{size}.rsvd.max"))?;
    push(&mut out, controllers, "hugetlb", huge)?;
    if let Some(n) = r.network() {
        if n.class_id().is_some() || n.priorities().as_ref().is_some_and(|p| !p.is_empty()) {
            return Err(not_supported("linux.resources.network on cgroup v2"));
        }
    }
    let rdma = rdma_lines(r).into_iter().map(|l| Write::new("", "rdma.max", l)).collect();
    push(&mut out, controllers, "rdma", rdma)?;
    out.extend(unified(r, controllers)?);
    Ok(out)
}

/// Appends `writes` after checking that the controller exists in the hierarchy.
fn push(out: &mut Vec<Write>, controllers: &[String], ctrl: &str, writes: Vec<Write>) -> crate::Result<()> {
    if !writes.is_empty() && !controllers.iter().any(|c| c == ctrl) {
        return Err(not_supported(format!("cgroup v2 controller {ctrl} (needed for {}) on this host", writes[0].file)));
    }
    out.extend(writes);
    Ok(())
}

/// runc's cpu.shares (2..262144) to cpu.weight (1..10000) mapping.
pub(crate) fn shares_to_weight(shares: u64) -> u64 {
    if shares == 0 {
        0
    } else {
        1 + (shares.saturating_sub(2) * 9999) / 262142
    }
}

/// runc's blkio.weight (10..1000) to io.weight (1..10000) mapping.
pub(crate) fn blkio_to_io_weight(weight: u16) -> u64 {
    if weight == 0 {
        0
    } else {
        1 + (u64::from(weight).saturating_sub(10)) * 9999 / 990
    }
}

/// v1's memory+swap total as v2's swap-only limit; -1 is unlimited, 0 unset.
pub(crate) fn swap_max(swap: i64, limit: i64) -> crate::Result<i64> {
    if limit == -1 && swap == 0 {
        return Ok(-1);
    }
    if swap == -1 || swap == 0 {
        return Ok(swap);
    }
    if limit == 0 || limit == -1 {
        return Err(invalid("unable to set swap limit without memory limit"));
    }
    if limit < 0 {
        return Err(invalid(format!("invalid memory value: {limit}")));
    }
    if swap < limit {
        return Err(invalid("memory+swap limit should be >= memory limit"));
    }
    Ok(swap - limit)
}

/// runc's rendering: 0 is "leave alone", negative is "max".
fn limit_str(v: i64) -> Option<String> {
    match v {
        0 => None,
        v if v < 0 => Some("max".into()),
        v => Some(v.to_string()),
    }
}

fn memory(m: &LinuxMemory) -> crate::Result<Vec<Write>> {
    let mut out = Vec::new();
    let limit = m.limit().unwrap_or(0);
    let swap = m.swap().unwrap_or(0);
    let swap_v2 = swap_max(swap, limit)?;
    // swap == limit means "no swap": written as 0, which limit_str would skip.
    let swap_str = if swap_v2 == 0 && swap > 0 { Some("0".to_owned()) } else { limit_str(swap_v2) };
    if let Some(s) = swap_str {
        // Without swap accounting, "max" and "0" are what the kernel does anyway.
        let mode = if s == "max" || s == "0" { WriteMode::IfExists } else { WriteMode::Required };
        out.push(Write::new("", "memory.swap.max", s).mode(mode));
    }
    if let Some(l) = limit_str(limit) {
        out.push(Write::new("", "memory.max", l));
    }
    if let Some(r) = limit_str(m.reservation().unwrap_or(0)) {
        out.push(Write::new("", "memory.low", r));
    }
    let refuse = [
        (m.kernel().is_some_and(|k| k != 0), "kernel"),
        (m.kernel_tcp().is_some_and(|k| k != 0), "kernelTCP"),
        (m.swappiness().is_some(), "swappiness"),
        (m.disable_oom_killer() == Some(true), "disableOOMKiller"),
        (m.use_hierarchy() == Some(false), "useHierarchy false"),
    ];
    if let Some((_, what)) = refuse.iter().find(|(set, _)| *set) {
        return Err(not_supported(format!("linux.resources.memory.{what} on cgroup v2")));
    }
    Ok(out)
}

fn cpu_writes(c: &LinuxCpu) -> crate::Result<Vec<Write>> {
    if c.realtime_runtime().is_some_and(|r| r != 0) || c.realtime_period().is_some_and(|p| p != 0) {
        return Err(not_supported("linux.resources.cpu realtime scheduling on cgroup v2"));
    }
    let mut out = Vec::new();
    if let Some(i) = c.idle() {
        out.push(Write::new("", "cpu.idle", i.to_string()));
    }
    if let Some(s) = c.shares().filter(|s| *s != 0) {
        out.push(Write::new("", "cpu.weight", shares_to_weight(s).to_string()));
    }
    let (quota, period) = (c.quota().unwrap_or(0), c.period().unwrap_or(0));
    if let Some(b) = c.burst() {
        // A burst above the current quota is refused until cpu.max is raised.
        let mode = if quota != 0 { WriteMode::RetryOnEinval } else { WriteMode::Required };
        out.push(Write::new("", "cpu.max.burst", b.to_string()).mode(mode));
    }
    if quota != 0 || period != 0 {
        let mut max = if quota > 0 { quota.to_string() } else { "max".into() };
        if period != 0 {
            max += &format!(" {period}");
        }
        out.push(Write::new("", "cpu.max", max));
    }
    Ok(out)
}

fn io(b: &LinuxBlockIo) -> crate::Result<Vec<Write>> {
    if b.leaf_weight().is_some_and(|w| w != 0) || b.weight_device().iter().flatten().any(|d| d.leaf_weight().is_some())
    {
        return Err(not_supported("linux.resources.blockIO leafWeight on cgroup v2"));
    }
    let mut out = Vec::new();
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        let io_weight = blkio_to_io_weight(w).to_string();
        out.push(Write::new("", "io.weight", io_weight).prefer("io.bfq.weight", w.to_string()));
    }
    for d in b.weight_device().as_deref().unwrap_or_default() {
        if let Some(w) = d.weight() {
            // Only BFQ takes per-device weights in blkio units; like runc, nothing without it.
            let v = format!("{}:{} {w}", d.major(), d.minor());
            out.push(Write::new("", "io.bfq.weight", v).mode(WriteMode::IfExists));
        }
    }
    let throttles: [(&Option<Vec<LinuxThrottleDevice>>, &str); 4] = [
        (b.throttle_read_bps_device(), "rbps"),
        (b.throttle_write_bps_device(), "wbps"),
        (b.throttle_read_iops_device(), "riops"),
        (b.throttle_write_iops_device(), "wiops"),
    ];
    for (list, kind) in throttles {
        for d in list.as_deref().unwrap_or_default() {
            out.push(Write::new("", "io.max", format!("{}:{} {kind}={}", d.major(), d.minor(), d.rate())));
        }
    }
    Ok(out)
}

/// `unified` key/values, written last so that they override the converted values (runc's order).
fn unified(r: &LinuxResources, controllers: &[String]) -> crate::Result<Vec<Write>> {
    let Some(map) = r.unified() else { return Ok(Vec::new()) };
    let mut keys: Vec<_> = map.iter().collect();
    keys.sort();
    keys.into_iter()
        .map(|(k, v)| {
            let ctrl = k.split('.').next().unwrap_or("");
            if k.contains('/') || !k.contains('.') || ctrl.is_empty() {
                return Err(invalid(format!("unified resource {k:?} must be a file name in the cgroup directory")));
            }
            if ctrl != "cgroup" && !controllers.iter().any(|c| c == ctrl) {
                return Err(not_supported(format!(
                    "unified resource {k:?} can't be set: controller {ctrl:?} not available"
                )));
            }
            Ok(Write::new("", k.as_str(), v.as_str()))
        })
        .collect()
}

#[cfg(test)]
#[path = "v2_tests.rs"]
mod tests;
