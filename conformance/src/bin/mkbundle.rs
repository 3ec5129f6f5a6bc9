//! `mkbundle DIR [--terminal] [--probe PATH] [-- ARGS...]`: writes a ready bundle (rootfs + config.json).
//!
//! Used by the README's end-to-end demo (`hull run -b DIR demo`). The static probe is taken from `--probe`,
//! else from `probe` next to this executable.

use std::path::PathBuf;
use std::process::ExitCode;

use conformance::BundleBuilder;
use serde_json::json;

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(dir) => {
            println!("{}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("mkbundle: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<PathBuf, String> {
    let mut dir = None;
    let mut terminal = false;
    let mut probe = None;
    let mut command: Vec<String> = Vec::new();
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--terminal" => terminal = true,
            "--probe" => probe = Some(PathBuf::from(it.next().ok_or("--probe needs a path")?)),
            "--" => command.extend(it.by_ref()),
            "-h" | "--help" => return Err("usage: mkbundle DIR [--terminal] [--probe PATH] [-- ARGS...]".into()),
            _ if dir.is_none() && !a.starts_with('-') => dir = Some(PathBuf::from(a)),
            _ => return Err(format!("unexpected argument {a:?}")),
        }
    }
    let dir = dir.ok_or("usage: mkbundle DIR [--terminal] [--probe PATH] [-- ARGS...]")?;
    let probe = match probe {
        Some(p) => p,
        None => std::env::current_exe().map_err(|e| e.to_string())?.with_file_name("probe"),
    };
    if !probe.is_file() {
        return Err(format!("static probe not found at {} (pass --probe PATH)", probe.display()));
    }
    if dir.join("rootfs").exists() {
        return Err(format!("{} already holds a rootfs", dir.display()));
    }
    let id = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "demo".into());
    let args: Vec<&str> =
        if command.is_empty() { vec!["/probe", "report"] } else { command.iter().map(String::as_str).collect() };
    let b = BundleBuilder::new(&dir, probe, &id).args(&args).with(|s| {
        s["process"]["terminal"] = json!(terminal);
        // A demo bundle has no harness to clean its cgroup; let the runtime pick the default location.
        s["linux"].as_object_mut().map(|l| l.remove("cgroupsPath"));
    });
    b.build().map_err(|e| format!("writing bundle {}: {e}", dir.display()))
}
