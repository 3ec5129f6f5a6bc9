//! One runtime's results as TAP 13, JSON or JUnit XML.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::json;

use super::{tally, TestResult, Verdict};

/// The report formats `--format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Tap,
    Json,
    Junit,
}

impl std::str::FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tap" => Ok(Format::Tap),
            "json" => Ok(Format::Json),
            "junit" => Ok(Format::Junit),
            other => Err(format!("unknown format {other:?} (want tap, json or junit)")),
        }
    }
}

pub fn render(format: Format, results: &[TestResult]) -> String {
    match format {
        Format::Tap => tap(results),
        Format::Json => json(results),
        Format::Junit => junit(results),
    }
}

/// TAP 13: skips as `# SKIP reason`, allowed differences as `# TODO` (reported, never counted as failures).
pub fn tap(results: &[TestResult]) -> String {
    let mut out = format!("TAP version 13\n1..{}\n", results.len());
    for (i, r) in results.iter().enumerate() {
        let n = i + 1;
        let id = r.id();
        let line = match r.verdict {
            Verdict::Pass => format!("ok {n} - {id}"),
            Verdict::Skip => format!("ok {n} - {id} # SKIP {}", one_line(&r.reason)),
            Verdict::Fail => format!("not ok {n} - {id}"),
            Verdict::Allowed => {
                format!("not ok {n} - {id} # TODO allowed difference: {}", r.test.allowed_difference.unwrap_or(""))
            }
        };
        let _ = writeln!(out, "{line}");
        if matches!(r.verdict, Verdict::Fail | Verdict::Allowed) {
            let _ = writeln!(out, "  ---\n  section: {}\n  message: {}\n  ...", r.test.section, json!(r.reason));
        }
    }
    let [pass, fail, skip, allowed] = tally(results);
    let _ = writeln!(out, "# pass {pass}, fail {fail}, skip {skip}, allowed differences {allowed}");
    out
}

/// A JSON array, one object per test.
pub fn json(results: &[TestResult]) -> String {
    let rows: Vec<_> = results
        .iter()
        .map(|r| {
            json!({
                "name": r.id(),
                "section": r.test.section,
                "result": r.verdict.word(),
                "reason": r.reason,
                "allowed_difference": r.test.allowed_difference,
                "duration_ms": r.duration.as_millis() as u64,
            })
        })
        .collect();
    let mut s = serde_json::to_string_pretty(&rows).unwrap_or_default();
    s.push('\n');
    s
}

/// JUnit XML: one `<testsuite>` per spec section; allowed differences are `<skipped>` with the reason.
pub fn junit(results: &[TestResult]) -> String {
    let mut by_section: BTreeMap<&str, Vec<&TestResult>> = BTreeMap::new();
    for r in results {
        by_section.entry(r.test.section).or_default().push(r);
    }
    let [_, fail, skip, allowed] = tally(results);
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<testsuites name=\"conformance\" tests=\"{}\" failures=\"{fail}\" skipped=\"{}\">",
        results.len(),
        skip + allowed
    );
    for (section, rs) in by_section {
        let [_, f, s, a] = tally(rs.iter().copied());
        let secs: f64 = rs.iter().map(|r| r.duration.as_secs_f64()).sum();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" skipped=\"{}\" time=\"{secs:.3}\">",
            xml(section),
            rs.len(),
            s + a
        );
        for r in rs {
            let head = format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{:.3}\"",
                xml(section),
                xml(&r.id()),
                r.duration.as_secs_f64()
            );
            let _ = match r.verdict {
                Verdict::Pass => writeln!(out, "{head}/>"),
                Verdict::Fail => writeln!(
                    out,
                    "{head}>\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                    xml(&brief(&r.reason)),
                    xml(&r.reason)
                ),
                Verdict::Skip => writeln!(out, "{head}>\n      <skipped message=\"{}\"/>\n    </testcase>", xml(&r.reason)),
                Verdict::Allowed => writeln!(
                    out,
                    "{head}>\n      <skipped message=\"allowed difference: {}\"/>\n      <system-out>{}</system-out>\n    </testcase>",
                    xml(r.test.allowed_difference.unwrap_or("")),
                    xml(&r.reason)
                ),
            };
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// The first line of a message, for places that hold one line.
pub fn one_line(text: &str) -> String {
    text.lines().next().unwrap_or("").to_owned()
}

