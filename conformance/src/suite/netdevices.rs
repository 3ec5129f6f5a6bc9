//! config-linux.md netDevices: a host interface moves into the container's network namespace under
//! its new name, keeping its address and up state; bad entries are refused and leave nothing.

use std::process::Command;

use crate::{requires, Case};
use serde_json::json;

/// A veth pair on the host, removed on drop if it still exists.
struct Veth(String, String);

impl Veth {
    fn new(tag: &str) -> Veth {
        let n = std::process::id() % 100_000;
        let (a, b) = (format!("hv{tag}{n}a"), format!("hv{tag}{n}b"));
        let ip = |args: &[&str]| assert!(Command::new("ip").args(args).status().unwrap().success(), "ip {args:?}");
        ip(&["link", "add", &a, "type", "veth", "peer", "name", &b]);
        ip(&["addr", "add", "10.231.7.2/24", "dev", &a]);
        ip(&["link", "set", &a, "up"]);
        Veth(a, b)
    }

    fn on_host(name: &str) -> bool {
        Command::new("ip").args(["link", "show", name]).output().unwrap().status.success()
    }
}

impl Drop for Veth {
    fn drop(&mut self) {
        for n in [&self.0, &self.1] {
            let _ = Command::new("ip").args(["link", "del", n]).output();
        }
    }
}

pub fn host_interface_moves_in_with_its_address() {
    requires!(root, runtime);
    let veth = Veth::new("m");
    let c = Case::new();
    let host = veth.0.clone();
    c.build(c.bundle().args(&["/bin/sh", "-c", "ip -o addr show ctr0; ip -o link show ctr0"]).with(|s| {
        s["linux"]["netDevices"] = json!({ host: {"name": "ctr0"} });
    }));
    let out = c.run(&[]).ok();
    assert!(out.stdout.contains("inet 10.231.7.2/24"), "address not carried over: {out}");
    assert!(out.stdout.contains(",UP") || out.stdout.contains("<UP"), "link not up: {out}");
    assert!(!Veth::on_host(&veth.0), "the interface is still on the host");
    c.assert_clean();
}

pub fn delete_moves_the_interface_back_under_its_host_name() {
    requires!(root, runtime);
    let veth = Veth::new("b");
    let c = Case::new();
    let host = veth.0.clone();
    c.build(c.bundle().args(&["/probe", "sleep", "30"]).with(|s| {
        s["linux"]["netDevices"] = json!({ host: {"name": "ctr1"} });
    }));
    c.create(&[]).ok();
    assert!(!Veth::on_host(&veth.0), "the interface is still on the host after create");
    c.delete(true).ok();
    assert!(Veth::on_host(&veth.0), "delete did not move {} back", veth.0);
    c.assert_clean();
}

pub fn bad_net_devices_are_refused() {
    requires!(root, runtime);
    let cases = [
        ("No such device", json!({"hvnosuchdev0": {"name": "x0"}}), true),
        ("invalid interface name", json!({"lo": {"name": "a/b"}}), true),
        ("needs a new network namespace", json!({"lo": {}}), false),
    ];
    for (want, devices, netns) in cases {
        let c = Case::new();
        c.build(c.bundle().with(|s| {
            s["linux"]["netDevices"] = devices;
            if !netns {
                s["linux"]["namespaces"].as_array_mut().unwrap().retain(|n| n["type"] != "network");
            }
        }));
        let out = c.create(&[]);
        assert!(!out.success(), "{want}: accepted");
        // runc's (Go's) errno texts are lower case.
        assert!(out.stderr.to_lowercase().contains(&want.to_lowercase()), "{want}: {out}");
        assert_eq!(out.error_lines().len(), 1, "{out}");
        c.assert_clean();
    }
}

/// This area's tests and the spec sections they check.
pub const TESTS: &[crate::suite::Test] = &[
    entry!(host_interface_moves_in_with_its_address, "config-linux.md#network-devices"),
    entry!(delete_moves_the_interface_back_under_its_host_name, "config-linux.md#network-devices"),
    entry!(bad_net_devices_are_refused, "config-linux.md#network-devices"),
];
