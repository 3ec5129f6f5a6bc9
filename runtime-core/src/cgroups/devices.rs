//! Device access rules: the configured `linux.resources.devices` followed by runc's default
//! allow-list, as v1 `devices.allow`/`devices.deny` writes; on v2 only the default policy is
//! accepted until an eBPF device program exists.

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::{invalid, not_supported, Write};

/// One cgroup device rule in the kernel's v1 syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub(crate) allow: bool,
    /// `a`, `b` or `c`.
    pub(crate) kind: char,
    /// None is the wildcard `*`.
    pub(crate) major: Option<i64>,
    pub(crate) minor: Option<i64>,
    pub(crate) access: String,
}

impl Rule {
    fn allow(kind: char, major: Option<i64>, minor: Option<i64>, access: &str) -> Rule {
        Rule { allow: true, kind, major, minor, access: access.into() }
    }

    /// `c 1:3 rwm`, the line written to devices.allow or devices.deny.
    pub(crate) fn line(&self) -> String {
        let num = |n: Option<i64>| n.map_or("*".to_owned(), |n| n.to_string());
        format!("{} {}:{} {}", self.kind, num(self.major), num(self.minor), self.access)
    }
}

/// runc's default rules, appended after the configured ones: mknod of anything, the standard
/// character devices, ptys, and /dev/net/tun.
pub(crate) fn default_rules() -> Vec<Rule> {
    vec![
        Rule::allow('c', None, None, "m"),
        Rule::allow('b', None, None, "m"),
        Rule::allow('c', Some(1), Some(3), "rwm"),
        Rule::allow('c', Some(1), Some(8), "rwm"),
        Rule::allow('c', Some(1), Some(7), "rwm"),
        Rule::allow('c', Some(5), Some(0), "rwm"),
        Rule::allow('c', Some(1), Some(5), "rwm"),
        Rule::allow('c', Some(1), Some(9), "rwm"),
        Rule::allow('c', Some(136), None, "rwm"),
        Rule::allow('c', Some(5), Some(2), "rwm"),
        Rule::allow('c', Some(10), Some(200), "rwm"),
    ]
}

/// Converts and validates the configured rules (runc's checks and wording).
pub(crate) fn configured_rules(devices: &[LinuxDeviceCgroup]) -> crate::Result<Vec<Rule>> {
    devices
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let access = d.access().clone().unwrap_or_default();
            if access.is_empty() {
                return Err(invalid(format!("device access at {i} field cannot be empty")));
            }
            if access.chars().any(|c| !"rwm".contains(c)) {
                return Err(invalid(format!("linux.resources.devices[{i}]: invalid access {access:?}")));
            }
            let kind = match d.typ().unwrap_or(LinuxDeviceType::A) {
                LinuxDeviceType::A => 'a',
                LinuxDeviceType::B => 'b',
                LinuxDeviceType::C => 'c',
                other => return Err(invalid(format!("invalid cgroup device type {:?}", other.as_str()))),
            };
            // -1 is runc's spelling of the wildcard.
            let wild = |n: Option<i64>| n.filter(|n| *n >= 0);
            Ok(Rule { allow: d.allow(), kind, major: wild(d.major()), minor: wild(d.minor()), access })
        })
        .collect()
}

/// The v1 writes: each rule, in order, to devices.allow or devices.deny.
pub(crate) fn v1_writes(devices: &[LinuxDeviceCgroup]) -> crate::Result<Vec<Write>> {
    let mut rules = configured_rules(devices)?;
    rules.extend(default_rules());
    Ok(rules
        .iter()
        .map(|r| Write::new("devices", if r.allow { "devices.allow" } else { "devices.deny" }, r.line()))
        .collect())
}

/// On v2 device access needs an eBPF program, which hull does not build yet: the configured
/// rules must be empty or runc's usual deny-all, which with the default allow-list is the
/// policy containers get anyway from their minimal /dev.
pub(crate) fn v2_check(devices: &[LinuxDeviceCgroup]) -> crate::Result<()> {
    let rules = configured_rules(devices)?;
    let deny_all = Rule { allow: false, kind: 'a', major: None, minor: None, access: "rwm".into() };
    let default_policy = rules.iter().all(|r| *r == deny_all);
    if default_policy {
        Ok(())
    } else {
        Err(not_supported("linux.resources.devices on cgroup v2"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::LinuxDeviceCgroupBuilder;

    fn rule(
        allow: bool,
        t: LinuxDeviceType,
        major: Option<i64>,
        minor: Option<i64>,
        access: &str,
    ) -> LinuxDeviceCgroup {
        let mut b = LinuxDeviceCgroupBuilder::default().allow(allow).typ(t).access(access);
        if let Some(m) = major {
            b = b.major(m);
        }
        if let Some(m) = minor {
            b = b.minor(m);
        }
        b.build().unwrap()
    }

    #[test]
    fn v1_rules_then_defaults_in_order() {
        let cfg = [
            rule(false, LinuxDeviceType::A, None, None, "rwm"),
            rule(true, LinuxDeviceType::C, Some(10), Some(-1), "rw"),
            rule(false, LinuxDeviceType::B, Some(8), Some(0), "r"),
        ];
        let w = v1_writes(&cfg).unwrap();
        let lines: Vec<_> = w.iter().map(|w| format!("{} {}", w.file, w.value)).collect();
        assert_eq!(
            lines[..4],
            ["devices.deny a *:* rwm", "devices.allow c 10:* rw", "devices.deny b 8:0 r", "devices.allow c *:* m"]
        );
        assert_eq!(lines.len(), 3 + default_rules().len());
        assert_eq!(lines.last().unwrap(), "devices.allow c 10:200 rwm");
        assert!(w.iter().all(|w| w.key == "devices"));
    }

    #[test]
    fn bad_rules_are_refused_with_runc_wording() {
        let mut empty = rule(true, LinuxDeviceType::C, None, None, "r");
        empty.set_access(None);
        assert_eq!(
            v1_writes(&[empty]).unwrap_err().to_string(),
            "invalid config: device access at 0 field cannot be empty"
        );
        let e = v1_writes(&[rule(true, LinuxDeviceType::C, None, None, "rx")]).unwrap_err();
        assert_eq!(e.to_string(), "invalid config: linux.resources.devices[0]: invalid access \"rx\"");
        let e = v1_writes(&[rule(true, LinuxDeviceType::P, None, None, "r")]).unwrap_err();
        assert_eq!(e.to_string(), "invalid config: invalid cgroup device type \"p\"");
    }

    #[test]
    fn v2_accepts_only_the_default_policy() {
        assert!(v2_check(&[]).is_ok());
        assert!(v2_check(&[rule(false, LinuxDeviceType::A, None, None, "rwm")]).is_ok());
        let e = v2_check(&[rule(true, LinuxDeviceType::C, Some(1), Some(3), "rwm")]).unwrap_err();
        assert_eq!(e.to_string(), "not supported: linux.resources.devices on cgroup v2");
    }
}
