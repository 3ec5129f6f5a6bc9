//! The unit properties of a container's scope on a cgroup v1 (hybrid) host under systemd, as
//! runc 1.1.5's legacy systemd manager sets them: systemd's v1 names for the limits it applies
//! to the hierarchies it manages (memory, cpu, blkio, pids, devices), `BlockIOAccounting` in
//! place of `IOAccounting`. Everything else (swap, reservation, cpuset, hugetlb, net_cls,
//! net_prio, rdma, freezer) only reaches the files, written by the files driver into the
//! directories it makes beside systemd's. Pure.

use oci_spec::runtime::LinuxResources;

use super::props::{cpu_quota, cpuset, device_properties, prop, start_properties as v2_start, Property, Value};
use crate::cgroups::not_supported;

/// The properties the scope starts with: as on v2, but the I/O accounting of v1 is blkio's.
pub(crate) fn start_properties(id: &str, slice: &str, is_scope: bool, pid: i32) -> Vec<Property> {
    let mut out = v2_start(id, slice, is_scope, pid);
    for p in &mut out {
        if p.name == "IOAccounting" {
            p.name = "BlockIOAccounting".into();
        }
    }
    out
}

/// The resources systemd has a v1 property for (runc's table for cgroup v1). `proc_devices` is
/// the text of /proc/devices, as for v2.
pub(crate) fn resource_properties(r: &LinuxResources, proc_devices: &str) -> crate::Result<Vec<Property>> {
    if r.unified().as_ref().is_some_and(|u| !u.is_empty()) {
        return Err(not_supported("linux.resources.unified on cgroup v1"));
    }
    let mut out = match r.devices() {
        Some(d) => device_properties(d, proc_devices)?,
        None => Vec::new(),
    };
    if let Some(limit) = r.memory().as_ref().and_then(|m| m.limit()).filter(|l| *l != 0) {
        // -1 (unlimited) is systemd's infinity as the same 64 bits.
        out.push(prop("MemoryLimit", Value::U64(limit as u64)));
    }
    if let Some(c) = r.cpu() {
        if let Some(s) = c.shares().filter(|s| *s != 0) {
            out.push(prop("CPUShares", Value::U64(s)));
        }
        cpu_quota(&mut out, c.quota().unwrap_or(0), c.period().unwrap_or(0));
    }
    if let Some(w) = r.block_io().as_ref().and_then(|b| b.weight()).filter(|w| *w != 0) {
        out.push(prop("BlockIOWeight", Value::U64(w.into())));
    }
    if let Some(p) = r.pids() {
        if p.limit() > 0 || p.limit() == -1 {
            out.push(prop("TasksMax", Value::U64(p.limit() as u64)));
        }
    }
    if let Some(c) = r.cpu() {
        // systemd has no v1 cpuset support and ignores these; runc sends them all the same, and
        // the files driver writes cpuset.cpus/mems.
        cpuset(&mut out, c.cpus().as_deref().unwrap_or(""), c.mems().as_deref().unwrap_or(""))?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(json: &str) -> LinuxResources {
        serde_json::from_str(json).unwrap()
    }

    fn names(p: &[Property]) -> Vec<(&str, &Value)> {
        p.iter().map(|p| (p.name.as_str(), &p.value)).collect()
    }

    #[test]
    fn start_properties_account_blkio_not_io() {
        let n: Vec<String> = start_properties("c1", "system.slice", true, 7).into_iter().map(|p| p.name).collect();
        for want in ["Slice", "Delegate", "PIDs", "MemoryAccounting", "CPUAccounting", "BlockIOAccounting"] {
            assert!(n.iter().any(|x| x == want), "{want}: {n:?}");
        }
        assert!(!n.iter().any(|x| x == "IOAccounting"), "{n:?}");
    }

    #[test]
    fn v1_names_for_memory_cpu_blkio_pids() {
        let r = res(r#"{"memory":{"limit":67108864,"reservation":1048576,"swap":134217728},
            "cpu":{"shares":512,"quota":50000,"period":100000,"cpus":"0-1","mems":"0"},
            "blockIO":{"weight":300,"leafWeight":10},"pids":{"limit":20}}"#);
        let p = resource_properties(&r, "").unwrap();
        assert_eq!(
            names(&p),
            [
                ("MemoryLimit", &Value::U64(67108864)),
                ("CPUShares", &Value::U64(512)),
                ("CPUQuotaPeriodUSec", &Value::U64(100000)),
                ("CPUQuotaPerSecUSec", &Value::U64(500_000)),
                ("BlockIOWeight", &Value::U64(300)),
                ("TasksMax", &Value::U64(20)),
                ("AllowedCPUs", &Value::Bytes(vec![0b11])),
                ("AllowedMemoryNodes", &Value::Bytes(vec![1])),
            ]
        );
        // None of v2's names: the reservation and swap only go to the files.
        assert!(!p.iter().any(|p| p.name.starts_with("MemoryMax") || p.name.contains("Swap") || p.name == "CPUWeight"));
    }

    #[test]
    fn unlimited_and_unset_values() {
        let p =
            resource_properties(&res(r#"{"memory":{"limit":-1},"pids":{"limit":-1},"cpu":{"quota":-1}}"#), "").unwrap();
        assert_eq!(
            names(&p),
            [
                ("MemoryLimit", &Value::U64(u64::MAX)),
                ("CPUQuotaPerSecUSec", &Value::U64(u64::MAX)),
                ("TasksMax", &Value::U64(u64::MAX))
            ]
        );
        let none = resource_properties(&res(r#"{"memory":{"limit":0},"cpu":{"shares":0},"pids":{"limit":0}}"#), "");
        assert_eq!(none.unwrap(), []);
    }

    #[test]
    fn device_rules_as_on_v2_and_unified_refused() {
        let p = resource_properties(&res(r#"{"devices":[{"allow":false,"access":"rwm"}]}"#), "").unwrap();
        assert_eq!((p[0].name.as_str(), &p[0].value), ("DevicePolicy", &Value::Str("strict".into())));
        assert!(p
            .iter()
            .any(|p| matches!(&p.value, Value::Pairs(a) if a.contains(&("/dev/char/1:3".into(), "rwm".into())))));
        let e = resource_properties(&res(r#"{"unified":{"memory.max":"1"}}"#), "").unwrap_err().to_string();
        assert_eq!(e, "not supported: linux.resources.unified on cgroup v1");
    }
}
