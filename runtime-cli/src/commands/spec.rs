//! `hull spec [--bundle DIR] [--rootless]`: write an example config.json, never over an existing one.

use std::io::Write;
use std::path::Path;

use anyhow::{anyhow, Result};
use oci_spec::runtime::{LinuxNamespace, LinuxNamespaceType, Spec};

pub fn run(bundle: &Path, rootless: bool) -> Result<u8> {
    let mut spec = runtime_core::spec::example(rootless);
    if host_is_cgroup2() {
        add_cgroup_namespace(&mut spec);
    }
    let path = bundle.join("config.json");
    // O_EXCL: an existing file (or symlink) is never replaced, and there is no check-then-write race.
    let file = std::fs::OpenOptions::new().write(true).create_new(true).open(&path).map_err(|e| match e.kind() {
        std::io::ErrorKind::AlreadyExists => anyhow!("File config.json exists. Remove it first"),
        _ => anyhow!("open {}: {}", path.display(), runtime_core::io_error_text(&e)),
    })?;
    let mut w = std::io::BufWriter::new(file);
    // runc indents config.json with tabs.
    let mut ser = serde_json::Serializer::with_formatter(&mut w, serde_json::ser::PrettyFormatter::with_indent(b"\t"));
    serde::Serialize::serialize(&spec, &mut ser)?;
    w.flush().map_err(|e| anyhow!("write {}: {}", path.display(), runtime_core::io_error_text(&e)))?;
    Ok(0)
}

/// On a pure cgroup v2 host the example gets its own cgroup namespace, as runc's does.
fn host_is_cgroup2() -> bool {
    nix::sys::statfs::statfs("/sys/fs/cgroup")
        .is_ok_and(|s| s.filesystem_type() == nix::sys::statfs::CGROUP2_SUPER_MAGIC)
}

fn add_cgroup_namespace(spec: &mut Spec) {
    if let Some(ns) = spec.linux_mut().as_mut().and_then(|l| l.namespaces_mut().as_mut()) {
        let mut cg = LinuxNamespace::default();
        cg.set_typ(LinuxNamespaceType::Cgroup);
        ns.push(cg);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cgroup_namespace_is_appended() {
        let mut s = runtime_core::spec::example(false);
        add_cgroup_namespace(&mut s);
        let ns = s.linux().as_ref().unwrap().namespaces().as_ref().unwrap();
        assert_eq!(ns.last().unwrap().typ(), LinuxNamespaceType::Cgroup);
    }
}
