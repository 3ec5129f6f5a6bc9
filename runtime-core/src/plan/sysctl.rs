//! linux.sysctl: only keys that belong to a namespace the container owns (runc's rules), and
//! keys normalised from `a/b` to `a.b`.

use std::collections::HashMap;

use super::namespaces::NamespacePlan;
use crate::error::{Error, Result};

/// IPC sysctls outside fs.mqueue (they follow the IPC namespace).
const IPC: &[&str] = &[
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];

/// Validates and orders the sysctls; returns (path under /proc/sys, value).
pub(crate) fn plan(sysctl: &HashMap<String, String>, ns: &NamespacePlan) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (key, value) in sysctl {
        let k = key.replace('/', ".");
        let refuse = |why: &str| Error::InvalidConfig(format!("linux.sysctl: {k:?} {why}"));
        if k.split('.').any(|c| c.is_empty() || c == "..") || k.contains('\0') || value.contains('\0') {
            return Err(refuse("is not a valid key"));
        }
        let own_ipc =
            ns.all_flags() & libc::CLONE_NEWIPC != 0 && ns.join.iter().all(|j| j.nstype != libc::CLONE_NEWIPC);
        if IPC.contains(&k.as_str()) || k.starts_with("fs.mqueue.") {
            if !own_ipc {
                return Err(refuse("requires a new IPC namespace"));
            }
        } else if k.starts_with("net.") {
            if ns.all_flags() & libc::CLONE_NEWNET == 0 {
                return Err(refuse("requires a network namespace"));
            }
        } else if k == "kernel.hostname" || k == "kernel.domainname" {
            return Err(refuse("is set through the hostname and domainname fields"));
        } else {
            return Err(refuse("is not in a namespace the container owns"));
        }
        out.push((format!("sys/{}", k.replace('.', "/")), value.clone()));
    }
    out.sort();
    Ok(out)
}
