//! The table of checks that refuse a spec: fields hull does not implement yet, and semantic errors
//! that the kernel would otherwise report late and vaguely.

use oci_spec::runtime::Spec;

use super::namespaces::NamespacePlan;
use crate::error::{Error, Result};

fn unsupported(field: &str) -> Error {
    Error::NotSupported(field.to_owned())
}

/// Fields that must be absent (or empty) because hull does not implement them yet.
pub(super) fn check(spec: &Spec) -> Result<()> {
    if spec.root().is_none() {
        return Err(Error::InvalidConfig("root: missing".into()));
    }
    if let Some(p) = spec.process() {
        let checks: [(&str, bool); 2] = [
            ("process.apparmorProfile", p.apparmor_profile().as_ref().is_some_and(|s| !s.is_empty())),
            ("process.selinuxLabel", p.selinux_label().as_ref().is_some_and(|s| !s.is_empty())),
        ];
        first_set(&checks)?;
    }
    let Some(l) = spec.linux() else { return Err(Error::InvalidConfig("linux: missing".into())) };
    let checks: [(&str, bool); 2] = [
        ("linux.intelRdt", l.intel_rdt().is_some()),
        ("linux.mountLabel", l.mount_label().as_ref().is_some_and(|s| !s.is_empty())),
    ];
    first_set(&checks)
}

fn first_set(checks: &[(&str, bool)]) -> Result<()> {
    match checks.iter().find(|(_, set)| *set) {
        Some((name, _)) => Err(unsupported(name)),
        None => Ok(()),
    }
}

/// hostname and domainname need a private UTS namespace (runc refuses them otherwise).
pub(super) fn identity(spec: &Spec, ns: &NamespacePlan) -> Result<()> {
    let set = |v: &Option<String>| v.as_ref().is_some_and(|s| !s.is_empty());
    if (set(spec.hostname()) || set(spec.domainname())) && !ns.new_uts {
        return Err(Error::InvalidConfig("unable to set hostname without a private UTS namespace".into()));
    }
    for (field, v) in [("hostname", spec.hostname()), ("domainname", spec.domainname())] {
        if v.as_ref().is_some_and(|s| s.len() > 64 || s.contains('\0')) {
            return Err(Error::InvalidConfig(format!("{field}: longer than 64 bytes or contains NUL")));
        }
    }
    Ok(())
}
