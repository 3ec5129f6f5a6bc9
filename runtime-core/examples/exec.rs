//! A long-lived container with exec: `exec <bundle-dir>`.
//!
//! The container (root `<bundle-dir>/rootfs`, config built in memory) runs `sleep 60`; `id` and a
//! failing command are exec'd into it, their exit statuses printed, and the container deleted.
//! The exec'd processes write to this program's stdout.
use runtime_core::{ConsoleMode, CreateOptions, ExecOptions, Runtime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    runtime_core::seal::ensure_sealed()?;
    let bundle = std::env::args().nth(1).ok_or("usage: exec <bundle-dir>")?;
    let id = format!("exec-{}", std::process::id());
    let mut spec = serde_json::to_value(runtime_core::spec::example(false))?;
    spec["process"]["terminal"] = false.into();
    spec["process"]["args"] = serde_json::json!(["sleep", "60"]);
    spec["linux"]["cgroupsPath"] = format!("/hull-example-{id}").into();
    let rt = Runtime::new("/run/hull-example");
    let opts = CreateOptions { bundle: bundle.into(), spec: Some(serde_json::from_value(spec)?), ..Default::default() };
    let mut c = rt.create(&id, opts)?;
    let result = c.start().map_err(Box::from).and_then(|()| exec_two(&rt, &id));
    rt.load(&id)?.delete(true)?;
    result
}

fn exec_two(rt: &Runtime, id: &str) -> Result<(), Box<dyn std::error::Error>> {
    let c = rt.load(id)?;
    for argv in [vec!["id"], vec!["sh", "-c", "exit 5"]] {
        let p = c.exec(ExecOptions {
            process: process(&argv)?,
            pid_file: None,
            console: ConsoleMode::None,
            preserve_fds: 0,
            detach: false,
            ignore_paused: false,
            user: None,
            sub_cgroups: Vec::new(),
        })?;
        println!("{argv:?} exited with {}", p.wait()?);
    }
    Ok(())
}

fn process(argv: &[&str]) -> Result<oci_spec::runtime::Process, Box<dyn std::error::Error>> {
    let json = serde_json::json!({
        "terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/", "args": argv,
        "env": ["PATH=/bin:/usr/bin"], "noNewPrivileges": true,
    });
    Ok(serde_json::from_value(json)?)
}
