//! The runner: executes registered tests against one runtime in parallel worker threads, each test on a
//! thread of its own named after it (the harness derives container ids and skip lines from that name),
//! with panics caught and a per-test timeout; results feed the reports and the matrix.

pub mod matrix;
pub mod report;

use std::cell::RefCell;
use std::panic;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Mutex, Once};
use std::thread;
use std::time::{Duration, Instant};

use crate::suite::{take_skip, Test, CONVENTION};

/// What one test did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail,
    Skip,
    /// Failed only in a part the spec leaves open (see `Test::allowed_difference`).
    Allowed,
}

impl Verdict {
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Skip => "skip",
            Verdict::Allowed => "allowed",
        }
    }
}

/// One test's result: the verdict and, unless it passed, why (panic message with location, or skip reason).
#[derive(Debug, Clone)]
pub struct TestResult {
    pub test: Test,
    pub verdict: Verdict,
    pub reason: String,
    pub duration: Duration,
}

impl TestResult {
    /// `area::name`, the id the filter matches and the reports print.
    pub fn id(&self) -> String {
        format!("{}::{}", self.test.area, self.test.name)
    }
}

/// Tests whose `area::name` or section contains `filter` (all when None).
pub fn select(tests: Vec<Test>, filter: Option<&str>) -> Vec<Test> {
    select_excluding(tests, filter, None)
}

/// [`select`], then leaves out the tests matching any comma-separated substring of `exclude`.
pub fn select_excluding(tests: Vec<Test>, filter: Option<&str>, exclude: Option<&str>) -> Vec<Test> {
    let tests = select_only(tests, filter);
    match exclude {
        None => tests,
        Some(x) => {
            let gone = select_only(tests.clone(), Some(x));
            tests.into_iter().filter(|t| !gone.iter().any(|g| g.area == t.area && g.name == t.name)).collect()
        }
    }
}

fn select_only(tests: Vec<Test>, filter: Option<&str>) -> Vec<Test> {
    match filter {
        None => tests,
        // Several substrings separated by commas: a test matching any of them is selected.
        Some(f) => tests
            .into_iter()
            .filter(|t| {
                let full = format!("{}::{}", t.area, t.name);
                f.split(',').filter(|p| !p.is_empty()).any(|p| full.contains(p) || t.section.contains(p))
            })
            .collect(),
    }
}

/// Runs `tests` on `jobs` worker threads; `progress` sees each result as it lands. Results keep the input
/// order. The runtime under test must already be selected (`runtime::select_binary`).
pub fn run_tests(
    tests: &[Test],
    jobs: usize,
    timeout: Duration,
    progress: &(dyn Fn(&TestResult) + Sync),
) -> Vec<TestResult> {
    let next = AtomicUsize::new(0);
    let slots: Mutex<Vec<Option<TestResult>>> = Mutex::new(vec![None; tests.len()]);
    thread::scope(|s| {
        for _ in 0..jobs.max(1) {
            s.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(t) = tests.get(i) else { break };
                let r = run_one(*t, timeout);
                progress(&r);
                slots.lock().unwrap_or_else(|e| e.into_inner())[i] = Some(r);
            });
        }
    });
    slots.into_inner().unwrap_or_else(|e| e.into_inner()).into_iter().flatten().collect()
}

/// Runs one test on its own thread and waits at most `timeout` for it.
pub fn run_one(test: Test, timeout: Duration) -> TestResult {
    install_panic_capture();
    let start = Instant::now();
    let (tx, rx) = mpsc::channel();
    let spawned = thread::Builder::new().name(test.name.to_owned()).spawn(move || {
        CAPTURE.with(|c| *c.borrow_mut() = Some(String::new()));
        let outcome = panic::catch_unwind(test.run);
        let panicked = CAPTURE.with(|c| c.borrow_mut().take()).unwrap_or_default();
        let skipped = take_skip();
        let _ = tx.send(match (outcome, skipped) {
            (Err(payload), _) => Err(if panicked.is_empty() { payload_text(payload.as_ref()) } else { panicked }),
            (Ok(()), Some(reason)) => Ok(Some(reason)),
            (Ok(()), None) => Ok(None),
        });
    });
    let (verdict, reason) = match spawned {
        Err(e) => (Verdict::Fail, format!("harness: cannot spawn the test thread: {e}")),
        Ok(_) => match rx.recv_timeout(timeout) {
            Ok(Ok(None)) => (Verdict::Pass, String::new()),
            Ok(Ok(Some(reason))) => (Verdict::Skip, reason),
            Ok(Err(msg)) if test.allowed_difference.is_some() && msg.contains(CONVENTION) => (Verdict::Allowed, msg),
            Ok(Err(msg)) => (Verdict::Fail, msg),
            // The thread cannot be killed: it keeps running detached and its cleanup guard runs when it returns.
            Err(mpsc::RecvTimeoutError::Timeout) => (Verdict::Fail, format!("timed out after {}s", timeout.as_secs())),
            Err(mpsc::RecvTimeoutError::Disconnected) => (Verdict::Fail, "test thread vanished".to_owned()),
        },
    };
    TestResult { test, verdict, reason, duration: start.elapsed() }
}

