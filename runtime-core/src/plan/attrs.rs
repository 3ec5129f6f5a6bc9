//! PURE: the scheduling and execution attributes of a process: `scheduler`, `ioPriority`,
//! `execCPUAffinity`, `linux.personality` and `linux.memoryPolicy`, turned into the numbers the
//! syscalls take.

use oci_spec::runtime::{
    ExecCPUAffinity, IOPriorityClass, LinuxIOPriority, LinuxMemoryPolicy, LinuxPersonality, LinuxPersonalityDomain,
    LinuxSchedulerFlag, LinuxSchedulerPolicy, MemoryPolicyFlagType, MemoryPolicyModeType, Scheduler,
};

use crate::error::{Error, Result};

/// sched_setattr's arguments (struct sched_attr, version 1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct SchedAttr {
    pub(crate) policy: u32,
    pub(crate) flags: u64,
    pub(crate) nice: i32,
    pub(crate) priority: u32,
    pub(crate) runtime: u64,
    pub(crate) deadline: u64,
    pub(crate) period: u64,
}

/// set_mempolicy's arguments: mode with its flags, and the node bitmask.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct MemPolicy {
    pub(crate) mode: i32,
    pub(crate) nodes: Vec<u64>,
}

/// Everything beside credentials that shapes how the process runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ProcessAttrs {
    pub(crate) scheduler: Option<SchedAttr>,
    /// ioprio_set value: class << 13 | level.
    pub(crate) ioprio: Option<u32>,
    /// CPU bitmasks (64 CPUs per word): when the runtime enters the container, and at execve.
    pub(crate) affinity_initial: Option<Vec<u64>>,
    pub(crate) affinity_final: Option<Vec<u64>>,
    pub(crate) personality: Option<u64>,
    pub(crate) mempolicy: Option<MemPolicy>,
    /// AppArmor profile and SELinux label for the execve (only set where the LSM is active).
    pub(crate) apparmor: Option<String>,
    pub(crate) selinux_label: Option<String>,
}

const MAX_CPUS: u32 = 1024;

pub(crate) fn scheduler(s: &Scheduler) -> Result<SchedAttr> {
    let err = |m: String| Err(Error::InvalidConfig(format!("process.scheduler: {m}")));
    let policy = match s.policy() {
        LinuxSchedulerPolicy::SchedOther => libc::SCHED_OTHER,
        LinuxSchedulerPolicy::SchedFifo => libc::SCHED_FIFO,
        LinuxSchedulerPolicy::SchedRr => libc::SCHED_RR,
        LinuxSchedulerPolicy::SchedBatch => libc::SCHED_BATCH,
        LinuxSchedulerPolicy::SchedIso => return Err(Error::NotSupported("process.scheduler: SCHED_ISO".into())),
        LinuxSchedulerPolicy::SchedIdle => libc::SCHED_IDLE,
        LinuxSchedulerPolicy::SchedDeadline => 6,
    } as u32;
    let nice = s.nice().unwrap_or(0);
    if !(-20..=19).contains(&nice) {
        return err(format!("nice {nice} is outside -20..19"));
    }
    let priority = s.priority().unwrap_or(0);
    let realtime = policy == libc::SCHED_FIFO as u32 || policy == libc::SCHED_RR as u32;
    if realtime && !(1..=99).contains(&priority) {
        return err(format!("priority {priority} is outside 1..99 for a realtime policy"));
    }
    if !realtime && priority != 0 {
        return err("priority is only for SCHED_FIFO and SCHED_RR".into());
    }
    let (runtime, deadline, period) = (s.runtime().unwrap_or(0), s.deadline().unwrap_or(0), s.period().unwrap_or(0));
    if policy == 6 && (runtime == 0 || (deadline != 0 && runtime > deadline) || (period != 0 && deadline > period)) {
        return err("SCHED_DEADLINE needs 0 < runtime <= deadline <= period".into());
    }
    if policy != 6 && (runtime, deadline, period) != (0, 0, 0) {
        return err("runtime, deadline and period are only for SCHED_DEADLINE".into());
    }
    let flags = s.flags().iter().flatten().fold(0u64, |a, f| {
        a | match f {
            LinuxSchedulerFlag::SchedResetOnFork => 0x01,
            LinuxSchedulerFlag::SchedFlagReclaim => 0x02,
            LinuxSchedulerFlag::SchedFlagDLOverrun => 0x04,
            LinuxSchedulerFlag::SchedFlagKeepPolicy => 0x08,
            LinuxSchedulerFlag::SchedFlagKeepParams => 0x10,
            LinuxSchedulerFlag::SchedFlagUtilClampMin => 0x20,
            LinuxSchedulerFlag::SchedFlagUtilClampMax => 0x40,
        }
    });
    Ok(SchedAttr { policy, flags, nice, priority: priority as u32, runtime, deadline, period })
}

