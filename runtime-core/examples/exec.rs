//! A long-lived container with exec: `exec <bundle-dir>`.
//!
//! The container (root `<bundle-dir>/rootfs`, config built in memory) runs `sleep 60`. Into it:
//! - `id`, its stdout a pipe read here;
//! - `cat`, stdin and stdout both pipes: what is written comes back;
//! - three `sh -c "sleep ..; exit N"` at once, awaited on their pidfds with tokio's `AsyncFd`
//!   on a single-threaded runtime: no thread blocks per process.
//!
//! Each result is printed; the container is deleted either way.
use std::io::{Read, Write};

use runtime_core::{CreateOptions, ExecOptions, ExecProcess, Io, Runtime, Stdio};
use tokio::io::unix::AsyncFd;

type BoxError = Box<dyn std::error::Error>;

fn main() -> Result<(), BoxError> {
    // First thing: serve the launch helper if this process is one, then seal the binary.
    runtime_core::run_helper_if_requested();
    runtime_core::seal::ensure_sealed()?;
    let bundle = std::env::args().nth(1).ok_or("usage: exec <bundle-dir>")?;
    let id = format!("exec-{}", std::process::id());
    let mut spec = serde_json::to_value(runtime_core::spec::example(false))?;
    spec["process"]["terminal"] = false.into();
    spec["process"]["args"] = serde_json::json!(["sleep", "60"]);
    spec["linux"]["cgroupsPath"] = format!("/hull-example-{id}").into();
    let rt = Runtime::new("/run/hull-example");
    let mut c = rt.create(&id, CreateOptions::new(bundle).spec(serde_json::from_value(spec)?))?;
    let result = c.start().map_err(Box::from).and_then(|()| exec_all(&rt, &id));
    rt.load(&id)?.delete(true)?;
    result
}

fn exec_all(rt: &Runtime, id: &str) -> Result<(), BoxError> {
    let c = rt.load(id)?;

    // Output through a pipe.
    let mut p = c.exec(ExecOptions::new(process(&["id"])?).stdio(Stdio::inherit().stdout(Io::Piped)))?;
    let mut out = String::new();
    p.take_stdout().ok_or("no stdout pipe")?.read_to_string(&mut out)?;
    println!("id printed {:?} and exited with {}", out.trim(), p.wait()?);

    // Both ways: what goes into `cat` comes back out.
    let piped = Stdio::inherit().stdin(Io::Piped).stdout(Io::Piped).stderr(Io::Null);
    let mut p = c.exec(ExecOptions::new(process(&["cat"])?).stdio(piped))?;
    p.take_stdin().ok_or("no stdin pipe")?.write_all(b"through a pipe")?; // dropped: EOF
    let mut out = String::new();
    p.take_stdout().ok_or("no stdout pipe")?.read_to_string(&mut out)?;
    println!("cat echoed {out:?} and exited with {}", p.wait()?);

    // Several at once, awaited on their pidfds by one thread.
    let mut waiting = Vec::new();
    for (delay, code) in [("0.3", 5), ("0.1", 6), ("0.2", 7)] {
        let script = format!("sleep {delay}; exit {code}");
        waiting.push(c.exec(ExecOptions::new(process(&["sh", "-c", &script])?))?);
    }
    let tokio = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    let statuses = tokio.block_on(async {
        let mut all = Vec::new();
        for p in &waiting {
            all.push(exited(p).await?);
        }
        Ok::<_, BoxError>(all)
    })?;
    println!("three sh exited with {statuses:?}");
    Ok(())
}

/// Awaits the exit of `p` on its pidfd and reaps it.
async fn exited(p: &ExecProcess) -> Result<i32, BoxError> {
    let pidfd = p.pidfd().ok_or("no pidfd")?.try_clone_to_owned()?;
    // `new` is deprecated in favour of `register`, which puts the I/O-safety promise on the
    // caller, because a wrapped type could swap its fd while registered (tokio#8587); an
    // OwnedFd owned by the AsyncFd cannot.
    #[allow(deprecated)]
    let fd = AsyncFd::new(pidfd)?;
    let _ready = fd.readable().await?;
    Ok(p.try_wait()?.ok_or("the pidfd fired but the process has not exited")?)
}

fn process(argv: &[&str]) -> Result<oci_spec::runtime::Process, BoxError> {
    let json = serde_json::json!({
        "terminal": false, "user": {"uid": 0, "gid": 0}, "cwd": "/", "args": argv,
        "env": ["PATH=/bin:/usr/bin"], "noNewPrivileges": true,
    });
    Ok(serde_json::from_value(json)?)
}
