//! The resources -> unit properties split, table-tested against runc 1.1.5's choices.

use super::*;

fn res(json: &str) -> LinuxResources {
    serde_json::from_str(json).unwrap()
}

fn names(p: &[Property]) -> Vec<(&str, &Value)> {
    p.iter().map(|p| (p.name.as_str(), &p.value)).collect()
}

const PROC_DEVICES: &str = "Character devices:\n  1 mem\n  4 tty\n136 pts\n\nBlock devices:\n  8 sd\n";

#[test]
fn start_properties_place_and_delegate_the_scope() {
    let p = start_properties("c1", "machine.slice", true, 4242);
    let n = names(&p);
    assert_eq!(n[0], ("Description", &Value::Str("hull container c1".into())));
    assert!(n.contains(&("Slice", &Value::Str("machine.slice".into()))));
    assert!(n.contains(&("Delegate", &Value::Bool(true))));
    assert!(n.contains(&("PIDs", &Value::U32s(vec![4242]))));
    assert!(n.contains(&("DefaultDependencies", &Value::Bool(false))));
    for acct in ["MemoryAccounting", "CPUAccounting", "IOAccounting", "TasksAccounting"] {
        assert!(n.contains(&(acct, &Value::Bool(true))), "{acct}");
    }
    // A slice the caller asked for is wanted by its parent, not delegated.
    let s = start_properties("c1", "a.slice", false, 1);
    assert!(names(&s).contains(&("Wants", &Value::Strs(vec!["a.slice".into()]))));
    assert!(!s.iter().any(|p| p.name == "Delegate" || p.name == "Slice"));
}

#[test]
fn memory_cpu_pids_become_properties() {
    let r = res(r#"{"memory":{"limit":67108864,"reservation":1048576,"swap":134217728},
        "cpu":{"shares":1024,"quota":50000,"period":100000,"cpus":"0-1,3","mems":"0"},
        "pids":{"limit":20}}"#);
    let p = resource_properties(&r, PROC_DEVICES).unwrap();
    let n = names(&p);
    assert!(n.contains(&("MemoryMax", &Value::U64(67108864))));
    assert!(n.contains(&("MemoryLow", &Value::U64(1048576))));
    // v1's memory+swap total becomes v2's swap-only limit.
    assert!(n.contains(&("MemorySwapMax", &Value::U64(67108864))));
    // runc's shares -> weight mapping: 1024 -> 39.
    assert!(n.contains(&("CPUWeight", &Value::U64(39))));
    assert!(n.contains(&("CPUQuotaPerSecUSec", &Value::U64(500_000))));
    assert!(n.contains(&("TasksMax", &Value::U64(20))));
    assert!(n.contains(&("AllowedCPUs", &Value::Bytes(vec![0b1011]))));
    assert!(n.contains(&("AllowedMemoryNodes", &Value::Bytes(vec![1]))));
    let min = |name: &str| p.iter().find(|p| p.name == name).unwrap().min_version;
    assert_eq!((min("CPUQuotaPeriodUSec"), min("AllowedCPUs"), min("MemoryMax")), (242, 244, 0));
    // Nothing else: blkio, hugepages, network... are only written to the files.
    assert_eq!(p.len(), 9);
}