/// A failure in one line: an [`Outcome`](crate::Outcome)'s quoted command shrinks to `<runtime> <subcommand>`,
/// and the runtime's first stderr line follows, since that is usually the reason.
pub fn brief(reason: &str) -> String {
    let first = one_line(reason);
    if first.starts_with("assertion `left ") {
        // A bare assert_eq!: the values are the message.
        let values: Vec<&str> = reason
            .lines()
            .skip(1)
            .map(str::trim)
            .filter(|l| l.starts_with("left:") || l.starts_with("right:"))
            .collect();
        return [first.as_str()].into_iter().chain(values).collect::<Vec<_>>().join("; ");
    }
    let Some((before, rest)) = first.split_once('`') else { return first };
    let Some((argv, after)) = rest.split_once("` -> ") else { return first };
    let mut words = argv.split(' ');
    let bin = words.next().and_then(|b| b.rsplit('/').next()).unwrap_or("");
    let mut sub = "";
    while let Some(w) = words.next() {
        if w == "--root" || w == "--log" || w == "--log-format" {
            words.next();
        } else if !w.starts_with('-') {
            sub = w;
            break;
        }
    }
    let stderr = reason
        .split_once("--- stderr ---\n")
        .map(|(_, e)| e.lines().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with("(at ")));
    match stderr.flatten() {
        Some(e) => format!("{before}`{bin} {sub}` -> {after}; stderr: {}", e.trim()),
        None => format!("{before}`{bin} {sub}` -> {after}"),
    }
}

fn xml(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => s.push_str("&amp;"),
            '<' => s.push_str("&lt;"),
            '>' => s.push_str("&gt;"),
            '"' => s.push_str("&quot;"),
            '\n' | '\t' => s.push(c),
            c if c.is_control() => {}
            c => s.push(c),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::suite::Test;

    fn r(name: &'static str, section: &'static str, verdict: Verdict, reason: &str) -> TestResult {
        let test = Test { area: "a", name, section, allowed_difference: Some("wording"), run: || {} };
        TestResult { test, verdict, reason: reason.to_owned(), duration: Duration::from_millis(1500) }
    }

    fn sample() -> Vec<TestResult> {
        vec![
            r("p", "runtime.md#kill", Verdict::Pass, ""),
            r("f", "runtime.md#kill", Verdict::Fail, "expected <1> & got \"2\"\nmore"),
            r("s", "config.md#mounts", Verdict::Skip, "needs cgroup v2"),
            r("d", "config.md#mounts", Verdict::Allowed, "[convention] words"),
        ]
    }

    #[test]
    fn brief_shrinks_the_command_and_adds_stderr() {
        let reason = "expected a clean failure: `/usr/bin/crun --root /run/x/root kill id SIGFOO` -> code Some(0) \
                      signal None\n--- stdout ---\n\n--- stderr ---\n\nunknown signal\n (at a.rs:1)";
        assert_eq!(
            brief(reason),
            "expected a clean failure: `crun kill` -> code Some(0) signal None; stderr: unknown signal"
        );
        assert_eq!(brief("assertion failed\nmore"), "assertion failed");
        let eq = "assertion `left == right` failed\n  left: \"\"\n right: \"x\" (at a.rs:1)";
        assert_eq!(brief(eq), "assertion `left == right` failed; left: \"\"; right: \"x\" (at a.rs:1)");
        let silent = "runtime failed: `/x/hull start id` -> code Some(1) signal None\n--- stderr ---\n\n (at a.rs:1)";
        assert_eq!(brief(silent), "runtime failed: `hull start` -> code Some(1) signal None");
    }

    #[test]
    fn tap_lines() {
        let t = tap(&sample());
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines[..3], ["TAP version 13", "1..4", "ok 1 - a::p"]);
        assert!(t.contains("\nnot ok 2 - a::f\n  ---\n  section: runtime.md#kill\n"), "{t}");
        assert!(t.contains("\nok 3 - a::s # SKIP needs cgroup v2\n"), "{t}");
        assert!(t.contains("\nnot ok 4 - a::d # TODO allowed difference: wording\n"), "{t}");
        assert!(t.ends_with("# pass 1, fail 1, skip 1, allowed differences 1\n"), "{t}");
    }

    #[test]
    fn json_rows() {
        let v: serde_json::Value = serde_json::from_str(&json(&sample())).unwrap();
        assert_eq!(v.as_array().unwrap().len(), 4);
        assert_eq!(v[1]["result"], "fail");
        assert_eq!(v[1]["section"], "runtime.md#kill");
        assert_eq!(v[2]["reason"], "needs cgroup v2");
        assert_eq!(v[3]["result"], "allowed");
        assert_eq!(v[0]["duration_ms"], 1500);
    }

    #[test]
    fn junit_groups_by_section_and_escapes() {
        let x = junit(&sample());
        assert!(x.contains("<testsuites name=\"conformance\" tests=\"4\" failures=\"1\" skipped=\"2\">"), "{x}");
        assert!(x.contains("<testsuite name=\"config.md#mounts\" tests=\"2\" failures=\"0\" skipped=\"2\""), "{x}");
        assert!(x.contains("<failure message=\"expected &lt;1&gt; &amp; got &quot;2&quot;\">"), "{x}");
        assert_eq!(x.matches("<testsuite ").count(), 2);
    }
}