pub(crate) fn ioprio(p: &LinuxIOPriority) -> Result<u32> {
    let class = match p.class() {
        IOPriorityClass::IoprioClassRt => 1,
        IOPriorityClass::IoprioClassBe => 2,
        IOPriorityClass::IoprioClassIdle => 3,
    };
    if !(0..=7).contains(&p.priority()) {
        return Err(Error::InvalidConfig(format!("process.ioPriority: priority {} is outside 0..7", p.priority())));
    }
    Ok(class << 13 | p.priority() as u32)
}

/// Parses a list like "0-3,7" into a bitmask of `limit` bits.
pub(crate) fn id_list(s: &str, limit: u32, field: &str) -> Result<Vec<u64>> {
    let bad = || Error::InvalidConfig(format!("{field}: invalid list {s:?}"));
    let mut mask = vec![0u64; limit.div_ceil(64) as usize];
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (a, b) = match part.split_once('-') {
            Some((a, b)) => (a.parse::<u32>().map_err(|_| bad())?, b.parse::<u32>().map_err(|_| bad())?),
            None => {
                let n = part.parse::<u32>().map_err(|_| bad())?;
                (n, n)
            }
        };
        if a > b || b >= limit {
            return Err(bad());
        }
        for n in a..=b {
            mask[(n / 64) as usize] |= 1 << (n % 64);
        }
    }
    if mask.iter().all(|w| *w == 0) {
        return Err(bad());
    }
    Ok(mask)
}

/// A CPU bitmask, 64 CPUs per word.
pub(crate) type CpuMask = Vec<u64>;

pub(crate) fn affinity(a: &ExecCPUAffinity) -> Result<(Option<CpuMask>, Option<CpuMask>)> {
    let one = |s: &Option<String>, which: &str| {
        s.as_deref()
            .filter(|s| !s.is_empty())
            .map(|s| id_list(s, MAX_CPUS, &format!("process.execCPUAffinity.{which}")))
            .transpose()
    };
    Ok((one(a.initial(), "initial")?, one(a.cpu_affinity_final(), "final")?))
}

pub(crate) fn personality(p: &LinuxPersonality) -> Result<u64> {
    if p.flags().as_ref().is_some_and(|f| !f.is_empty()) {
        // The spec defines no flag names; runc accepts none either.
        return Err(Error::NotSupported("linux.personality.flags".into()));
    }
    Ok(match p.domain() {
        LinuxPersonalityDomain::PerLinux => 0x0000,
        LinuxPersonalityDomain::PerLinux32 => 0x0008,
    })
}

