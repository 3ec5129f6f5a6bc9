//! Records the git commit for `hull --version`: `$HULL_COMMIT` when the builder sets it (a
//! packager building from a tarball), else HEAD of the checkout hull is built from, else `unknown`.
//! Links hull with `hot-text.ld`, which packs the start path's functions together.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !s.is_empty()).then_some(s)
}

/// Every hull process maps its `.text` in 64 KiB fault-around windows, and the start path calls
/// about 1,500 of the binary's 7,700 functions, spread over nearly every window: 2.5 MB of the
/// 2.8 MB text was resident in each process. `hot-text.ld` (written by `scripts/hot-text.sh`
/// from a uprobe trace of hull's commands) puts those functions first, in their own output
/// section; a function it does not name still links, in `.text`. `HULL_LINK_MAP` asks for the
/// linker's map, which the script reads to find every function's address.
fn link_hot_text() {
    println!("cargo:rerun-if-changed=hot-text.ld");
    println!("cargo:rerun-if-env-changed=HULL_LINK_MAP");
    let linux = std::env::var("CARGO_CFG_TARGET_OS").is_ok_and(|os| os == "linux");
    if !linux {
        return;
    }
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    println!("cargo:rustc-link-arg-bin=hull=-Wl,-T,{}", manifest.join("hot-text.ld").display());
    if let Some(map) = std::env::var_os("HULL_LINK_MAP").filter(|m| !m.is_empty()) {
        println!("cargo:rustc-link-arg-bin=hull=-Wl,-Map,{}", Path::new(&map).display());
    }
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    link_hot_text();
    println!("cargo:rerun-if-env-changed=HULL_COMMIT");
    if let Some(commit) = std::env::var("HULL_COMMIT").ok().filter(|c| !c.trim().is_empty()) {
        println!("cargo:rustc-env=HULL_COMMIT={}", commit.trim());
        return;
    }
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let workspace = manifest.parent().map(Path::to_path_buf).unwrap_or_else(|| manifest.clone());
    // Only hull's own checkout counts: sources unpacked inside some other repository are not it.
    let ours = git(&manifest, &["rev-parse", "--show-toplevel"])
        .is_some_and(|top| Path::new(&top).canonicalize().ok() == workspace.canonicalize().ok());
    let commit = if ours { git(&manifest, &["rev-parse", "HEAD"]) } else { None };
    println!("cargo:rustc-env=HULL_COMMIT={}", commit.unwrap_or_else(|| "unknown".to_owned()));
    if !ours {
        return;
    }
    // Rebuild when HEAD moves: HEAD itself (branch switch) and the branch it points to (commit).
    for path in [Some("HEAD".to_owned()), git(&manifest, &["symbolic-ref", "-q", "HEAD"])].into_iter().flatten() {
        if let Some(file) = git(&manifest, &["rev-parse", "--path-format=absolute", "--git-path", &path]) {
            println!("cargo:rerun-if-changed={file}");
        }
    }
}
