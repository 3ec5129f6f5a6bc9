//! Table tests: `linux.resources` JSON -> cgroup v2 writes, including the v1-to-v2 conversions.

use super::*;
use crate::cgroups::Write;

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

fn ctrls() -> Vec<String> {
    ["cpuset", "cpu", "io", "memory", "hugetlb", "pids", "rdma", "misc"].map(String::from).to_vec()
}

fn show(w: &Write) -> String {
    assert_eq!(w.key, "");
    let mut s = format!("{}={}", w.file, w.value);
    if let Some((f, v)) = &w.prefer {
        s += &format!(" (or {f}={v})");
    }
    match w.mode {
        WriteMode::Required => {}
        WriteMode::IfExists => s += " if-exists",
        WriteMode::RetryOnEinval => s += " retry",
    }
    s
}

fn table(json: &str) -> Vec<String> {
    writes(&res(json), &ctrls(), false).unwrap().iter().map(show).collect()
}

fn error(json: &str) -> String {
    writes(&res(json), &ctrls(), true).unwrap_err().to_string()
}

#[test]
fn conversions_match_runc() {
    assert_eq!(shares_to_weight(0), 0);
    assert_eq!(shares_to_weight(2), 1);
    assert_eq!(shares_to_weight(1024), 39);
    assert_eq!(shares_to_weight(262144), 10000);
    assert_eq!(blkio_to_io_weight(0), 0);
    assert_eq!(blkio_to_io_weight(10), 1);
    assert_eq!(blkio_to_io_weight(500), 4950);
    assert_eq!(blkio_to_io_weight(1000), 10000);
    assert_eq!(swap_max(0, -1).unwrap(), -1);
    assert_eq!(swap_max(-1, 100).unwrap(), -1);
    assert_eq!(swap_max(0, 100).unwrap(), 0);
    assert_eq!(swap_max(300, 100).unwrap(), 200);
    assert_eq!(swap_max(100, 100).unwrap(), 0);
    assert!(swap_max(50, 100).is_err());
    assert!(swap_max(50, 0).is_err());
}

