//! Unit tests of the command-line parser: every flag form runc's callers use.

use super::*;

fn p(line: &str) -> Result<Invocation, UsageError> {
    let args: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
    parse(&args, Path::new("/cwd"))
}

fn cmd(line: &str) -> Command {
    p(line).unwrap().command
}

fn err(line: &str) -> String {
    p(line).unwrap_err().0
}

#[test]
fn global_flags_in_every_spelling() {
    for line in [
        "--root /r state x",
        "--root=/r state x",
        "-root /r state x",
        "-root=/r state x",
        "--root /other --root=/r state x",
    ] {
        assert_eq!(p(line).unwrap().global.root, PathBuf::from("/r"), "{line}");
    }
    let g = p("--log l.json --log-format=json --debug --systemd-cgroup --rootless=false --criu /x state c").unwrap();
    assert_eq!(g.global.log, Some(PathBuf::from("/cwd/l.json")));
    assert_eq!(g.global.log_format, LogFormat::Json);
    assert!(g.global.debug && g.global.systemd_cgroup);
    assert_eq!(g.global.rootless, Rootless::False);
    assert_eq!(p("--root rel state c").unwrap().global.root, PathBuf::from("/cwd/rel"));
    assert_eq!(p("state c").unwrap().global, Global::default());
    assert!(!p("--debug=false --systemd-cgroup --systemd-cgroup state c").unwrap().global.debug);
    assert_eq!(p("--rootless true state c").unwrap().global.rootless, Rootless::True);
}

