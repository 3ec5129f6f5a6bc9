//! `--help` and `help COMMAND` in runc's layout (urfave/cli's sections NAME, USAGE, COMMANDS,
//! OPTIONS, flags as `--name value, -n value`), worded for hull. Everything shown comes from the
//! parser's clap definitions (`cli::defs`), so every flag hull accepts is shown and none it refuses.

use clap::{Arg, Command};

use crate::cli::defs::{self, OPERANDS};

/// `--help`, `help` (None) and `help COMMAND`.
pub fn text(command: Option<&str>) -> String {
    let tree = defs::tree();
    match command.and_then(|c| tree.find_subcommand(c)) {
        None => main_help(&tree),
        Some(c) => command_help(c),
    }
}

fn main_help(tree: &Command) -> String {
    let commands: Vec<(String, String)> = tree
        .get_subcommands()
        .map(|c| {
            let names: Vec<&str> = std::iter::once(c.get_name()).chain(c.get_visible_aliases()).collect();
            (names.join(", "), c.get_about().map(ToString::to_string).unwrap_or_default())
        })
        .collect();
    format!(
        "NAME:\n   hull - {}\n\n\
         USAGE:\n   hull [global options] command [command options] [arguments...]\n\n\
         VERSION:\n   {}\n\
         COMMANDS:\n{}\n\
         GLOBAL OPTIONS:\n{}",
        about(tree),
        crate::version_text().trim_start_matches("hull version "),
        table(&commands),
        table(&flag_rows(tree, true))
    )
}

fn command_help(cmd: &Command) -> String {
    let name = cmd.get_name();
    let flags = flag_rows(cmd, false);
    let options = if flags.is_empty() { "" } else { " [command options]" };
    let args = cmd
        .get_positionals()
        .find(|a| a.get_id() == OPERANDS)
        .and_then(|a| a.get_value_names())
        .and_then(|v| v.first())
        .map_or("", |v| v.as_str());
    let sep = if args.is_empty() { "" } else { " " };
    let mut out = format!("NAME:\n   hull {name} - {}\n\nUSAGE:\n   hull {name}{options}{sep}{args}\n", about(cmd));
    if let Some(d) = cmd.get_long_about() {
        out.push_str("\nDESCRIPTION:\n");
        out.extend(d.to_string().lines().map(|l| format!("   {l}\n")));
    }
    if !flags.is_empty() {
        out.push_str(&format!("\nOPTIONS:\n{}", table(&flags)));
    }
    out
}

fn about(cmd: &Command) -> String {
    cmd.get_about().map(ToString::to_string).unwrap_or_default()
}

/// The flags of `cmd`; `--help` only where `with_help` (the global list shows it, runc's command
/// help does not).
fn flag_rows(cmd: &Command, with_help: bool) -> Vec<(String, String)> {
    cmd.get_arguments()
        .filter(|a| !a.is_positional() && (with_help || a.get_id() != "help"))
        .map(|a| (flag_column(a), a.get_help().map(ToString::to_string).unwrap_or_default()))
        .collect()
}

/// `--bundle value, -b value`, `--tty, -t`: urfave/cli's way of showing a flag's names.
fn flag_column(flag: &Arg) -> String {
    let takes_value = flag.get_num_args().is_some_and(|n| n.min_values() > 0);
    let value = if takes_value { " value" } else { "" };
    let long = flag.get_long().map(|l| format!("--{l}{value}"));
    let short = flag.get_short().map(|s| format!("-{s}{value}"));
    long.into_iter().chain(short).collect::<Vec<_>>().join(", ")
}

/// Two columns, the first padded to the widest entry, each row indented by three spaces.
fn table(rows: &[(String, String)]) -> String {
    let width = rows.iter().map(|(l, _)| l.len()).max().unwrap_or(0);
    rows.iter().map(|(l, r)| format!("   {}\n", format!("{l:<width$}  {r}").trim_end())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_and_flag_is_described() {
        let tree = defs::tree();
        let all = std::iter::once(&tree).chain(tree.get_subcommands());
        for cmd in all {
            assert!(cmd.get_about().is_some(), "no summary for {}", cmd.get_name());
            for flag in cmd.get_arguments().filter(|a| !a.is_positional()) {
                assert!(flag.get_help().is_some(), "{} --{}", cmd.get_name(), flag.get_id());
            }
        }
    }

    #[test]
    fn flags_in_urfave_form() {
        let tree = defs::tree();
        let flag = |cmd: &str, id: &str| {
            let c = tree.find_subcommand(cmd).unwrap_or(&tree);
            flag_column(c.get_arguments().find(|a| a.get_id() == id).unwrap())
        };
        assert_eq!(flag("create", "bundle"), "--bundle value, -b value");
        assert_eq!(flag("exec", "tty"), "--tty, -t");
        assert_eq!(flag("", "debug"), "--debug");
    }

    /// clap's own consistency checks of the definitions (debug builds panic on a bad one).
    #[test]
    fn definitions_are_valid_clap() {
        defs::tree().debug_assert();
    }

    #[test]
    fn layout_like_runc() {
        let main = text(None);
        assert!(main.starts_with("NAME:\n   hull - "), "{main}");
        assert!(main.contains("\nUSAGE:\n   hull [global options] command [command options] [arguments...]\n"));
        assert!(main.contains("\n   help, h  "), "{main}");
        assert!(main.contains("\n   --log-format value  "), "{main}");
        let create = text(Some("create"));
        assert!(create.starts_with("NAME:\n   hull create - "), "{create}");
        assert!(create.contains("\nUSAGE:\n   hull create [command options] <container-id>\n"), "{create}");
        assert!(create.contains("\n   --bundle value, -b value  "), "{create}");
        assert!(!create.contains("--help"), "{create}");
        let start = text(Some("start"));
        assert!(start.contains("\nUSAGE:\n   hull start <container-id>\n") && !start.contains("OPTIONS"), "{start}");
        let run = text(Some("run"));
        assert!(run.contains("\n   --keep  ") || run.contains("\n   --keep "), "{run}");
    }
}
