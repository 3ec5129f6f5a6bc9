//! `linux.resources` as cgroup v1 file writes, in runc's controller order and with runc's rules
//! for zero ("unset") and -1 ("unlimited"). Pure.

use oci_spec::runtime::{LinuxBlockIo, LinuxCpu, LinuxMemory, LinuxResources, LinuxThrottleDevice};

use super::{devices, invalid, not_supported, Write, WriteMode};

/// All writes for `r` on a host whose mounted v1 controllers are `keys`. `create` adds the
/// device rules even when none are configured (runc's default allow-list always applies).
pub(crate) fn writes(r: &LinuxResources, keys: &[String], create: bool) -> crate::Result<Vec<Write>> {
    if r.unified().as_ref().is_some_and(|u| !u.is_empty()) {
        return Err(not_supported("linux.resources.unified on cgroup v1"));
    }
    let mut out = Vec::new();
    let cpu = r.cpu().clone().unwrap_or_default();
    push(&mut out, keys, "cpuset", "linux.resources.cpu", cpuset(&cpu, "cpuset"))?;
    if create || r.devices().is_some() {
        let rules = r.devices().as_deref().unwrap_or_default();
        push(&mut out, keys, "devices", "linux.resources.devices", devices::v1_writes(rules)?)?;
    }
    if let Some(m) = r.memory() {
        push(&mut out, keys, "memory", "linux.resources.memory", memory(m)?)?;
    }
    push(&mut out, keys, "cpu", "linux.resources.cpu", cpu_writes(&cpu))?;
    if let Some(p) = r.pids() {
        let w = (p.limit() != 0).then(|| Write::new("pids", "pids.max", pids_max(p.limit())));
        push(&mut out, keys, "pids", "linux.resources.pids", w.into_iter().collect())?;
    }
    if let Some(b) = r.block_io() {
        push(&mut out, keys, "blkio", "linux.resources.blockIO", blkio(b))?;
    }
    let huge = hugetlb(
        r,
        "hugetlb",
        |size| format!("hugetlb.{size}.limit_in_bytes"),
        |size| format!("hugetlb.{size}.rsvd.limit_in_bytes"),
    )?;
    push(&mut out, keys, "hugetlb", "linux.resources.hugepageLimits", huge)?;
    if let Some(n) = r.network() {
        let class = n.class_id().filter(|c| *c != 0).map(|c| Write::new("net_cls", "net_cls.classid", c.to_string()));
        push(&mut out, keys, "net_cls", "linux.resources.network.classID", class.into_iter().collect())?;
        let prio = n.priorities().as_deref().unwrap_or_default().iter();
        let prio = prio.map(|p| Write::new("net_prio", "net_prio.ifpriomap", format!("{} {}", p.name(), p.priority())));
        push(&mut out, keys, "net_prio", "linux.resources.network.priorities", prio.collect())?;
    }
    let rdma = rdma_lines(r).into_iter().map(|l| Write::new("rdma", "rdma.max", l)).collect();
    push(&mut out, keys, "rdma", "linux.resources.rdma", rdma)?;
    Ok(out)
}

/// Where a process is, by the text of its /proc/<pid>/cgroup, when that is not `dir` in the
/// hierarchy of controller `key` (`None`: it is there, or the hierarchy is not listed).
pub(crate) fn outside(proc_cgroup: &str, key: &str, dir: &std::path::Path) -> Option<String> {
    let line = proc_cgroup.lines().find(|l| l.split(':').nth(1).is_some_and(|c| c.split(',').any(|c| c == key)))?;
    let at = line.splitn(3, ':').nth(2)?;
    let rel = at.trim_start_matches('/');
    (rel.is_empty() || !dir.ends_with(rel)).then(|| at.to_owned())
}

/// Appends `writes` after checking that their controller is mounted.
fn push(out: &mut Vec<Write>, keys: &[String], key: &str, what: &str, writes: Vec<Write>) -> crate::Result<()> {
    if !writes.is_empty() && !keys.iter().any(|k| k == key) {
        return Err(not_supported(format!("{what}: no {key} cgroup controller on this host")));
    }
    out.extend(writes);
    Ok(())
}

