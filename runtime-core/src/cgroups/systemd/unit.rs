//! Where a container's systemd unit lives: runc's `slice:prefix:name` cgroupsPath, the unit's
//! name, and a slice name expanded into the cgroup directories systemd makes for it. Pure.

use std::path::PathBuf;

use crate::cgroups::invalid;

/// The unit a container's cgroup is, and where systemd puts it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UnitName {
    /// The parent slice as systemd's `Slice=` takes it (`system.slice`, `a-b.slice`, `-.slice`).
    pub(crate) slice: String,
    /// `prefix-name.scope`, or `name` itself when it is a slice.
    pub(crate) unit: String,
    /// The unit's cgroup below the hierarchy root, e.g. `system.slice/hull-c1.scope`.
    pub(crate) cgroup: PathBuf,
}

impl UnitName {
    /// Whether the unit is a scope (the usual case) rather than a slice the caller asked for.
    pub(crate) fn is_scope(&self) -> bool {
        self.unit.ends_with(".scope")
    }
}

/// Parses `linux.cgroupsPath` as runc's systemd driver does: `slice:prefix:name`; empty means
/// `:<prefix>:<id>` with `default_prefix` (`hull`), and an empty slice is `default_slice`
/// (`system.slice`; rootless, in the user's own manager, `user.slice` as runc).
pub(crate) fn parse(
    cgroups_path: Option<&str>,
    id: &str,
    default_prefix: &str,
    default_slice: &str,
) -> crate::Result<UnitName> {
    let raw = cgroups_path.unwrap_or("");
    let (slice, prefix, name) = if raw.is_empty() {
        ("", default_prefix, id)
    } else {
        let parts: Vec<&str> = raw.split(':').collect();
        let [slice, prefix, name] = parts[..] else {
            return Err(invalid(format!(
                "linux.cgroupsPath {raw:?}: expected \"slice:prefix:name\" for systemd cgroups"
            )));
        };
        (slice, prefix, name)
    };
    let slice = if slice.is_empty() { default_slice } else { slice };
    if name.is_empty() {
        return Err(invalid(format!("linux.cgroupsPath {raw:?}: the unit name is empty")));
    }
    let unit = if name.ends_with(".slice") { name.to_owned() } else { format!("{prefix}-{name}.scope") };
    check_unit_name(&unit, raw)?;
    let mut cgroup = expand_slice(slice)?;
    cgroup.push(&unit);
    Ok(UnitName { slice: slice.to_owned(), unit, cgroup })
}

/// A unit name systemd accepts: ASCII letters, digits and `:-_.\@`, at most 255 bytes. Checked
/// here so that no `/` or `..` can move the cgroup path elsewhere.
fn check_unit_name(unit: &str, raw: &str) -> crate::Result<()> {
    let ok = |c: char| c.is_ascii_alphanumeric() || ":-_.\\@".contains(c);
    let stem = unit.rsplit_once('.').map_or("", |(s, _)| s);
    if unit.len() > 255 || stem.is_empty() || !unit.chars().all(ok) || stem.starts_with('.') {
        return Err(invalid(format!("linux.cgroupsPath {raw:?}: {unit:?} is not a valid systemd unit name")));
    }
    Ok(())
}

/// The cgroup directory of a slice, from the hierarchy root: `a-b-c.slice` is
/// `a.slice/a-b.slice/a-b-c.slice`, `-.slice` is the root itself (as systemd names them).
pub(crate) fn expand_slice(slice: &str) -> crate::Result<PathBuf> {
    let bad = || invalid(format!("invalid systemd slice name {slice:?}"));
    let stem = slice.strip_suffix(".slice").ok_or_else(bad)?;
    if slice.contains('/') {
        return Err(bad());
    }
    if stem == "-" {
        return Ok(PathBuf::new());
    }
    if stem.is_empty() || stem.starts_with('-') || stem.ends_with('-') || stem.contains("--") {
        return Err(bad());
    }
    check_unit_name(slice, slice).map_err(|_| bad())?;
    let mut out = PathBuf::new();
    let mut prefix = String::new();
    for part in stem.split('-') {
        if !prefix.is_empty() {
            prefix.push('-');
        }
        prefix.push_str(part);
        out.push(format!("{prefix}.slice"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_path_is_the_default_scope_in_system_slice() {
        let u = parse(None, "c1", "hull", "system.slice").unwrap();
        assert_eq!((u.slice.as_str(), u.unit.as_str()), ("system.slice", "hull-c1.scope"));
        assert_eq!(u.cgroup, PathBuf::from("system.slice/hull-c1.scope"));
        assert!(u.is_scope());
        assert_eq!(parse(Some(""), "c1", "hull", "system.slice").unwrap(), u);
        // Rootless, in the user's manager: user.slice, as runc.
        let u = parse(Some(":p:c1"), "c1", "hull", "user.slice").unwrap();
        assert_eq!(u.cgroup, PathBuf::from("user.slice/p-c1.scope"));
    }

    #[test]
    fn slice_prefix_name_forms() {
        let u = parse(Some("machine-pod1.slice:cri-containerd:abc"), "id", "hull", "system.slice").unwrap();
        assert_eq!(u.unit, "cri-containerd-abc.scope");
        assert_eq!(u.cgroup, PathBuf::from("machine.slice/machine-pod1.slice/cri-containerd-abc.scope"));
        // An empty slice is the default one; a name ending in .slice is the unit itself.
        let u = parse(Some(":docker:x"), "id", "hull", "system.slice").unwrap();
        assert_eq!(u.cgroup, PathBuf::from("system.slice/docker-x.scope"));
        let u = parse(Some("-.slice:p:pod.slice"), "id", "hull", "system.slice").unwrap();
        assert_eq!((u.unit.as_str(), u.cgroup.to_str().unwrap(), u.is_scope()), ("pod.slice", "pod.slice", false));
    }

    #[test]
    fn bad_paths_are_refused_with_the_path_in_the_error() {
        for bad in ["/a/b", "a:b", "a:b:c:d", "system.slice:p:", "x.slice:p:../../etc", "x.slice:p:a/b", "nope:p:n"] {
            let e = parse(Some(bad), "id", "hull", "system.slice").unwrap_err().to_string();
            assert!(e.starts_with("invalid config:"), "{bad}: {e}");
        }
    }

    #[test]
    fn slices_expand_as_systemd_does() {
        let s = |x: &str| expand_slice(x).map(|p| p.to_string_lossy().into_owned());
        assert_eq!(s("system.slice").unwrap(), "system.slice");
        assert_eq!(s("a-b.slice").unwrap(), "a.slice/a-b.slice");
        assert_eq!(s("a-b-c.slice").unwrap(), "a.slice/a-b.slice/a-b-c.slice");
        assert_eq!(s("-.slice").unwrap(), "");
        for bad in ["a", "a.scope", "-a.slice", "a-.slice", "a--b.slice", ".slice", "a/b.slice", "a b.slice"] {
            assert!(s(bad).is_err(), "{bad}");
        }
    }
}
