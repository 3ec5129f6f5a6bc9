//! Records the git commit for `hull --version` (`unknown` outside a git checkout).

use std::process::Command;

fn git(args: &[&str]) -> Option<String> {
    let out = Command::new("git").args(args).output().ok()?;
    let s = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !s.is_empty()).then_some(s)
}

fn main() {
    let commit = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=HULL_COMMIT={commit}");
    // Rebuild when HEAD moves: HEAD itself (branch switch) and the branch it points to (commit).
    for path in [Some("HEAD".to_owned()), git(&["symbolic-ref", "-q", "HEAD"])].into_iter().flatten() {
        if let Some(file) = git(&["rev-parse", "--git-path", &path]) {
            println!("cargo:rerun-if-changed={file}");
        }
    }
    println!("cargo:rerun-if-changed=build.rs");
}
