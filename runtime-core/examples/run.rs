//! Runs a command in a fresh container and captures its output: `run <bundle-dir> <command>...`.
//!
//! The root is `<bundle-dir>/rootfs`; the config is built in memory from the library's example
//! spec (no config.json needed). Prints what the command wrote to its stdout and exits with its
//! status; the container is deleted either way.
use std::io::Read;

use runtime_core::{CreateOptions, Runtime, Stdio};

const USAGE: &str = "usage: run <bundle-dir> <command> [args...]";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Before anything else: serve the launch helper if this process is one, and make sure the
    // runtime binary cannot be written from a container.
    runtime_core::run_helper_if_requested();
    runtime_core::seal::ensure_sealed()?;
    let mut args = std::env::args().skip(1);
    let bundle = args.next().ok_or(USAGE)?;
    let command: Vec<String> = args.collect();
    if command.is_empty() {
        return Err(USAGE.into());
    }
    let id = format!("run-{}", std::process::id());
    let mut spec = serde_json::to_value(runtime_core::spec::example(false))?;
    spec["process"]["terminal"] = false.into();
    spec["process"]["args"] = command.into();
    spec["linux"]["cgroupsPath"] = format!("/hull-example-{id}").into();

    let (mut output, stdout) = std::os::unix::net::UnixStream::pair()?;
    let rt = Runtime::new("/run/hull-example");
    let opts = CreateOptions::new(bundle).spec(serde_json::from_value(spec)?).stdio(Stdio::inherit().stdout(stdout));
    let mut c = rt.create(&id, opts)?;
    let run = c.start().map_err(Box::from).and_then(|()| {
        // The container holds the only write end: end of file once its processes are gone.
        let mut text = String::new();
        output.read_to_string(&mut text)?;
        Ok::<_, Box<dyn std::error::Error>>((text, c.wait()?))
    });
    rt.load(&id)?.delete(true)?;
    let (text, status) = run?;
    print!("{text}");
    std::process::exit(status);
}
