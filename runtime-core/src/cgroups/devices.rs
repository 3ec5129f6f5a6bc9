//! Device access rules: the configured `linux.resources.devices` followed by runc's default
//! allow-list, as v1 `devices.allow`/`devices.deny` writes, and reduced the way the v1 kernel
//! applies them (`DeviceState`, which `bpf` compiles for v2).

use oci_spec::runtime::{LinuxDeviceCgroup, LinuxDeviceType};

use super::{invalid, Write};

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
            // runc keeps the set of r, w and m named, in any order and number, and ignores any
            // other letter; the kernel reads at most three letters, so the set is written out.
            let access: String = "rwm".chars().filter(|c| access.contains(*c)).collect();
            if access.is_empty() {
                // runc accepts the config but then fails to set such a rule up.
                return Err(invalid(format!(
                    "linux.resources.devices[{i}]: invalid access {:?}",
                    d.access().as_deref().unwrap_or("")
                )));
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
///
/// Like runc, the container starts from deny-all even when its rules do not begin with it (a
/// new cgroup would otherwise inherit its parent's allow-all), so the first write resets.
/// Updates of a running container use [`v1_update_writes`] instead.
pub(crate) fn v1_writes(devices: &[LinuxDeviceCgroup]) -> crate::Result<Vec<Write>> {
    let mut rules = vec![Rule { allow: false, kind: 'a', major: None, minor: None, access: "rwm".into() }];
    rules.extend(configured_rules(devices)?);
    rules.extend(default_rules());
    Ok(rules
        .iter()
        .map(|r| Write::new("devices", if r.allow { "devices.allow" } else { "devices.deny" }, r.line()))
        .collect())
}

/// The v1 writes that move a running container from its current rules (the text of
/// `devices.list`) to the configured ones without the deny-all reset of [`v1_writes`], so that
/// the container never loses access to a device it keeps. The kernel lists no exceptions for
/// an allow-all cgroup, so from that state (or to it) the full sequence is written, as runc does.
pub(crate) fn v1_update_writes(current_list: &str, devices: &[LinuxDeviceCgroup]) -> crate::Result<Vec<Write>> {
    let target = DeviceState::from_rules(&[configured_rules(devices)?, default_rules()].concat());
    let current: Vec<Rule> = current_list.lines().filter_map(parse_list_line).collect();
    let allow_all = current.iter().any(|r| r.kind == 'a' && r.major.is_none() && r.minor.is_none());
    if allow_all || target.default_allow {
        return v1_writes(devices);
    }
    let write = |allow: bool, r: &Rule, bits: u32| {
        let rule = Rule { allow, access: access_string(bits), ..r.clone() };
        Write::new("devices", if allow { "devices.allow" } else { "devices.deny" }, rule.line())
    };
    let bits_in = |list: &[Rule], r: &Rule| {
        list.iter()
            .filter(|e| e.kind == r.kind && e.major == r.major && e.minor == r.minor)
            .map(|e| access_bits(&e.access))
            .fold(0, |a, b| a | b)
    };
    let mut out = Vec::new();
    for r in &target.exceptions {
        let missing = access_bits(&r.access) & !bits_in(&current, r);
        if missing != 0 {
            out.push(write(true, r, missing));
        }
    }
    for r in &current {
        let extra = access_bits(&r.access) & !bits_in(&target.exceptions, r);
        if extra != 0 {
            out.push(write(false, r, extra));
        }
    }
    Ok(out)
}

/// The v1 devices state after applying rules: a default and the exceptions to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DeviceState {
    pub(crate) default_allow: bool,
    pub(crate) exceptions: Vec<Rule>,
}

impl DeviceState {
    /// Applies rules in order with the v1 kernel's semantics: a rule for `a *:* rwm` resets the
    /// default; a rule of the default's kind removes access from a matching exception; any
    /// other rule adds (or widens) an exception.
    pub(crate) fn from_rules(rules: &[Rule]) -> DeviceState {
        // Like runc, every container starts from deny-all, whether or not its rules say so.
        let mut s = DeviceState { default_allow: false, exceptions: Vec::new() };
        for r in rules {
            let all = r.kind == 'a' && r.major.is_none() && r.minor.is_none() && access_bits(&r.access) == 7;
            if all {
                s = DeviceState { default_allow: r.allow, exceptions: Vec::new() };
            } else if r.allow == s.default_allow {
                s.remove(r);
            } else {
                s.add(r);
            }
        }
        s
    }

    fn same_device(a: &Rule, b: &Rule) -> bool {
        a.kind == b.kind && a.major == b.major && a.minor == b.minor
    }

    fn add(&mut self, r: &Rule) {
        match self.exceptions.iter_mut().find(|e| Self::same_device(e, r)) {
            Some(e) => e.access = access_string(access_bits(&e.access) | access_bits(&r.access)),
            None => self.exceptions.push(Rule { allow: !self.default_allow, ..r.clone() }),
        }
    }

    fn remove(&mut self, r: &Rule) {
        for e in self.exceptions.iter_mut().filter(|e| Self::same_device(e, r)) {
            e.access = access_string(access_bits(&e.access) & !access_bits(&r.access));
        }
        self.exceptions.retain(|e| !e.access.is_empty());
    }

