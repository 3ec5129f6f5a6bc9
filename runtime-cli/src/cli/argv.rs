//! runc's flag syntax (Go's `flag` package under urfave/cli) rewritten into the one spelling clap
//! reads, before clap parses: `-root x`, `--root x`, `-root=x` and `--root=x` all become
//! `--root=x`, a boolean `-d`, `--d=1` or `-detach=true` becomes `--detach=true` (Go's
//! `ParseBool` spellings are checked here, naming the flag as typed, as Go does), and the
//! operands that end flag parsing are put after a `--`. Go's errors (unknown flag, missing value,
//! bad syntax) are reported here in Go's words, since only here is the flag seen as typed.

use clap::{Arg, ArgAction, ArgMatches, Command};

use super::defs::OPERANDS;
use super::{usage, UsageError};

/// Parses `args` (no program name) against `cmd` the way runc would.
pub fn matches(cmd: Command, args: &[String]) -> Result<ArgMatches, UsageError> {
    let normal = normalise(&cmd, args)?;
    // The operand count is checked by the caller in runc's words; clap takes any number.
    let any = |a: Arg| a.action(ArgAction::Append).num_args(0..);
    let has_operands = cmd.get_positionals().next().is_some();
    let cmd = if has_operands { cmd.mut_arg(OPERANDS, any) } else { cmd.arg(any(Arg::new(OPERANDS))) };
    cmd.no_binary_name(true).try_get_matches_from(normal).map_err(|e| usage(format!("{}", e.kind())))
}

/// `args` in clap's spelling; see the module text.
fn normalise(cmd: &Command, args: &[String]) -> Result<Vec<String>, UsageError> {
    let stop_at_operand = cmd.get_positionals().any(Arg::is_trailing_var_arg_set);
    let mut out = Vec::with_capacity(args.len() + 1);
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        if arg == "--" || (stop_at_operand && is_operand(arg)) {
            out.push("--".to_owned());
            if arg != "--" {
                out.push(arg.clone());
            }
            out.extend(it.cloned());
            break;
        }
        if is_operand(arg) {
            out.push(arg.clone());
            continue;
        }
        let body = arg.strip_prefix("--").unwrap_or(&arg[1..]);
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            return Err(usage(format!("bad flag syntax: {arg}")));
        }
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v)),
            None => (body, None),
        };
        let flag = find(cmd, name).ok_or_else(|| usage(format!("flag provided but not defined: -{name}")))?;
        let takes_value = flag.get_num_args().is_some_and(|n| n.min_values() > 0);
        let value = match (inline, takes_value) {
            (Some(v), true) => v,
            // As in Go, the next argument is the value even when it starts with a dash.
            (None, true) => it.next().ok_or_else(|| usage(format!("flag needs an argument: -{name}")))?,
            (None, false) => "true",
            (Some(v), false) => {
                go_bool(v).ok_or_else(|| usage(format!("invalid boolean value {v:?} for -{name}: parse error")))?
            }
        };
        let long = flag.get_long().unwrap_or(name);
        out.push(format!("--{long}={value}"));
    }
    Ok(out)
}

/// Go's `strconv.ParseBool`, which runc's boolean flags use, as "true" or "false".
fn go_bool(v: &str) -> Option<&'static str> {
    match v {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some("true"),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some("false"),
        _ => None,
    }
}

/// Go's flag parser takes `-` and anything not starting with a dash as an operand.
fn is_operand(arg: &str) -> bool {
    arg == "-" || !arg.starts_with('-')
}

/// The flag `name` (as typed, without dashes): a one-letter name is a short one, as in urfave/cli.
fn find<'a>(cmd: &'a Command, name: &str) -> Option<&'a Arg> {
    let mut chars = name.chars();
    let short = match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    };
    cmd.get_arguments().find(|a| match short {
        Some(c) => a.get_short() == Some(c),
        None => a.get_long() == Some(name),
    })
}
