//! Records the git commit for `hull --version`: `$HULL_COMMIT` when the builder sets it (a
//! packager building from a tarball), else HEAD of the checkout hull is built from, else `unknown`.

use std::path::{Path, PathBuf};
use std::process::Command;

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !s.is_empty()).then_some(s)
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
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
