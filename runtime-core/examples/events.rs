//! Typed stats and the event stream: `events <bundle-dir>`.
//!
//! A container with a 16 MiB memory limit starts `dd` asking for 64 MiB, which the OOM killer
//! ends, and then exits by itself. Its stats are read as a struct while it runs, and its events
//! (the OOM kill, then the exit) are received as the kernel pushes them: the stream is one fd,
//! here awaited on a single tokio thread, with nothing polled.
use runtime_core::events::Event;
use runtime_core::{CreateOptions, Runtime};
use tokio::io::unix::AsyncFd;

type BoxError = Box<dyn std::error::Error>;

fn main() -> Result<(), BoxError> {
    runtime_core::run_helper_if_requested();
    runtime_core::seal::ensure_sealed()?;
    let bundle = std::env::args().nth(1).ok_or("usage: events <bundle-dir>")?;
    let id = format!("events-{}", std::process::id());
    let mut spec = serde_json::to_value(runtime_core::spec::example(false))?;
    spec["process"]["terminal"] = false.into();
    let script = "sleep 0.5; dd if=/dev/zero of=/dev/null bs=64M count=1; sleep 0.5";
    spec["process"]["args"] = serde_json::json!(["sh", "-c", script]);
    spec["linux"]["cgroupsPath"] = format!("/hull-example-{id}").into();
    spec["linux"]["resources"] = serde_json::json!({"memory": {"limit": 16 << 20, "swap": 16 << 20}});
    let rt = Runtime::new("/run/hull-example");
    let mut c = rt.create(&id, CreateOptions::new(bundle).spec(serde_json::from_value(spec)?))?;
    let result = c.start().map_err(BoxError::from).and_then(|()| watch(&c));
    rt.load(&id)?.delete(true)?;
    result
}

fn watch(c: &runtime_core::Container) -> Result<(), BoxError> {
    let stats = c.stats()?;
    println!("memory limit {} bytes, {} process(es)", stats.memory.usage.limit, stats.pids.current);
    let events = c.events()?;
    let tokio = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    tokio.block_on(async {
        #[allow(deprecated)] // see examples/exec.rs: the AsyncFd owns the stream, fd and all
        let mut stream = AsyncFd::new(events)?;
        loop {
            let mut ready = stream.readable_mut().await?;
            // Readable: an event is pending, so this does not block.
            match ready.get_inner_mut().next(Some(std::time::Duration::ZERO))? {
                Some(Event::Oom) => println!("event: oom"),
                Some(Event::Exited) => {
                    println!("event: exited with {}", c.try_wait()?.ok_or("exited but not reaped")?);
                    return Ok(());
                }
                // A memory.events change that was no kill; or nothing left: wait again.
                _ => ready.clear_ready(),
            }
        }
    })
}