thread_local! {
    /// Set on test threads: the panic hook stores the message (with its location) here instead of printing.
    static CAPTURE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Replaces the panic hook once: test threads capture their panic text, any other thread prints as usual.
fn install_panic_capture() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            let captured = CAPTURE.with(|c| match c.borrow_mut().as_mut() {
                Some(text) if text.is_empty() => {
                    let msg = payload_text(info.payload());
                    *text = match info.location() {
                        Some(l) => format!("{msg} (at {}:{})", l.file(), l.line()),
                        None => msg,
                    };
                    true
                }
                // A second panic (e.g. the cleanup guard's during unwinding) keeps the first message.
                Some(_) => true,
                None => false,
            });
            if !captured {
                default(info);
            }
        }));
    });
}

fn payload_text(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panicked with a non-text payload".to_owned()
    }
}

/// Counts of each verdict, in the order pass, fail, skip, allowed.
pub fn tally<'a>(results: impl IntoIterator<Item = &'a TestResult>) -> [usize; 4] {
    let mut n = [0; 4];
    for r in results {
        n[r.verdict as usize] += 1;
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn passes() {}
    fn fails() {
        panic!("boom {}", 42);
    }
    fn skips() {
        crate::skip("needs a unicorn");
    }
    fn differs() {
        crate::convention!(1 + 1 == 3, "runc words it so");
    }
    fn hangs() {
        thread::sleep(Duration::from_secs(3));
    }

    fn t(name: &'static str, run: fn(), allowed: Option<&'static str>) -> Test {
        Test { area: "unit", name, section: "runtime.md#state", allowed_difference: allowed, run }
    }

    #[test]
    fn verdicts_from_return_panic_skip_convention_and_timeout() {
        let tests = [
            t("passes", passes, None),
            t("fails", fails, None),
            t("skips", skips, None),
            t("differs", differs, Some("wording")),
            t("differs_unregistered", differs, None),
            t("hangs", hangs, None),
        ];
        let results = run_tests(&tests, 3, Duration::from_millis(500), &|_| {});
        let got: Vec<_> = results.iter().map(|r| (r.test.name, r.verdict)).collect();
        // Under HULL_STRICT=1 (CI) a skip is a failure: that is what this run must show then.
        let strict = crate::strict();
        assert_eq!(
            got,
            [
                ("passes", Verdict::Pass),
                ("fails", Verdict::Fail),
                ("skips", if strict { Verdict::Fail } else { Verdict::Skip }),
                ("differs", Verdict::Allowed),
                ("differs_unregistered", Verdict::Fail),
                ("hangs", Verdict::Fail),
            ]
        );
        assert!(
            results[1].reason.starts_with("boom 42 (at ") && results[1].reason.contains("runner/mod.rs"),
            "{:?}",
            results[1]
        );
        assert!(results[2].reason.contains("needs a unicorn"), "{:?}", results[2]);
        assert!(results[5].reason.contains("timed out"), "{:?}", results[5]);
        assert_eq!(tally(&results), if strict { [1, 4, 0, 1] } else { [1, 3, 1, 1] });
    }

    #[test]
    fn filter_matches_id_or_section() {
        let tests = vec![t("a_b", passes, None), Test { section: "config.md#mounts", ..t("c", passes, None) }];
        assert_eq!(select(tests.clone(), Some("unit::a_")).len(), 1);
        assert_eq!(select(tests.clone(), Some("#mounts"))[0].name, "c");
        assert_eq!(select(tests, None).len(), 2);
    }
}