#[test]
fn memory_table() {
    let cases: &[(&str, &[&str])] = &[
        (r#"{"memory":{"limit":1000}}"#, &["memory.max=1000"]),
        (r#"{"memory":{"limit":1000,"swap":3000}}"#, &["memory.swap.max=2000", "memory.max=1000"]),
        (r#"{"memory":{"limit":1000,"swap":1000}}"#, &["memory.swap.max=0 if-exists", "memory.max=1000"]),
        (r#"{"memory":{"limit":-1}}"#, &["memory.swap.max=max if-exists", "memory.max=max"]),
        (
            r#"{"memory":{"limit":1000,"swap":-1,"reservation":500}}"#,
            &["memory.swap.max=max if-exists", "memory.max=1000", "memory.low=500"],
        ),
        (r#"{"memory":{"useHierarchy":true,"disableOOMKiller":false}}"#, &[]),
    ];
    for (json, want) in cases {
        assert_eq!(table(json), *want, "{json}");
    }
}

#[test]
fn memory_refusals() {
    assert_eq!(error(r#"{"memory":{"swap":100}}"#), "invalid config: unable to set swap limit without memory limit");
    assert_eq!(
        error(r#"{"memory":{"limit":200,"swap":100}}"#),
        "invalid config: memory+swap limit should be >= memory limit"
    );
    assert_eq!(
        error(r#"{"memory":{"swappiness":10}}"#),
        "not supported: linux.resources.memory.swappiness on cgroup v2"
    );
    assert_eq!(error(r#"{"memory":{"kernel":10}}"#), "not supported: linux.resources.memory.kernel on cgroup v2");
    assert_eq!(
        error(r#"{"memory":{"disableOOMKiller":true}}"#),
        "not supported: linux.resources.memory.disableOOMKiller on cgroup v2"
    );
}

#[test]
fn cpu_table() {
    let cases: &[(&str, &[&str])] = &[
        (r#"{"cpu":{"shares":1024}}"#, &["cpu.weight=39"]),
        (r#"{"cpu":{"quota":50000,"period":100000}}"#, &["cpu.max=50000 100000"]),
        (r#"{"cpu":{"quota":-1}}"#, &["cpu.max=max"]),
        (r#"{"cpu":{"period":20000}}"#, &["cpu.max=max 20000"]),
        (r#"{"cpu":{"quota":30000}}"#, &["cpu.max=30000"]),
        (r#"{"cpu":{"burst":500,"quota":1000,"idle":0}}"#, &["cpu.idle=0", "cpu.max.burst=500 retry", "cpu.max=1000"]),
        (r#"{"cpu":{"cpus":"1","mems":"0"}}"#, &["cpuset.cpus=1", "cpuset.mems=0"]),
    ];
    for (json, want) in cases {
        assert_eq!(table(json), *want, "{json}");
    }
    assert_eq!(
        error(r#"{"cpu":{"realtimeRuntime":100}}"#),
        "not supported: linux.resources.cpu realtime scheduling on cgroup v2"
    );
}

#[test]
fn io_pids_hugetlb_rdma_unified_table() {
    let cases: &[(&str, &[&str])] = &[
        (r#"{"pids":{"limit":10}}"#, &["pids.max=10"]),
        (r#"{"pids":{"limit":-1}}"#, &["pids.max=max"]),
        (
            r#"{"blockIO":{"weight":500,"weightDevice":[{"major":8,"minor":0,"weight":100}],
                "throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}],"throttleWriteBpsDevice":[{"major":8,"minor":0,"rate":2}],
                "throttleReadIOPSDevice":[{"major":8,"minor":0,"rate":3}],"throttleWriteIOPSDevice":[{"major":8,"minor":0,"rate":4}]}}"#,
            &[
                "io.weight=4950 (or io.bfq.weight=500)",
                "io.bfq.weight=8:0 100 if-exists",
                "io.max=8:0 rbps=1048576",
                "io.max=8:0 wbps=2",
                "io.max=8:0 riops=3",
                "io.max=8:0 wiops=4",
            ],
        ),
        (
            r#"{"hugepageLimits":[{"pageSize":"1GB","limit":0}]}"#,
            &["hugetlb.1GB.max=0", "hugetlb.1GB.rsvd.max=0 if-exists"],
        ),
        (r#"{"rdma":{"mlx5_0":{"hcaObjects":7}}}"#, &["rdma.max=mlx5_0 hca_handle=max hca_object=7"]),
        (
            r#"{"memory":{"limit":1000},"unified":{"memory.high":"900","cgroup.max.depth":"2","misc.max":"x 1"}}"#,
            &["memory.max=1000", "cgroup.max.depth=2", "memory.high=900", "misc.max=x 1"],
        ),
    ];
    for (json, want) in cases {
        assert_eq!(table(json), *want, "{json}");
    }
}

#[test]
fn v2_refusals_name_what_is_missing() {
    assert_eq!(error(r#"{"network":{"classID":1}}"#), "not supported: linux.resources.network on cgroup v2");
    assert_eq!(
        error(r#"{"blockIO":{"leafWeight":10}}"#),
        "not supported: linux.resources.blockIO leafWeight on cgroup v2"
    );
    assert_eq!(
        error(r#"{"unified":{"net_cls.classid":"1"}}"#),
        "not supported: unified resource \"net_cls.classid\" can't be set: controller \"net_cls\" not available"
    );
    assert_eq!(
        error(r#"{"unified":{"../memory.max":"1"}}"#),
        "invalid config: unified resource \"../memory.max\" must be a file name in the cgroup directory"
    );
    let only_mem = vec!["memory".to_owned()];
    let e = writes(&res(r#"{"pids":{"limit":3}}"#), &only_mem, false).unwrap_err().to_string();
    assert_eq!(e, "not supported: cgroup v2 controller pids (needed for pids.max) on this host");
    assert_eq!(
        error(r#"{"devices":[{"allow":true,"type":"c","major":1,"minor":3,"access":"rwm"}]}"#),
        "not supported: linux.resources.devices on cgroup v2"
    );
    assert!(writes(&res(r#"{"devices":[{"allow":false,"access":"rwm"}]}"#), &ctrls(), true).unwrap().is_empty());
}