pub(super) fn pids_max(limit: i64) -> String {
    if limit > 0 {
        limit.to_string()
    } else {
        "max".into()
    }
}

pub(super) fn cpuset(cpu: &LinuxCpu, key: &str) -> Vec<Write> {
    let mut out = Vec::new();
    if let Some(c) = cpu.cpus().as_deref().filter(|c| !c.is_empty()) {
        out.push(Write::new(key, "cpuset.cpus", c));
    }
    if let Some(m) = cpu.mems().as_deref().filter(|m| !m.is_empty()) {
        out.push(Write::new(key, "cpuset.mems", m));
    }
    out
}

fn cpu_writes(c: &LinuxCpu) -> Vec<Write> {
    let mut out = Vec::new();
    let mut put = |file: &str, v: String| out.push(Write::new("cpu", file, v));
    if let Some(p) = c.realtime_period().filter(|p| *p != 0) {
        put("cpu.rt_period_us", p.to_string());
    }
    if let Some(r) = c.realtime_runtime().filter(|r| *r != 0) {
        put("cpu.rt_runtime_us", r.to_string());
    }
    if let Some(s) = c.shares().filter(|s| *s != 0) {
        out.push(Write::new("cpu", "cpu.shares", s.to_string()).mode(WriteMode::Verify));
    }
    let quota = c.quota().unwrap_or(0);
    if let Some(p) = c.period().filter(|p| *p != 0) {
        // A shorter period can be refused until the quota is lowered with it.
        let mode = if quota != 0 { WriteMode::RetryOnEinval } else { WriteMode::Required };
        out.push(Write::new("cpu", "cpu.cfs_period_us", p.to_string()).mode(mode));
    }
    if quota != 0 {
        out.push(Write::new("cpu", "cpu.cfs_quota_us", quota.to_string()));
    }
    if let Some(b) = c.burst() {
        out.push(Write::new("cpu", "cpu.cfs_burst_us", b.to_string()));
    }
    if let Some(i) = c.idle() {
        out.push(Write::new("cpu", "cpu.idle", i.to_string()));
    }
    out
}

fn memory(m: &LinuxMemory) -> crate::Result<Vec<Write>> {
    let mut out = Vec::new();
    let limit = m.limit().unwrap_or(0);
    let mut swap = m.swap().unwrap_or(0);
    if limit == -1 && swap == 0 {
        // runc: an unlimited memory limit without a swap value lifts the swap limit too.
        swap = -1;
    }
    // memory.limit_in_bytes may never exceed memory.memsw.limit_in_bytes: whichever of the two
    // the kernel refuses first goes through once the other one is written.
    if limit != 0 {
        out.push(Write::new("memory", "memory.limit_in_bytes", limit.to_string()).mode(WriteMode::RetryOnEinval));
    }
    if swap > 0 {
        out.push(Write::new("memory", "memory.memsw.limit_in_bytes", swap.to_string()).mode(WriteMode::RetryOnEinval));
    } else if swap < 0 {
        // Without swap accounting there is nothing to lift.
        out.push(Write::new("memory", "memory.memsw.limit_in_bytes", swap.to_string()).mode(WriteMode::IfExists));
    }
    if let Some(r) = m.reservation().filter(|r| *r != 0) {
        out.push(Write::new("memory", "memory.soft_limit_in_bytes", r.to_string()));
    }
    if let Some(k) = m.kernel().filter(|k| *k != 0) {
        // Kernel memory limits were removed from recent kernels.
        out.push(Write::new("memory", "memory.kmem.limit_in_bytes", k.to_string()).mode(WriteMode::IfExists));
    }
    if let Some(k) = m.kernel_tcp().filter(|k| *k != 0) {
        out.push(Write::new("memory", "memory.kmem.tcp.limit_in_bytes", k.to_string()));
    }
    if m.disable_oom_killer() == Some(true) {
        out.push(Write::new("memory", "memory.oom_control", "1"));
    }
    if let Some(s) = m.swappiness() {
        if s > 100 {
            return Err(invalid(format!("invalid memory swappiness value: {s} (valid range is 0-100)")));
        }
        out.push(Write::new("memory", "memory.swappiness", s.to_string()));
    }
    if let Some(h) = m.use_hierarchy() {
        let v = if h { "1" } else { "0" };
        out.push(Write::new("memory", "memory.use_hierarchy", v).mode(WriteMode::IfExists));
    }
    Ok(out)
}