pub(crate) fn mempolicy(m: &LinuxMemoryPolicy) -> Result<MemPolicy> {
    let field = "linux.memoryPolicy";
    let (mode, needs_nodes) = match m.mode() {
        MemoryPolicyModeType::MpolDefault => (0, false),
        MemoryPolicyModeType::MpolPreferred => (1, false),
        MemoryPolicyModeType::MpolBind => (2, true),
        MemoryPolicyModeType::MpolInterleave => (3, true),
        MemoryPolicyModeType::MpolLocal => (4, false),
        MemoryPolicyModeType::MpolPreferredMany => (5, true),
        MemoryPolicyModeType::MpolWeightedInterleave => (6, true),
    };
    let nodes = m.nodes().as_deref().unwrap_or("").trim();
    if needs_nodes && nodes.is_empty() {
        return Err(Error::InvalidConfig(format!("{field}: mode {} needs nodes", m.mode())));
    }
    if (mode == 0 || mode == 4) && !nodes.is_empty() {
        return Err(Error::InvalidConfig(format!("{field}: mode {} takes no nodes", m.mode())));
    }
    let flags = m.flags().iter().flatten().fold(0, |a, f| {
        a | match f {
            MemoryPolicyFlagType::MpolFNumaBalancing => 1 << 13,
            MemoryPolicyFlagType::MpolFRelativeNodes => 1 << 14,
            MemoryPolicyFlagType::MpolFStaticNodes => 1 << 15,
        }
    });
    let mut nodes = if nodes.is_empty() { Vec::new() } else { id_list(nodes, MAX_CPUS, field)? };
    while nodes.len() > 1 && nodes.last() == Some(&0) {
        nodes.pop();
    }
    Ok(MemPolicy { mode: mode | flags, nodes })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn from<T: serde::de::DeserializeOwned>(v: serde_json::Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn scheduler_values_and_refusals() {
        let s = scheduler(&from(json!({"policy": "SCHED_FIFO", "priority": 10, "flags": ["SCHED_RESET_ON_FORK"]})));
        assert_eq!(s.unwrap(), SchedAttr { policy: 1, flags: 1, priority: 10, ..Default::default() });
        let s = scheduler(&from(json!({"policy": "SCHED_DEADLINE", "runtime": 10, "deadline": 20, "period": 30})));
        assert_eq!(s.unwrap().policy, 6);
        for (v, want) in [
            (json!({"policy": "SCHED_FIFO"}), "outside 1..99"),
            (json!({"policy": "SCHED_OTHER", "priority": 3}), "only for SCHED_FIFO"),
            (json!({"policy": "SCHED_OTHER", "nice": 40}), "outside -20..19"),
            (json!({"policy": "SCHED_DEADLINE", "runtime": 30, "deadline": 20}), "runtime <= deadline"),
            (json!({"policy": "SCHED_BATCH", "runtime": 30}), "only for SCHED_DEADLINE"),
        ] {
            let e = scheduler(&from(v)).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn ioprio_and_lists() {
        assert_eq!(ioprio(&from(json!({"class": "IOPRIO_CLASS_IDLE", "priority": 0}))).unwrap(), 3 << 13);
        assert_eq!(ioprio(&from(json!({"class": "IOPRIO_CLASS_BE", "priority": 7}))).unwrap(), 2 << 13 | 7);
        assert!(ioprio(&from(json!({"class": "IOPRIO_CLASS_BE", "priority": 8}))).is_err());
        assert_eq!(id_list("0-2,65", 128, "x").unwrap(), vec![0b111, 0b10]);
        for bad in ["", "3-1", "1024", "a"] {
            assert!(id_list(bad, 1024, "x").is_err(), "{bad}");
        }
    }

    #[test]
    fn personality_and_mempolicy() {
        assert_eq!(personality(&from(json!({"domain": "LINUX32"}))).unwrap(), 8);
        assert!(personality(&from(json!({"domain": "LINUX", "flags": ["X"]}))).is_err());
        let m = mempolicy(&from(json!({"mode": "MPOL_BIND", "nodes": "0", "flags": ["MPOL_F_STATIC_NODES"]})));
        assert_eq!(m.unwrap(), MemPolicy { mode: 2 | 1 << 15, nodes: vec![1] });
        assert!(mempolicy(&from(json!({"mode": "MPOL_BIND"}))).is_err());
        assert!(mempolicy(&from(json!({"mode": "MPOL_LOCAL", "nodes": "0"}))).is_err());
    }
}
