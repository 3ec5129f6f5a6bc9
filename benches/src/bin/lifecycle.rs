//! `lifecycle`: hull against runc and crun, whole-process, in the same run.
//!
//! Three roles of one program: the outer process (owns the scratch dir and the cgroup subtree,
//! removes both at the end from the host's view), the inner one re-executed under `unshare -m`
//! (hides cgroup2, runs the suite, prints the report) and a worker per measured container.

use std::path::PathBuf;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use benches::measure::{self, Mode, Target};
use benches::suite::{self, Plan};
use benches::{cgroups, load, runtimes};
use nix::sys::signal::{kill, sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;

const USAGE: &str = "usage: lifecycle [--runs N] [--warmup N] [--runtimes hull,runc,crun|NAME=PATH,...] \
[--hull PATH] [--json PATH] [--timeout-ms MS] [--load N]";

/// The user's flags, plus the two the outer process hands the inner one.
#[derive(Debug)]
struct Args {
    runs: usize,
    warmup: usize,
    runtimes: Vec<String>,
    hull: PathBuf,
    json: Option<PathBuf>,
    timeout: Duration,
    /// Containers started at once for the load figures; 0 skips them.
    load: usize,
    /// Set only in the inner process: (workdir, cgroup parent).
    inner: Option<(PathBuf, String)>,
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.iter().any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    let result = if argv.first().map(String::as_str) == Some("--worker") {
        worker(&argv[1..]).map(|()| ExitCode::SUCCESS)
    } else {
        parse(&argv).and_then(|args| match &args.inner {
            Some((workdir, parent)) => inner(&args, workdir.clone(), parent.clone()),
            None => outer(&argv),
        })
    };
    result.unwrap_or_else(|e| {
        eprintln!("lifecycle: {e:#}");
        ExitCode::FAILURE
    })
}

fn parse(argv: &[String]) -> Result<Args> {
    let mut args = Args {
        runs: 40,
        warmup: 5,
        runtimes: vec!["hull".into(), "runc".into(), "crun".into()],
        hull: runtimes::default_hull(),
        json: None,
        timeout: Duration::from_secs(10),
        load: 100,
        inner: None,
    };
    let (mut workdir, mut parent) = (None, None);
    let mut it = argv.iter();
    while let Some(flag) = it.next() {
        let (flag, inline) = match flag.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (flag.as_str(), None),
        };
        let mut value =
            || inline.clone().or_else(|| it.next().cloned()).with_context(|| format!("{flag} needs a value"));
        match flag {
            "--runs" => args.runs = number(flag, &value()?)?,
            "--warmup" => args.warmup = number(flag, &value()?)?,
            "--runtimes" => args.runtimes = value()?.split(',').filter(|s| !s.is_empty()).map(String::from).collect(),
            "--hull" => args.hull = PathBuf::from(value()?),
            "--json" => args.json = Some(PathBuf::from(value()?)),
            "--load" => args.load = number(flag, &value()?)?,
            "--timeout-ms" => args.timeout = Duration::from_millis(number(flag, &value()?)? as u64),
            "--inner-workdir" => workdir = Some(PathBuf::from(value()?)),
            "--inner-cgroup-parent" => parent = Some(value()?),
            other => bail!("unknown argument {other:?} (see --help)"),
        }
    }
    if args.runs == 0 || args.runtimes.is_empty() || args.timeout.is_zero() {
        bail!("--runs, --runtimes and --timeout-ms must not be empty or zero");
    }
    let mut names = Vec::new();
    for spec in &args.runtimes {
        let (name, _) = runtimes::locate(spec, &args.hull)?;
        // Each name owns a state dir and a cgroup subtree; "floor" names the no-runtime row.
        if names.contains(&name) || name == "floor" {
            bail!("--runtimes: {name:?} given twice or reserved");
        }
        names.push(name);
    }
    // Found out now rather than after minutes of measuring.
    if let Some(dir) = args.json.as_ref().and_then(|p| p.parent()).filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            bail!("--json: directory {} does not exist", dir.display());
        }
    }
    args.inner = workdir.zip(parent);
    Ok(args)
}

fn number(flag: &str, text: &str) -> Result<usize> {
    text.parse().with_context(|| format!("{flag} wants a whole number, not {text:?}"))
}