fn blkio(b: &LinuxBlockIo) -> Vec<Write> {
    let mut out = Vec::new();
    if let Some(w) = b.weight().filter(|w| *w != 0) {
        out.push(Write::new("blkio", "blkio.weight", w.to_string()).prefer("blkio.bfq.weight", w.to_string()));
    }
    if let Some(w) = b.leaf_weight().filter(|w| *w != 0) {
        out.push(Write::new("blkio", "blkio.leaf_weight", w.to_string()));
    }
    for d in b.weight_device().as_deref().unwrap_or_default() {
        if let Some(w) = d.weight() {
            let v = format!("{}:{} {w}", d.major(), d.minor());
            out.push(Write::new("blkio", "blkio.weight_device", v.clone()).prefer("blkio.bfq.weight_device", v));
        }
        if let Some(w) = d.leaf_weight() {
            out.push(Write::new("blkio", "blkio.leaf_weight_device", format!("{}:{} {w}", d.major(), d.minor())));
        }
    }
    let throttles: [(&Option<Vec<LinuxThrottleDevice>>, &str); 4] = [
        (b.throttle_read_bps_device(), "blkio.throttle.read_bps_device"),
        (b.throttle_write_bps_device(), "blkio.throttle.write_bps_device"),
        (b.throttle_read_iops_device(), "blkio.throttle.read_iops_device"),
        (b.throttle_write_iops_device(), "blkio.throttle.write_iops_device"),
    ];
    for (list, file) in throttles {
        for d in list.as_deref().unwrap_or_default() {
            out.push(Write::new("blkio", file, format!("{}:{} {}", d.major(), d.minor(), d.rate())));
        }
    }
    out
}

/// Hugepage limits for either version: `limit` and `rsvd` name the two files for a page size.
pub(super) fn hugetlb(
    r: &LinuxResources,
    key: &str,
    limit: impl Fn(&str) -> String,
    rsvd: impl Fn(&str) -> String,
) -> crate::Result<Vec<Write>> {
    let mut out = Vec::new();
    for h in r.hugepage_limits().as_deref().unwrap_or_default() {
        let size = h.page_size();
        if size.is_empty() || !size.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(invalid(format!("invalid hugepage size {size:?}")));
        }
        out.push(Write::new(key, limit(size), h.limit().to_string()));
        // Reservation accounting (kernel 5.7+): limited too, so that reserved pages count.
        out.push(Write::new(key, rsvd(size), h.limit().to_string()).mode(WriteMode::IfExists));
    }
    Ok(out)
}

/// `rdma.max` lines, the same on both versions, sorted by device for a stable order. Like runc,
/// a limit that is not given is left as it is (not reset to max).
pub(super) fn rdma_lines(r: &LinuxResources) -> Vec<String> {
    let Some(map) = r.rdma() else { return Vec::new() };
    let mut devs: Vec<_> = map.iter().collect();
    devs.sort_by(|a, b| a.0.cmp(b.0));
    devs.into_iter()
        .filter_map(|(dev, l)| {
            let handles = l.hca_handles().map(|n| format!(" hca_handle={n}"));
            let objects = l.hca_objects().map(|n| format!(" hca_object={n}"));
            (handles.is_some() || objects.is_some())
                .then(|| format!("{dev}{}{}", handles.unwrap_or_default(), objects.unwrap_or_default()))
        })
        .collect()
}

#[cfg(test)]
#[path = "v1_tests.rs"]
mod tests;