#[test]
fn bad_global_flags() {
    assert_eq!(err("--bogus state x"), "flag provided but not defined: -bogus");
    assert_eq!(err("--root"), "flag needs an argument: -root");
    assert_eq!(err("--log-format xml state x"), "invalid log-format: xml");
    assert_eq!(err("--debug=maybe state x"), r#"invalid boolean value "maybe" for -debug: parse error"#);
    assert!(err("--rootless maybe state x").contains("--rootless"));
    assert_eq!(err("---root x state y"), "bad flag syntax: ---root");
    assert_eq!(err("--=x state y"), "bad flag syntax: --=x");
    assert_eq!(err("bogus"), r#"unknown command "bogus""#);
    // Global flags belong before the subcommand.
    assert_eq!(err("state --root /r x"), "flag provided but not defined: -root");
}

#[test]
fn version_and_help() {
    assert_eq!(cmd("--version"), Command::Version);
    assert_eq!(cmd("-v"), Command::Version);
    assert_eq!(cmd("--root /x -v state c"), Command::Version);
    assert_eq!(cmd(""), Command::Help(None));
    assert_eq!(cmd("-h"), Command::Help(None));
    assert_eq!(cmd("help"), Command::Help(None));
    assert_eq!(cmd("help state"), Command::Help(Some("state".into())));
    assert_eq!(cmd("h state"), Command::Help(Some("state".into())));
    assert_eq!(cmd("help checkpoint"), Command::Unsupported("checkpoint"));
    assert_eq!(err("help bogus"), "No help topic for 'bogus'");
    assert_eq!(cmd("state --help"), Command::Help(Some("state".into())));
    assert_eq!(cmd("kill -h"), Command::Help(Some("kill".into())));
}

#[test]
fn create_flags_and_aliases() {
    let Command::Create(c) = cmd(
        "create --bundle /b --pid-file p.pid --console-socket=/s --preserve-fds 2 --no-pivot --no-new-keyring=true c1",
    ) else {
        panic!()
    };
    assert_eq!(c.id, "c1");
    assert_eq!(c.bundle, PathBuf::from("/b"));
    assert_eq!(c.pid_file, Some(PathBuf::from("/cwd/p.pid")));
    assert_eq!(c.console_socket, Some(PathBuf::from("/s")));
    assert_eq!(c.preserve_fds, 2);
    assert!(c.no_pivot && c.no_new_keyring);
    for line in [
        "create -b b c1",
        "create -b=b c1",
        "create -bundle b c1",
        "create c1 --bundle b",
        "create --bundle=/x -b b c1",
    ] {
        let Command::Create(c) = cmd(line) else { panic!() };
        assert_eq!(c.bundle, PathBuf::from("/cwd/b"), "{line}");
        assert_eq!(c.id, "c1");
    }
    let Command::Create(c) = cmd("create c1") else { panic!() };
    assert_eq!(c.bundle, PathBuf::from("/cwd"));
    assert_eq!(c.pid_file, None);
    assert_eq!(c.preserve_fds, 0);
    // A value flag takes the next argument even when it looks like a flag.
    let Command::Create(c) = cmd("create --pid-file --no-pivot c1") else { panic!() };
    assert_eq!(c.pid_file, Some(PathBuf::from("/cwd/--no-pivot")));
    assert!(!c.no_pivot);
}

#[test]
fn create_errors() {
    assert_eq!(err("create"), r#"hull: "create" requires exactly 1 argument(s)"#);
    assert_eq!(err("create a b"), r#"hull: "create" requires exactly 1 argument(s)"#);
    assert_eq!(err("create --pid-file"), "flag needs an argument: -pid-file");
    assert_eq!(err("create --preserve-fds x c"), r#"invalid value "x" for flag -preserve-fds: parse error"#);
    assert_eq!(err("create --preserve-fds -1 c"), r#"invalid value "-1" for flag -preserve-fds: parse error"#);
    assert_eq!(err("create --keep c"), "flag provided but not defined: -keep");
}

#[test]
fn run_flags() {
    let Command::Run(r) = cmd("run -d --keep -no-subreaper -b /b c1") else { panic!() };
    assert!(r.detach && r.keep && r.no_subreaper);
    assert_eq!(r.create.bundle, PathBuf::from("/b"));
    let Command::Run(r) = cmd("run --detach=false c1") else { panic!() };
    assert!(!r.detach && !r.keep);
}

#[test]
fn kill_stops_parsing_after_the_id() {
    assert_eq!(cmd("kill c1"), Command::Kill { id: "c1".into(), signal: "SIGTERM".into(), all: false });
    assert_eq!(cmd("kill -a c1 9"), Command::Kill { id: "c1".into(), signal: "9".into(), all: true });
    assert_eq!(cmd("kill --all=true c1 KILL"), Command::Kill { id: "c1".into(), signal: "KILL".into(), all: true });
    // After the id, "-9" is the signal, not a flag.
    assert_eq!(cmd("kill c1 -9"), Command::Kill { id: "c1".into(), signal: "-9".into(), all: false });
    assert_eq!(err("kill c1 -a 9"), r#"hull: "kill" requires a maximum of 2 argument(s)"#);
    assert_eq!(err("kill"), r#"hull: "kill" requires a minimum of 1 argument(s)"#);
}

#[test]
fn delete_list_spec() {
    assert_eq!(cmd("delete -f c1"), Command::Delete { id: "c1".into(), force: true });
    assert_eq!(cmd("delete c1 --force"), Command::Delete { id: "c1".into(), force: true });
    assert_eq!(cmd("delete --force=false c1"), Command::Delete { id: "c1".into(), force: false });
    assert_eq!(cmd("delete -- -f"), Command::Delete { id: "-f".into(), force: false });
    assert_eq!(err("delete --force false c1"), r#"hull: "delete" requires exactly 1 argument(s)"#);
    assert_eq!(cmd("list"), Command::List { format: ListFormat::Table, quiet: false });
    assert_eq!(cmd("list --format=json -q"), Command::List { format: ListFormat::Json, quiet: true });
    assert_eq!(cmd("list -f json"), Command::List { format: ListFormat::Json, quiet: false });
    assert_eq!(cmd("list -f json --format table"), Command::List { format: ListFormat::Table, quiet: false });
    assert_eq!(err("list -f yaml"), "invalid format option");
    assert_eq!(err("list x"), r#"hull: "list" requires exactly 0 argument(s)"#);
    assert_eq!(cmd("spec"), Command::Spec { bundle: "/cwd".into(), rootless: false });
    assert_eq!(cmd("spec -b b --rootless"), Command::Spec { bundle: "/cwd/b".into(), rootless: true });
    assert_eq!(cmd("features"), Command::Features);
    assert_eq!(err("features x"), r#"hull: "features" requires exactly 0 argument(s)"#);
}

#[test]
fn simple_commands_take_one_id() {
    assert_eq!(cmd("start c"), Command::Start { id: "c".into() });
    assert_eq!(cmd("state c"), Command::State { id: "c".into() });
    assert_eq!(cmd("pause c"), Command::Pause { id: "c".into() });
    assert_eq!(cmd("resume c"), Command::Resume { id: "c".into() });
    assert_eq!(err("state"), r#"hull: "state" requires exactly 1 argument(s)"#);
    assert_eq!(err("state a b"), r#"hull: "state" requires exactly 1 argument(s)"#);
    assert_eq!(err("state --foo x"), "flag provided but not defined: -foo");
    // "-" alone is an argument, as in Go.
    assert_eq!(cmd("state -"), Command::State { id: "-".into() });
}

#[test]
fn unsupported_commands_parse_nothing() {
    for c in ["checkpoint", "restore"] {
        assert_eq!(cmd(&format!("{c} --whatever -x y")), Command::Unsupported(c));
    }
    assert_eq!(cmd("checkpoint --help"), Command::Unsupported("checkpoint"));
    assert_eq!(cmd("restore --lsm-mount-context"), Command::Unsupported("restore"));
}

#[test]
fn exec_flags_repeat_and_the_command_is_never_parsed() {
    let Command::Exec(a) = cmd("exec -e A=1 --env=B=2 -t -u 1000:10 -c CAP_KILL --cap CAP_CHOWN -d c1 ls -l --tty")
    else {
        panic!("not exec")
    };
    assert_eq!(a.id, "c1");
    assert_eq!(a.command, ["ls", "-l", "--tty"]);
    assert_eq!(a.env, ["A=1", "B=2"]);
    assert_eq!(a.caps, ["CAP_KILL", "CAP_CHOWN"]);
    assert!(a.tty && a.detach);
    assert_eq!(a.user.as_deref(), Some("1000:10"));
    let Command::Exec(p) = cmd("exec --process /p.json c1") else { panic!("not exec") };
    assert_eq!(p.process.as_deref(), Some(std::path::Path::new("/p.json")));
    assert!(p.command.is_empty());
}

#[test]
fn go_spellings_clap_does_not_know() {
    // Go has no combined short flags and no attached short values.
    assert_eq!(err("exec -dt c1 sh"), "flag provided but not defined: -dt");
    assert_eq!(err("create -bfoo c1"), "flag provided but not defined: -bfoo");
    assert_eq!(err("create -b"), "flag needs an argument: -b");
    // A one-letter name with two dashes is still the short flag; a long name with one dash the long.
    let Command::Run(r) = cmd("run --d -keep=true -no-subreaper=0 c1") else { panic!() };
    assert!(r.detach && r.keep && !r.no_subreaper);
    assert_eq!(err("run -d=maybe c1"), r#"invalid boolean value "maybe" for -d: parse error"#);
    // As in Go, a flag's value is checked before the operands are counted.
    assert_eq!(err("run -d=maybe"), r#"invalid boolean value "maybe" for -d: parse error"#);
    // An empty value is a value, not a missing one.
    let Command::Create(c) = cmd("create --bundle= c1") else { panic!() };
    assert_eq!(c.bundle, PathBuf::from("/cwd"));
    // `--` before the command, and a second `--` after exec's id is part of the command.
    assert_eq!(cmd("-- state c"), Command::State { id: "c".into() });
    let Command::Exec(a) = cmd("exec c1 -- ls --") else { panic!() };
    assert_eq!(a.command, ["--", "ls", "--"]);
    assert_eq!(
        cmd("ps c1 -ef"),
        Command::Ps { id: "c1".into(), format: ListFormat::Table, ps_args: vec!["-ef".into()] }
    );
}

#[test]
fn update_flags_in_order() {
    let Command::Update { id, resources, flags } = cmd("update --memory 1m -r r.json --pids-limit=5 c1 --memory 2m")
    else {
        panic!()
    };
    assert_eq!(id, "c1");
    assert_eq!(resources, Some(PathBuf::from("/cwd/r.json")));
    assert_eq!(flags, [("memory", "1m".to_owned()), ("pids-limit", "5".to_owned()), ("memory", "2m".to_owned())]);
}
