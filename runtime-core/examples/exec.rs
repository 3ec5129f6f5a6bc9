//! A long-lived container with exec: `exec <bundle> <id>`. The bundle's process should keep
//! running (e.g. `sleep 30`); this starts it, runs `id` and a failing command inside it, prints
//! their exit statuses, and deletes the container.
use runtime_core::{ConsoleMode, CreateOptions, ExecOptions, Runtime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    runtime_core::seal::ensure_sealed()?;
    let mut args = std::env::args().skip(1);
    let (bundle, id) = (args.next().ok_or("usage: exec <bundle> <id>")?, args.next().ok_or("usage")?);
    let rt = Runtime::new("/run/hull-example");
    let mut c = rt.create(&id, CreateOptions { bundle: bundle.into(), ..Default::default() })?;
    c.start()?;
    let c = rt.load(&id)?;
    for argv in [vec!["id"], vec!["sh", "-c", "exit 5"]] {
        let mut process = c_process(&argv)?;
        process.set_terminal(Some(false));
        let p = c.exec(ExecOptions {
            process,
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
    c.delete(true)?;
    Ok(())
}

fn c_process(argv: &[&str]) -> Result<oci_spec::runtime::Process, Box<dyn std::error::Error>> {
    let json = serde_json::json!({
        "user": {"uid": 0, "gid": 0}, "cwd": "/", "args": argv, "env": ["PATH=/bin:/usr/bin"],
        "noNewPrivileges": true,
    });
    Ok(serde_json::from_value(json)?)
}