/// Owns the scratch dir and `/hull-bench-<pid>` in every cgroup hierarchy; runs the inner process
/// in a private mount namespace and removes both afterwards, whatever happened inside.
fn outer(argv: &[String]) -> Result<ExitCode> {
    if !nix::unistd::Uid::effective().is_root() {
        bail!("must run as root: every runtime creates namespaces and cgroups");
    }
    let pid = std::process::id();
    let parent = format!("/hull-bench-{pid}");
    if let Some(taken) = cgroups::dirs_of(&parent)?.into_iter().find(|d| d.exists()) {
        bail!("{} already exists and is not ours to use", taken.display());
    }
    let workdir = std::env::temp_dir().join(format!("hull-bench-{pid}"));
    std::fs::create_dir(&workdir).with_context(|| format!("creating {}", workdir.display()))?;
    // Runtimes still running when the inner process dies (Ctrl-C) are re-parented to us, so we
    // can end them before removing the cgroups they might still create.
    nix::sys::prctl::set_child_subreaper(true).context("PR_SET_CHILD_SUBREAPER")?;
    let exe = std::env::current_exe().context("locating this program")?;
    let status = Command::new("unshare")
        .args(["--mount", "--propagation", "private", "--"])
        .arg(exe)
        .args(argv)
        .arg("--inner-workdir")
        .arg(&workdir)
        .arg("--inner-cgroup-parent")
        .arg(&parent)
        .spawn()
        .and_then(|mut inner| {
            // Ctrl-C or a kill then ends the inner process only; we stay to clean up. Blocked
            // after the spawn so the inner process keeps the default dispositions.
            let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&stop_signals()), None);
            inner.wait()
        })
        .context("running unshare --mount (util-linux)");
    end_stragglers();
    let cleaned = clean_up(&workdir, &parent);
    let status = status?;
    cleaned?;
    Ok(if status.success() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// Kills and reaps every process left re-parented to us (none after a normal run), until none is left.
fn end_stragglers() {
    let me = std::process::id();
    let children = format!("/proc/{me}/task/{me}/children");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        let listed = std::fs::read_to_string(&children).unwrap_or_default();
        for pid in listed.split_whitespace().filter_map(|p| p.parse::<i32>().ok()) {
            let _ = kill(Pid::from_raw(pid), Signal::SIGKILL);
        }
        loop {
            match waitpid(None::<Pid>, Some(WaitPidFlag::WNOHANG)) {
                Ok(WaitStatus::StillAlive) => break,
                Ok(_) => continue,
                Err(_) => return, // ECHILD: nothing left
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn stop_signals() -> SigSet {
    let mut set = SigSet::empty();
    for signal in [Signal::SIGINT, Signal::SIGTERM, Signal::SIGHUP, Signal::SIGQUIT] {
        set.add(signal);
    }
    set
}

fn clean_up(workdir: &PathBuf, parent: &str) -> Result<()> {
    let mut failures = Vec::new();
    for dir in cgroups::dirs_of(parent)? {
        if let Err(e) = cgroups::remove_tree(&dir) {
            failures.push(format!("{e:#}"));
        }
    }
    if let Err(e) = std::fs::remove_dir_all(workdir) {
        failures.push(format!("removing {}: {e}", workdir.display()));
    }
    if !failures.is_empty() {
        bail!("cleanup incomplete: {}", failures.join("; "));
    }
    Ok(())
}

/// Inside the private mount namespace: hide cgroup2, measure, print the report.
fn inner(args: &Args, workdir: PathBuf, cgroup_parent: String) -> Result<ExitCode> {
    cgroups::hide_unified()?;
    // State roots and bundles on a tmpfs, as a runtime's --root is in production (/run/runc,
    // /run/containerd/...): on the host's ext4 /tmp, inode allocation for the state files was a
    // tenth of every runtime's kernel time. Private to this mount namespace, gone with it.
    nix::mount::mount(Some("tmpfs"), &workdir, Some("tmpfs"), nix::mount::MsFlags::empty(), Some("mode=0700"))
        .with_context(|| format!("mounting a tmpfs on {}", workdir.display()))?;
    let plan = Plan {
        runs: args.runs,
        load: args.load,
        warmup: args.warmup,
        runtimes: args.runtimes.clone(),
        hull: args.hull.clone(),
        timeout: args.timeout,
        worker: std::env::current_exe().context("locating this program")?,
        workdir,
        cgroup_parent,
    };
    let report = suite::run(&plan)?;
    print!("{}", report.markdown());
    if let Some(path) = &args.json {
        let text = serde_json::to_string_pretty(&report.to_json()).context("serializing the report")?;
        std::fs::write(path, text + "\n").with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(if report.measured.is_empty() { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// `--worker MODE --runtime P --root R --bundle B --id ID --scratch S --timeout-ms T`: measures
/// one container and prints its sample as one JSON line.
fn worker(argv: &[String]) -> Result<()> {
    let mode = argv.first().map(String::as_str).unwrap_or("");
    let mut flags = std::collections::HashMap::new();
    for pair in argv[1..].chunks(2) {
        match pair {
            [flag, value] => flags.insert(flag.as_str(), value.clone()),
            _ => bail!("worker: {:?} has no value", pair[0]),
        };
    }
    let mut take = |flag: &str| flags.remove(flag).with_context(|| format!("worker needs {flag}"));
    let target = Target {
        runtime: take("--runtime")?.into(),
        root: take("--root")?.into(),
        bundle: take("--bundle")?.into(),
        id: take("--id")?,
        scratch: take("--scratch")?.into(),
        timeout: Duration::from_millis(number("--timeout-ms", &take("--timeout-ms")?)? as u64),
    };
    if mode == "load" {
        let t = &target;
        let kind = load::Kind::parse(&take("--kind")?)?;
        let sample = load::measure(kind, &t.runtime, &t.root, &t.bundle, &t.id, &t.scratch, t.timeout)?;
        println!("{}", sample.to_json());
    } else {
        println!("{}", measure::measure(Mode::parse(mode)?, &target)?.to_json());
    }
    Ok(())
}