#[test]
fn quota_rounds_up_to_whole_percents_and_unlimited_is_infinity() {
    let q = |json: &str| {
        let p = resource_properties(&res(json), "").unwrap();
        p.iter().find(|p| p.name == "CPUQuotaPerSecUSec").map(|p| p.value.clone())
    };
    // 12345us per 100ms = 123450us/s, rounded up to 130000 (13 %).
    assert_eq!(q(r#"{"cpu":{"quota":12345,"period":100000}}"#), Some(Value::U64(130_000)));
    assert_eq!(q(r#"{"cpu":{"quota":20000}}"#), Some(Value::U64(200_000)), "default period");
    assert_eq!(q(r#"{"cpu":{"quota":-1,"period":100000}}"#), Some(Value::U64(u64::MAX)));
    assert_eq!(q(r#"{"cpu":{"shares":2}}"#), None);
}

#[test]
fn unlimited_values_and_what_stays_in_files() {
    let p = resource_properties(
        &res(r#"{"memory":{"limit":-1,"swap":-1},"pids":{"limit":-1},
        "blockIO":{"weight":500},"hugepageLimits":[{"pageSize":"2MB","limit":0}]}"#),
        "",
    )
    .unwrap();
    let n = names(&p);
    assert!(n.contains(&("MemoryMax", &Value::U64(u64::MAX))));
    assert!(n.contains(&("MemorySwapMax", &Value::U64(u64::MAX))));
    assert!(n.contains(&("TasksMax", &Value::U64(u64::MAX))));
    assert!(!n.iter().any(|(k, _)| k.starts_with("IO") || k.contains("Huge")), "{n:?}");
    // Swap without a memory limit is refused as with the files.
    assert!(resource_properties(&res(r#"{"memory":{"swap":100}}"#), "").is_err());
}

#[test]
fn unified_keys_systemd_knows() {
    let p = resource_properties(
        &res(r#"{"unified":{"memory.high":"max","memory.min":"4096",
        "cpu.max":"max 50000","pids.max":"7","io.weight":"100","cpuset.cpus":"2"}}"#),
        "",
    )
    .unwrap();
    let n = names(&p);
    assert!(n.contains(&("MemoryHigh", &Value::U64(u64::MAX))));
    assert!(n.contains(&("MemoryMin", &Value::U64(4096))));
    assert!(n.contains(&("CPUQuotaPeriodUSec", &Value::U64(50000))));
    assert!(n.contains(&("CPUQuotaPerSecUSec", &Value::U64(u64::MAX))));
    assert!(n.contains(&("TasksMax", &Value::U64(7))));
    assert!(n.contains(&("AllowedCPUs", &Value::Bytes(vec![4]))));
    assert_eq!(p.len(), 6, "io.weight only goes to the file: {n:?}");
    assert!(resource_properties(&res(r#"{"unified":{"memory.max":"lots"}}"#), "").is_err());
}

#[test]
fn device_rules_become_a_strict_allow_list() {
    let p = resource_properties(
        &res(r#"{"devices":[{"allow":false,"access":"rwm"},{"allow":true,"type":"b","major":8,"minor":0,"access":"r"}]}"#),
        PROC_DEVICES,
    )
    .unwrap();
    assert_eq!(p[0].name, "DevicePolicy");
    assert_eq!(p[0].value, Value::Str("strict".into()));
    assert_eq!((p[1].name.as_str(), &p[1].value), ("DeviceAllow", &Value::Pairs(vec![])), "reset first");
    let Value::Pairs(allow) = &p[2].value else { panic!("{:?}", p[2]) };
    let has = |path: &str, acc: &str| allow.contains(&(path.to_owned(), acc.to_owned()));
    assert!(has("/dev/block/8:0", "r"));
    assert!(has("/dev/char/1:3", "rwm"), "default rules are included: {allow:?}");
    assert!(has("char-pts", "rwm"), "a whole major by its /proc/devices name: {allow:?}");
    assert!(has("char-*", "m") && has("block-*", "m"));
}

#[test]
fn allow_all_devices_is_policy_auto() {
    let p = resource_properties(&res(r#"{"devices":[{"allow":true,"access":"rwm"}]}"#), "").unwrap();
    assert_eq!(names(&p), [("DevicePolicy", &Value::Str("auto".into())), ("DeviceAllow", &Value::Pairs(vec![]))]);
    // A deny-list systemd cannot express: strict and empty (the eBPF program has the rules).
    let p = resource_properties(
        &res(r#"{"devices":[{"allow":true,"access":"rwm"},{"allow":false,"type":"c","major":4,"minor":1,"access":"rwm"}]}"#),
        "",
    )
    .unwrap();
    assert_eq!(names(&p), [("DevicePolicy", &Value::Str("strict".into())), ("DeviceAllow", &Value::Pairs(vec![]))]);
}

#[test]
fn range_to_bits_is_little_endian_per_byte() {
    assert_eq!(range_to_bits("0").unwrap(), vec![1]);
    assert_eq!(range_to_bits("8-9").unwrap(), vec![0, 3]);
    assert_eq!(range_to_bits(" 1 , 3-4 ").unwrap(), vec![0b11010]);
    for bad in ["", "a", "3-1", "1-", "99999"] {
        assert!(range_to_bits(bad).is_err(), "{bad}");
    }
}

#[test]
fn annotations_become_properties_with_sec_in_microseconds() {
    let a: BTreeMap<String, String> = [
        ("org.systemd.property.TimeoutStopSec", "uint64 123"),
        ("org.systemd.property.CollectMode", "'inactive-or-failed'"),
        ("org.systemd.property.RuntimeMaxSec", "1.5"),
        ("other.annotation", "x"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let p = annotation_properties(&a).unwrap();
    assert_eq!(
        names(&p),
        [
            ("CollectMode", &Value::Str("inactive-or-failed".into())),
            ("RuntimeMaxUSec", &Value::U64(1_500_000)),
            ("TimeoutStopUSec", &Value::U64(123_000_000)),
        ]
    );
    for (k, v) in
        [("org.systemd.property.Bad-Name", "1"), ("org.systemd.property.Xy", "1"), ("org.systemd.property.Abc", "nope")]
    {
        let one: BTreeMap<String, String> = [(k.to_owned(), v.to_owned())].into();
        let e = annotation_properties(&one).unwrap_err().to_string();
        assert!(e.starts_with("invalid config: annotation"), "{k}: {e}");
    }
    let sec: BTreeMap<String, String> = [("org.systemd.property.TimeoutStopSec".into(), "'x'".into())].into();
    assert!(annotation_properties(&sec).is_err(), "a ...Sec property needs a number");
}
