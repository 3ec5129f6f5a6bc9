//! One test's container: a unique id, a private directory (bundle, state root, outputs), lifecycle calls,
//! and a Drop guard that force-deletes the container and removes every trace even if the runtime misbehaves.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::bundle::BundleBuilder;
use crate::leftovers::Footprint;
use crate::runtime::{parse_json, Outcome, RuntimeUnderTest};

static NEXT: AtomicU32 = AtomicU32::new(0);
/// Live cases in this process; the shared `/run/hull-test-<pid>` dir is removed when it drops to zero.
static LIVE: Mutex<u32> = Mutex::new(0);

/// Parent of every test dir of this test process.
pub fn process_dir() -> PathBuf {
    if crate::rootless() {
        let base = std::env::var_os("XDG_RUNTIME_DIR").filter(|v| !v.is_empty()).map(PathBuf::from);
        return base.unwrap_or_else(std::env::temp_dir).join(format!("hull-test-{}", std::process::id()));
    }
    PathBuf::from(format!("/run/hull-test-{}", std::process::id()))
}

/// One test's container and its files.
#[derive(Debug)]
pub struct Case {
    pub name: String,
    pub id: String,
    pub dir: PathBuf,
    pub rt: RuntimeUnderTest,
    probe: PathBuf,
}

impl Case {
    /// A fresh case named after the current test thread.
    pub fn new() -> Case {
        let name = std::thread::current().name().unwrap_or("test").rsplit("::").next().unwrap_or("test").to_owned();
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let short: String = name.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(24).collect();
        let id = format!("{short}-{}-{n}", std::process::id());
        let dir = process_dir().join(&id);
        {
            let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
            *live += 1;
            std::fs::create_dir_all(dir.join("out")).expect("create test dir");
            std::fs::create_dir_all(dir.join("root")).expect("create state root");
        }
        let rt = RuntimeUnderTest::new(RuntimeUnderTest::binary_from_env(), dir.join("root"), dir.join("out"));
        Case { name, id, dir, rt, probe: crate::probe_path() }
    }

    pub fn bundle_dir(&self) -> PathBuf {
        self.dir.join("bundle")
    }

    /// A builder for this case's bundle, running `/probe report` unless changed.
    pub fn bundle(&self) -> BundleBuilder {
        BundleBuilder::new(self.bundle_dir(), &self.probe, &self.id)
    }

    /// Builds the bundle (panics on I/O errors: those are harness failures, not runtime ones).
    #[track_caller]
    pub fn build(&self, b: BundleBuilder) -> PathBuf {
        b.build().unwrap_or_else(|e| panic!("building bundle in {}: {e}", self.bundle_dir().display()))
    }

    pub fn footprint(&self) -> Footprint {
        Footprint { id: self.id.clone(), dir: self.dir.clone(), state_dir: self.rt.state_dir(&self.id) }
    }

    pub fn exec(&self, args: &[&str]) -> Outcome {
        self.rt.exec(args)
    }

    fn bundle_str(&self) -> String {
        self.bundle_dir().to_string_lossy().into_owned()
    }

    /// `create --bundle B [extra...] ID`
    pub fn create(&self, extra: &[&str]) -> Outcome {
        let b = self.bundle_str();
        let mut args = vec!["create", "--bundle", &b];
        args.extend_from_slice(extra);
        args.push(&self.id);
        self.exec(&args)
    }

    /// `run --bundle B [extra...] ID`
    pub fn run(&self, extra: &[&str]) -> Outcome {
        let b = self.bundle_str();
        let mut args = vec!["run", "--bundle", &b];
        args.extend_from_slice(extra);
        args.push(&self.id);
        self.exec(&args)
    }

    pub fn start(&self) -> Outcome {
        self.exec(&["start", &self.id])
    }

    pub fn state(&self) -> Outcome {
        self.exec(&["state", &self.id])
    }

    /// The `state` JSON, or None when the runtime fails or prints something else.
    pub fn state_json(&self) -> Option<Value> {
        let o = self.state();
        if o.success() {
            parse_json(&o.stdout)
        } else {
            None
        }
    }

    pub fn status(&self) -> Option<String> {
        self.state_json().and_then(|s| s["status"].as_str().map(str::to_owned))
    }

    pub fn kill(&self, signal: Option<&str>) -> Outcome {
        match signal {
            Some(s) => self.exec(&["kill", &self.id, s]),
            None => self.exec(&["kill", &self.id]),
        }
    }

    pub fn delete(&self, force: bool) -> Outcome {
        if force {
            self.exec(&["delete", "--force", &self.id])
        } else {
            self.exec(&["delete", &self.id])
        }
    }

    /// Polls `state` until the status is `want`; returns the last status seen.
    pub fn wait_status(&self, want: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let st = self.status();
            if st.as_deref() == Some(want) || Instant::now() >= deadline {
                return st;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// create + start, then wait for the process to exit; returns the create outcome, whose stdout file
    /// holds the container's output.
    #[track_caller]
    pub fn create_start_wait(&self, extra: &[&str]) -> Outcome {
        let c = self.create(extra).ok();
        self.start().ok();
        let st = self.wait_status("stopped", Duration::from_secs(10));
        assert_eq!(st.as_deref(), Some("stopped"), "container did not stop");
        c
    }

    /// Runs the bundle to completion with `run` and returns the probe's JSON report.
    #[track_caller]
    pub fn report(&self, b: BundleBuilder) -> Value {
        self.build(b);
        let out = self.run(&[]);
        assert!(out.success(), "run failed: {out}");
        // `run` deletes the container when its process exits, so nothing may be left.
        self.assert_clean();
        out.json()
    }

    /// Asserts nothing is left (processes, mounts, state dir, cgroup dirs) after a short settle time.
    #[track_caller]
    pub fn assert_clean(&self) {
        let left = self.footprint().leftovers_settled(Duration::from_secs(3));
        assert!(left.is_empty(), "left behind by {}: {left:#?}", self.rt.name());
    }

    pub fn probe(&self) -> &Path {
        &self.probe
    }
}

impl Default for Case {
    fn default() -> Self {
        Case::new()
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        // Short timeout: a hung runtime must not stall the guard; the footprint sweep follows anyway.
        self.rt.timeout = Duration::from_secs(5);
        let _ = self.delete(true);
        let footprint = self.footprint();
        footprint.clean();
        let left = footprint.leftovers();
        let leaked = !left.is_empty() || self.dir.exists();
        {
            let mut live = LIVE.lock().unwrap_or_else(|e| e.into_inner());
            *live -= 1;
            if *live == 0 {
                let _ = std::fs::remove_dir(process_dir());
            }
        }
        if leaked {
            let msg = format!("LEAK {}: cleanup left {left:?} (dir exists: {})", self.name, self.dir.exists());
            // Failing the test is the honest outcome, but a second panic during unwinding would abort.
            if std::thread::panicking() {
                eprintln!("{msg}");
            } else {
                panic!("{msg}");
            }
        }
    }
}
