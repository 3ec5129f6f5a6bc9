//! `conformance`: runs the registered suite against one or more runc-compatible runtimes and reports TAP,
//! JSON or JUnit, or writes the Markdown matrix. Exit status: 0 when nothing failed, 1 when a test failed,
//! 2 on bad usage.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::Duration;

use conformance::runner::matrix::{self, Header, RuntimeRun};
use conformance::runner::report::{self, one_line, Format};
use conformance::runner::{run_one, run_tests, select_excluding, tally, TestResult, Verdict};
use conformance::suite::{self, Test};
use conformance::{Case, RuntimeUnderTest};

const USAGE: &str = "usage: conformance [--runtime [NAME=]PATH]... [--filter SUBSTR[,..]] [--exclude SUBSTR[,..]] [--format tap|json|junit] \
[--jobs N] [--timeout SECS] [--probe PATH] [--matrix-out FILE] [--list]";

struct Options {
    runtimes: Vec<(String, PathBuf)>,
    filter: Option<String>,
    exclude: Option<String>,
    format: Format,
    jobs: usize,
    timeout: Duration,
    probe: Option<PathBuf>,
    matrix_out: Option<PathBuf>,
    list: bool,
}

fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        runtimes: Vec::new(),
        filter: None,
        exclude: None,
        format: Format::Tap,
        jobs: 2,
        timeout: Duration::from_secs(120),
        probe: None,
        matrix_out: None,
        list: false,
    };
    let mut it = args.iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().cloned().ok_or_else(|| format!("{flag} needs a value"));
        match flag.as_str() {
            "--runtime" => o.runtimes.push(named_runtime(&value()?)),
            "--filter" => o.filter = Some(value()?),
            "--exclude" => o.exclude = Some(value()?),
            "--format" => o.format = value()?.parse()?,
            "--jobs" => o.jobs = value()?.parse().ok().filter(|n| *n > 0).ok_or("--jobs wants a positive number")?,
            "--timeout" => {
                let secs: u64 = value()?.parse().ok().filter(|n| *n > 0).ok_or("--timeout wants seconds > 0")?;
                o.timeout = Duration::from_secs(secs);
            }
            "--probe" => o.probe = Some(absolute(&value()?)),
            "--matrix-out" => o.matrix_out = Some(value()?.into()),
            "--list" => o.list = true,
            "-h" | "--help" => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?} (see --help)")),
        }
    }
    if o.runtimes.is_empty() {
        o.runtimes.push(named_runtime(&RuntimeUnderTest::binary_from_env().to_string_lossy()));
    }
    if o.runtimes.len() > 1 && o.matrix_out.is_none() {
        return Err("several --runtime need --matrix-out (the reports cover one runtime)".to_owned());
    }
    Ok(o)
}

/// `NAME=PATH`, or a bare `PATH` named after its file name. The path is made absolute: some tests run the
/// runtime from another working directory.
fn named_runtime(arg: &str) -> (String, PathBuf) {
    match arg.split_once('=') {
        Some((name, path)) if !name.contains('/') => (name.to_owned(), absolute(path)),
        _ => {
            let path = absolute(arg);
            let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| arg.to_owned());
            (name, path)
        }
    }
}

fn absolute(path: &str) -> PathBuf {
    std::path::absolute(path).unwrap_or_else(|_| path.into())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("conformance: {e}");
            return ExitCode::from(2);
        }
    };
    let tests = select_excluding(suite::all(), o.filter.as_deref(), o.exclude.as_deref());
    if cfg!(panic = "abort") && !o.list {
        // A failing test is a panic that the runner catches; with the workspace's release profile
        // (panic = "abort") the first failure would kill the whole run.
        eprintln!(
            "conformance: built with panic=abort (the release profile); build the runner with \
             `cargo run -p conformance` or `cargo run --profile conformance -p conformance`"
        );
        return ExitCode::from(2);
    }
    if o.list {
        for t in &tests {
            println!("{}\t{}::{}", t.section, t.area, t.name);
        }
        return ExitCode::SUCCESS;
    }
    if let Some(p) = &o.probe {
        // Still single-threaded: nothing else reads the environment yet.
        std::env::set_var("PROBE", p);
    }
    if let Err(e) = conformance::try_probe_path() {
        eprintln!("conformance: no static probe ({e}); pass --probe PATH");
        return ExitCode::from(2);
    }
    let runs: Vec<RuntimeRun> = o.runtimes.iter().map(|(name, bin)| run_runtime(name, bin, &tests, &o)).collect();
    let failed = runs.iter().any(|r| r.results.iter().any(|x| x.verdict == Verdict::Fail));
    if let Some(path) = &o.matrix_out {
        let header =
            Header { generated: now(), machine: machine(), command: format!("conformance {}", args.join(" ")) };
        if let Err(e) = std::fs::write(path, matrix::render(&header, &runs)) {
            eprintln!("conformance: writing {}: {e}", path.display());
            return ExitCode::from(2);
        }
    }
    match runs.as_slice() {
        [one] => print!("{}", report::render(o.format, &one.results)),
        _ => {
            for r in &runs {
                let [p, f, s, a] = tally(&r.results);
                println!("{}: pass {p}, fail {f}, skip {s}, allowed differences {a}", r.name);
            }
        }
    }
    if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn run_runtime(name: &str, bin: &std::path::Path, tests: &[Test], o: &Options) -> RuntimeRun {
    conformance::runtime::select_binary(bin);
    let version = Command::new(bin)
        .arg("--version")
        .output()
        .map(|out| one_line(&String::from_utf8_lossy(&out.stdout)))
        .unwrap_or_else(|e| format!("--version failed: {e}"));
    let could_not_run = smoke(o.timeout);
    if let Some(e) = &could_not_run {
        eprintln!("conformance: {name} could not run a plain container: {e}");
    }
    let total = tests.len();
    let done = std::sync::atomic::AtomicUsize::new(0);
    let progress = |r: &TestResult| {
        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let why = if r.verdict == Verdict::Pass { String::new() } else { format!(": {}", report::brief(&r.reason)) };
        eprintln!("[{name} {n}/{total}] {} {} ({} ms){why}", r.verdict.word(), r.id(), r.duration.as_millis());
    };
    let results = run_tests(tests, o.jobs, o.timeout, &progress);
    RuntimeRun { name: name.to_owned(), binary: bin.display().to_string(), version, could_not_run, results }
}

/// Runs `/probe exit 0` with `run`; the runtime's error line when that fails.
fn smoke(timeout: Duration) -> Option<String> {
    fn plain_container() {
        let c = Case::new();
        c.build(c.bundle().args(&["/probe", "exit", "0"]));
        let o = c.run(&[]);
        let last = o.error_lines().last().map(|l| l.to_string()).unwrap_or_default();
        assert!(o.success(), "exit {:?}: {last}", o.code);
    }
    let t = Test {
        area: "smoke",
        name: "plain_container",
        section: "runtime.md#lifecycle",
        allowed_difference: None,
        run: plain_container,
    };
    let r = run_one(t, timeout);
    (r.verdict != Verdict::Pass).then(|| one_line(&r.reason))
}

fn now() -> String {
    Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// Kernel, CPU count and cgroup layout of this host.
fn machine() -> String {
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default().trim().to_owned();
    let cpus = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let cgroup = if std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists() {
        "cgroup v2"
    } else if std::path::Path::new("/sys/fs/cgroup/unified").is_dir() {
        "cgroup v1 (hybrid: cgroup2 at /sys/fs/cgroup/unified)"
    } else {
        "cgroup v1"
    };
    format!("Linux {kernel}, {cpus} CPUs, {cgroup}")
}
