//! runc's log lines: errors and debug records in logrus text or JSON form, appended to `--log`
//! (errors also go to stderr, plain when a log file is set, formatted when not; debug records go
//! to stderr, formatted, when there is no log file).

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::SystemTime;

use crate::cli::LogFormat;

/// Where the runtime's own messages go.
#[derive(Debug)]
pub struct Logger {
    file: Option<File>,
    format: LogFormat,
    debug: bool,
}

impl Logger {
    /// Opens (appends to, creating it 0644) the `--log` file if one is given.
    pub fn open(path: Option<&Path>, format: LogFormat, debug: bool) -> std::io::Result<Logger> {
        let file = match path {
            Some(p) => Some(open_append(p)?),
            None => None,
        };
        Ok(Logger { file, format, debug })
    }

    /// A logger that only writes errors to stderr in `format` (for errors before `--log` is known).
    pub fn stderr(format: LogFormat) -> Logger {
        Logger { file: None, format, debug: false }
    }

    /// Reports a failure: the formatted line in the log file and the bare message on stderr, or
    /// the formatted line on stderr when there is no log file (what runc does).
    pub fn error(&mut self, msg: &str) {
        // A library's own I/O error text still reads as runc's (lower-case) errno text.
        let msg = &runtime_core::go_errno_texts(msg);
        let line = format_line(self.format, "error", msg, SystemTime::now());
        match &mut self.file {
            Some(f) => {
                // Nowhere better to report a failing log write: stderr gets the message anyway.
                let _ = f.write_all(line.as_bytes());
                eprintln!("{msg}");
            }
            None => eprint!("{line}"),
        }
    }

    /// A warning (a config leniency hull accepted), written to the log file only: stderr may
    /// belong to the container or be parsed by the caller.
    pub fn warn(&mut self, msg: &str) {
        if let Some(f) = &mut self.file {
            let _ = f.write_all(format_line(self.format, "warning", msg, SystemTime::now()).as_bytes());
        }
    }

    /// A debug record, only with `--debug`: to the log file, or to stderr without one (runc's
    /// log goes to stderr by default).
    pub fn debug(&mut self, msg: &str) {
        if !self.debug {
            return;
        }
        let line = format_line(self.format, "debug", msg, SystemTime::now());
        match &mut self.file {
            Some(f) => {
                let _ = f.write_all(line.as_bytes());
            }
            None => {
                let _ = std::io::stderr().lock().write_all(line.as_bytes());
            }
        }
    }
}

/// The log may live in a directory another user can write: never follow or create through a
/// planted symlink there (runtime_core::hostfile).
fn open_append(p: &Path) -> std::io::Result<File> {
    runtime_core::hostfile::open_append(p, 0o644).map_err(|e| match e.errno {
        0 => std::io::Error::other(e.to_string()),
        n => std::io::Error::from_raw_os_error(n),
    })
}

/// One log line, newline included, in runc's (logrus's) layout.
pub fn format_line(format: LogFormat, level: &str, msg: &str, at: SystemTime) -> String {
    let time = rfc3339(at);
    match format {
        LogFormat::Json => {
            // logrus sorts keys: level, msg, time.
            let s = |v: &str| serde_json::Value::from(v).to_string();
            format!("{{\"level\":{},\"msg\":{},\"time\":{}}}\n", s(level), s(msg), s(&time))
        }
        LogFormat::Text => format!("time={} level={} msg={}\n", quote(&time), quote(level), quote(msg)),
    }
}

/// `at` as RFC 3339 in UTC with whole seconds (logrus's default): `2026-11-25T18:44:36Z`.
pub fn rfc3339(at: SystemTime) -> String {
    humantime::format_rfc3339_seconds(at).to_string()
}

/// logrus quotes a value (Go `%q`) unless it is made only of `[A-Za-z0-9-._/@^+]`.
fn quote(v: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-._/@^+".contains(c);
    if !v.is_empty() && v.chars().all(plain) {
        return v.to_owned();
    }
    let mut out = String::with_capacity(v.len() + 2);
    out.push('"');
    for c in v.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    fn at(secs: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn rfc3339_dates() {
        assert_eq!(rfc3339(at(0)), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(at(951_782_400)), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(at(1_798_310_676)), "2026-12-26T18:44:36Z");
        assert_eq!(rfc3339(at(1_795_632_276)), "2026-11-25T18:44:36Z");
        assert_eq!(rfc3339(at(4_107_542_399)), "2100-02-28T23:59:59Z");
    }

    #[test]
    fn text_line_like_logrus() {
        let l = format_line(LogFormat::Text, "error", "container does not exist", at(1_795_632_276));
        assert_eq!(l, "time=\"2026-11-25T18:44:36Z\" level=error msg=\"container does not exist\"\n");
        let l = format_line(LogFormat::Text, "error", r#"unknown signal "FOO""#, at(0));
        assert_eq!(l, "time=\"1970-01-01T00:00:00Z\" level=error msg=\"unknown signal \\\"FOO\\\"\"\n");
        let l = format_line(LogFormat::Text, "debug", "plain", at(0));
        assert_eq!(l, "time=\"1970-01-01T00:00:00Z\" level=debug msg=plain\n");
    }

    #[test]
    fn text_quoting_escapes_controls() {
        assert_eq!(quote("a\nb\\c\u{1b}"), "\"a\\nb\\\\c\\x1b\"");
        assert_eq!(quote(""), "\"\"");
        assert_eq!(quote("é"), "\"é\"");
    }

    #[test]
    fn json_line_like_logrus() {
        let l = format_line(LogFormat::Json, "error", "container does not exist", at(1_795_632_276));
        assert_eq!(l, "{\"level\":\"error\",\"msg\":\"container does not exist\",\"time\":\"2026-11-25T18:44:36Z\"}\n");
        let l = format_line(LogFormat::Json, "error", "a \"q\"\nb", at(0));
        let v: serde_json::Value = serde_json::from_str(l.trim_end()).unwrap();
        assert_eq!(v["msg"], "a \"q\"\nb");
        assert_eq!(v["level"], "error");
        assert_eq!(v["time"], "1970-01-01T00:00:00Z");
    }

    #[test]
    fn log_file_is_appended_and_debug_needs_the_flag() {
        let dir = std::env::temp_dir().join(format!("hull-logging-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log.json");
        let _ = std::fs::remove_file(&path);
        Logger::open(Some(&path), LogFormat::Json, false).unwrap().error("first");
        let mut l = Logger::open(Some(&path), LogFormat::Json, false).unwrap();
        l.debug("not written");
        l.error("second");
        let mut l = Logger::open(Some(&path), LogFormat::Json, true).unwrap();
        l.debug("written");
        let text = std::fs::read_to_string(&path).unwrap();
        let msgs: Vec<String> = text
            .lines()
            .map(|line| serde_json::from_str::<serde_json::Value>(line).unwrap()["msg"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(msgs, ["first", "second", "written"]);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// Issue 14: a --log path in a directory another user can write is never followed through a
    /// planted symlink, neither onto an existing file nor to create a new one.
    #[test]
    fn log_in_a_foreign_directory_is_not_opened_through_a_symlink() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("hull-logging-foreign-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        std::os::unix::fs::symlink(&victim, dir.join("log")).unwrap();
        std::os::unix::fs::symlink(dir.join("made-by-root"), dir.join("dangling")).unwrap();
        for name in ["log", "dangling"] {
            if let Ok(mut l) = Logger::open(Some(&dir.join(name)), LogFormat::Text, false) {
                l.warn("written through a symlink");
            }
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(!dir.join("made-by-root").exists(), "created through a dangling symlink");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
