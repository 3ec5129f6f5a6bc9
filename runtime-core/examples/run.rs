//! Runs a bundle in the foreground: `run <bundle> <id>`; prints nothing of its own and exits with
//! the container's status.
use runtime_core::{CreateOptions, Runtime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    runtime_core::seal::ensure_sealed()?;
    let mut args = std::env::args().skip(1);
    let bundle = args.next().ok_or("usage: run <bundle> <id>")?;
    let id = args.next().ok_or("usage: run <bundle> <id>")?;
    let rt = Runtime::new("/run/hull-example");
    let mut c = rt.create(&id, CreateOptions { bundle: bundle.into(), ..Default::default() })?;
    c.start()?;
    let code = c.wait()?;
    rt.load(&id)?.delete(true)?;
    std::process::exit(code);
}