    /// Whether access `acc` (bits) to a device is granted: the reference the program must match.
    #[cfg(test)]
    pub(crate) fn allows(&self, kind: char, major: i64, minor: i64, acc: u32) -> bool {
        let hit = self.exceptions.iter().any(|e| {
            let bits = access_bits(&e.access);
            // As the v1 kernel: allow exceptions must cover the request, deny ones only touch it.
            let access_matches = if e.allow { acc & !bits == 0 } else { acc & bits != 0 };
            (e.kind == 'a' || e.kind == kind)
                && e.major.is_none_or(|m| m == major)
                && e.minor.is_none_or(|m| m == minor)
                && access_matches
        });
        hit != self.default_allow
    }
}

/// BPF_DEVCG_ACC_MKNOD (1), READ (2), WRITE (4).
pub(crate) fn access_bits(access: &str) -> u32 {
    access
        .chars()
        .map(|c| match c {
            'm' => 1,
            'r' => 2,
            'w' => 4,
            _ => 0,
        })
        .fold(0, |a, b| a | b)
}

pub(crate) fn access_string(bits: u32) -> String {
    [(2, 'r'), (4, 'w'), (1, 'm')].iter().filter(|(b, _)| bits & b != 0).map(|(_, c)| *c).collect()
}

/// One line of v1 `devices.list`: `c 1:3 rwm`, `b *:* m`, `a *:* rwm`.
fn parse_list_line(line: &str) -> Option<Rule> {
    let mut f = line.split_whitespace();
    let kind = f.next()?.chars().next()?;
    let (major, minor) = f.next()?.split_once(':')?;
    let num = |s: &str| if s == "*" { Some(None) } else { s.parse().ok().map(Some) };
    Some(Rule { allow: true, kind, major: num(major)?, minor: num(minor)?, access: f.next()?.to_owned() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cgroups::bpf::v2_program;
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
            lines[..5],
            [
                "devices.deny a *:* rwm",
                "devices.deny a *:* rwm",
                "devices.allow c 10:* rw",
                "devices.deny b 8:0 r",
                "devices.allow c *:* m"
            ]
        );
        assert_eq!(lines.len(), 4 + default_rules().len());
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
        let e = v1_writes(&[rule(true, LinuxDeviceType::C, None, None, "xy")]).unwrap_err();
        assert_eq!(e.to_string(), "invalid config: linux.resources.devices[0]: invalid access \"xy\"");
        for (given, want) in [("rrrw", "rw"), ("mmmmr", "rm"), ("rx", "r"), ("wmr", "rwm")] {
            let w = v1_writes(&[rule(true, LinuxDeviceType::C, Some(10), Some(229), given)]).unwrap();
            assert_eq!(w[1].value, format!("c 10:229 {want}"), "{given}");
        }
        let e = v1_writes(&[rule(true, LinuxDeviceType::P, None, None, "r")]).unwrap_err();
        assert_eq!(e.to_string(), "invalid config: invalid cgroup device type \"p\"");
    }

    #[test]
    fn v2_program_has_one_block_per_exception() {
        let deny_all = rule(false, LinuxDeviceType::A, None, None, "rwm");
        let prog = v2_program(std::slice::from_ref(&deny_all)).unwrap();
        // Prologue (6), 11 default allow exceptions, `return 0`.
        assert_eq!(prog.last().unwrap()[0], 0x95);
        assert_eq!(prog[prog.len() - 2], [0xb4, 0, 0, 0, 0, 0, 0, 0]);
        let more = v2_program(&[deny_all, rule(true, LinuxDeviceType::C, Some(4), Some(1), "rwm")]).unwrap();
        assert_eq!(more.len(), prog.len() + 5, "type, major, minor checks, verdict, exit");
        assert!(v2_program(&[rule(true, LinuxDeviceType::U, None, None, "r")]).is_err());
    }

    #[test]
    fn v1_update_moves_between_rule_sets_without_a_reset() {
        let list = "c *:* m\nb *:* m\nc 1:3 rwm\nc 1:5 rwm\nc 1:7 rwm\nc 1:8 rwm\nc 1:9 rwm\nc 5:0 rwm\nc 5:2 rwm\nc 10:200 rwm\nc 136:* rwm\nc 4:1 rw\n";
        let target = [
            rule(false, LinuxDeviceType::A, None, None, "rwm"),
            rule(true, LinuxDeviceType::C, Some(1), Some(11), "r"),
            rule(true, LinuxDeviceType::C, Some(4), Some(1), "r"),
        ];
        let w = v1_update_writes(list, &target).unwrap();
        let lines: Vec<_> = w.iter().map(|w| format!("{} {}", w.file, w.value)).collect();
        assert_eq!(lines, ["devices.allow c 1:11 r", "devices.deny c 4:1 w"]);
        assert!(v1_update_writes(list, &target[..1]).unwrap().iter().all(|w| w.file == "devices.deny"));
        let from_allow_all = v1_update_writes("a *:* rwm\n", &target).unwrap();
        assert_eq!(from_allow_all[0].value, "a *:* rwm", "from allow-all: the full sequence");
        assert_eq!(from_allow_all.len(), v1_writes(&target).unwrap().len());
    }
}
