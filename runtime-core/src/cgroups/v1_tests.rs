//! Table tests: `linux.resources` JSON -> cgroup v1 writes.

use super::*;
use crate::cgroups::Write;

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

fn all_keys() -> Vec<String> {
    ["cpuset", "devices", "memory", "cpu", "cpuacct", "pids", "blkio", "hugetlb", "net_cls", "net_prio", "rdma"]
        .map(String::from)
        .to_vec()
}

/// Writes without the device rules, as `controller file=value` strings.
fn table(json: &str) -> Vec<String> {
    let w = writes(&res(json), &all_keys(), false).unwrap();
    w.iter().map(show).collect()
}

fn show(w: &Write) -> String {
    let mut s = format!("{} {}={}", w.key, w.file, w.value);
    if let Some((f, v)) = &w.prefer {
        s += &format!(" (or {f}={v})");
    }
    match w.mode {
        WriteMode::Required => {}
        WriteMode::IfExists => s += " if-exists",
        WriteMode::RetryOnEinval => s += " retry",
        WriteMode::Verify => s += " verify",
    }
    s
}

#[test]
fn memory_table() {
    let cases: &[(&str, &[&str])] = &[
        (r#"{"memory":{"limit":104857600}}"#, &["memory memory.limit_in_bytes=104857600 retry"]),
        (
            r#"{"memory":{"limit":100,"swap":200}}"#,
            &["memory memory.limit_in_bytes=100 retry", "memory memory.memsw.limit_in_bytes=200 retry"],
        ),
        (
            r#"{"memory":{"limit":-1}}"#,
            &["memory memory.limit_in_bytes=-1 retry", "memory memory.memsw.limit_in_bytes=-1 if-exists"],
        ),
        (r#"{"memory":{"limit":0,"reservation":0}}"#, &[]),
        (
            r#"{"memory":{"reservation":50,"kernel":10,"kernelTCP":20,"disableOOMKiller":true,"swappiness":60,"useHierarchy":true}}"#,
            &[
                "memory memory.soft_limit_in_bytes=50",
                "memory memory.kmem.limit_in_bytes=10 if-exists",
                "memory memory.kmem.tcp.limit_in_bytes=20",
                "memory memory.oom_control=1",
                "memory memory.swappiness=60",
                "memory memory.use_hierarchy=1 if-exists",
            ],
        ),
        (r#"{"memory":{"disableOOMKiller":false}}"#, &[]),
    ];
    for (json, want) in cases {
        assert_eq!(table(json), *want, "{json}");
    }
}

#[test]
fn swappiness_over_100_is_refused() {
    let e = writes(&res(r#"{"memory":{"swappiness":101}}"#), &all_keys(), false).unwrap_err();
    assert_eq!(e.to_string(), "invalid config: invalid memory swappiness value: 101 (valid range is 0-100)");
}

#[test]
fn cpu_table() {
    let cases: &[(&str, &[&str])] = &[
        (r#"{"cpu":{"shares":1024}}"#, &["cpu cpu.shares=1024 verify"]),
        (r#"{"cpu":{"shares":0,"quota":0,"period":0}}"#, &[]),
        (
            r#"{"cpu":{"quota":50000,"period":100000}}"#,
            &["cpu cpu.cfs_period_us=100000 retry", "cpu cpu.cfs_quota_us=50000"],
        ),
        (r#"{"cpu":{"quota":-1}}"#, &["cpu cpu.cfs_quota_us=-1"]),
        (r#"{"cpu":{"period":20000}}"#, &["cpu cpu.cfs_period_us=20000"]),
        (
            r#"{"cpu":{"realtimeRuntime":950000,"realtimePeriod":1000000,"burst":1000,"idle":1}}"#,
            &[
                "cpu cpu.rt_period_us=1000000",
                "cpu cpu.rt_runtime_us=950000",
                "cpu cpu.cfs_burst_us=1000",
                "cpu cpu.idle=1",
            ],
        ),
        (
            r#"{"cpu":{"cpus":"0-1","mems":"0","shares":2}}"#,
            &["cpuset cpuset.cpus=0-1", "cpuset cpuset.mems=0", "cpu cpu.shares=2 verify"],
        ),
        (r#"{"cpu":{"cpus":""}}"#, &[]),
    ];
    for (json, want) in cases {
        assert_eq!(table(json), *want, "{json}");
    }
}

#[test]
fn pids_blkio_hugetlb_network_rdma_table() {
    let cases: &[(&str, &[&str])] = &[
        (r#"{"pids":{"limit":32}}"#, &["pids pids.max=32"]),
        (r#"{"pids":{"limit":-1}}"#, &["pids pids.max=max"]),
        (r#"{"pids":{"limit":0}}"#, &[]),
        (
            r#"{"blockIO":{"weight":500,"leafWeight":300,"weightDevice":[{"major":8,"minor":0,"weight":100,"leafWeight":50}],
                "throttleReadBpsDevice":[{"major":8,"minor":0,"rate":1048576}],"throttleWriteBpsDevice":[{"major":8,"minor":16,"rate":2}],
                "throttleReadIOPSDevice":[{"major":8,"minor":0,"rate":3}],"throttleWriteIOPSDevice":[{"major":8,"minor":0,"rate":4}]}}"#,
            &[
                "blkio blkio.weight=500 (or blkio.bfq.weight=500)",
                "blkio blkio.leaf_weight=300",
                "blkio blkio.weight_device=8:0 100 (or blkio.bfq.weight_device=8:0 100)",
                "blkio blkio.leaf_weight_device=8:0 50",
                "blkio blkio.throttle.read_bps_device=8:0 1048576",
                "blkio blkio.throttle.write_bps_device=8:16 2",
                "blkio blkio.throttle.read_iops_device=8:0 3",
                "blkio blkio.throttle.write_iops_device=8:0 4",
            ],
        ),
        (
            r#"{"hugepageLimits":[{"pageSize":"2MB","limit":4194304}]}"#,
            &[
                "hugetlb hugetlb.2MB.limit_in_bytes=4194304",
                "hugetlb hugetlb.2MB.rsvd.limit_in_bytes=4194304 if-exists",
            ],
        ),
        (
            r#"{"network":{"classID":1048577,"priorities":[{"name":"eth0","priority":5},{"name":"lo","priority":1}]}}"#,
            &[
                "net_cls net_cls.classid=1048577",
                "net_prio net_prio.ifpriomap=eth0 5",
                "net_prio net_prio.ifpriomap=lo 1",
            ],
        ),
        (
            r#"{"rdma":{"mlx5_1":{"hcaHandles":3},"mlx4_0":{"hcaHandles":2,"hcaObjects":100},"none":{}}}"#,
            &["rdma rdma.max=mlx4_0 hca_handle=2 hca_object=100", "rdma rdma.max=mlx5_1 hca_handle=3"],
        ),
    ];
    for (json, want) in cases {
        assert_eq!(table(json), *want, "{json}");
    }
}

#[test]
fn create_always_writes_device_rules_first_after_cpuset() {
    let w = writes(&res(r#"{"cpu":{"cpus":"0","shares":10}}"#), &all_keys(), true).unwrap();
    assert_eq!(show(&w[0]), "cpuset cpuset.cpus=0");
    assert_eq!(show(&w[1]), "devices devices.deny=a *:* rwm");
    assert_eq!(show(&w[2]), "devices devices.allow=c *:* m");
    assert_eq!(show(w.last().unwrap()), "cpu cpu.shares=10 verify");
    let none = writes(&LinuxResources::default(), &all_keys(), true).unwrap();
    assert_eq!(none.len(), 1 + devices::default_rules().len());
}

#[test]
fn missing_controller_unified_and_bad_page_size_are_refused() {
    let keys = vec!["devices".to_owned(), "memory".to_owned()];
    let e = writes(&res(r#"{"hugepageLimits":[{"pageSize":"2MB","limit":1}]}"#), &keys, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "not supported: linux.resources.hugepageLimits: no hugetlb cgroup controller on this host"
    );
    let e = writes(&res(r#"{"network":{"classID":1}}"#), &keys, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "not supported: linux.resources.network.classID: no net_cls cgroup controller on this host"
    );
    let e = writes(&res(r#"{"unified":{"memory.high":"1"}}"#), &all_keys(), false).unwrap_err();
    assert_eq!(e.to_string(), "not supported: linux.resources.unified on cgroup v1");
    let e = writes(&res(r#"{"hugepageLimits":[{"pageSize":"../x","limit":1}]}"#), &all_keys(), false).unwrap_err();
    assert_eq!(e.to_string(), "invalid config: invalid hugepage size \"../x\"");
    assert!(writes(&res(r#"{"unified":{}}"#), &keys, false).is_ok());
}

#[test]
fn outside_reads_proc_cgroup_per_controller() {
    let text =
        "12:devices:/machine.slice/m.slice\n5:cpu,cpuacct:/machine.slice/m.slice/x.scope\n1:name=systemd:/\n0::/a\n";
    let dir = |c: &str| std::path::PathBuf::from(format!("/sys/fs/cgroup/{c}/machine.slice/m.slice/x.scope"));
    assert_eq!(outside(text, "cpu", &dir("cpu,cpuacct")), None);
    assert_eq!(outside(text, "cpuacct", &dir("cpu,cpuacct")), None);
    assert_eq!(outside(text, "devices", &dir("devices")).as_deref(), Some("/machine.slice/m.slice"));
    assert_eq!(outside(text, "name=systemd", &dir("systemd")).as_deref(), Some("/"));
    assert_eq!(outside(text, "freezer", &dir("freezer")), None, "a hierarchy not listed");
}
