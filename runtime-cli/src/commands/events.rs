//! `hull events [--stats] [--interval 5s] ID`: resource usage as runc's JSON events, once or as a
//! stream until the container stops: stats every interval, and an `oom` event as soon as the
//! kernel reports an OOM kill (the library's event stream; nothing is polled for it).

use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{anyhow, Result};
use runtime_core::events::Event as Pushed;
use runtime_core::stats::Stats;
use runtime_core::{Runtime, Status};
use serde::Serialize;

/// One event, its keys in runc's order (`type`, `id`, `data`); `data` is left out when empty.
#[derive(Debug, Serialize)]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Stats>,
}

pub fn run(rt: &Runtime, id: &str, stats: bool, interval: &str) -> Result<u8> {
    let c = super::load(rt, id)?;
    if stats {
        print(&Event { kind: "stats", id, data: Some(&runc_stats(c.stats()?)) })?;
        return Ok(0);
    }
    let every = parse_duration(interval)?;
    if c.state().status == Status::Stopped {
        return Ok(0);
    }
    let Ok(mut events) = c.events() else { return Ok(0) };
    let mut next_stats = Instant::now();
    loop {
        let now = Instant::now();
        if now >= next_stats {
            match c.stats() {
                Ok(data) => print(&Event { kind: "stats", id, data: Some(&runc_stats(data)) })?,
                Err(_) => return Ok(0),
            }
            next_stats = now + every;
        }
        match events.next(Some(next_stats.saturating_duration_since(Instant::now())))? {
            Some(Pushed::Oom) => print(&Event { kind: "oom", id, data: None })?,
            Some(Pushed::Exited) => return Ok(0),
            _ => {}
        }
    }
}

/// runc prints no network interfaces for OCI containers (it reports only those it configured
/// itself), so neither does hull's command line; the library's stats keep them.
fn runc_stats(mut s: Stats) -> Stats {
    s.network_interfaces = None;
    s
}

fn print(e: &Event) -> Result<()> {
    let text = super::state::go_escape(&serde_json::to_string(e)?);
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    out.flush()?;
    Ok(())
}

/// Go's duration syntax for the common cases: `500ms`, `5s`, `1m`, `1h`, or a bare number of seconds.
fn parse_duration(s: &str) -> Result<Duration> {
    let bad = || anyhow!("invalid value {s:?} for flag -interval: parse error");
    let (num, unit) = s.find(|c: char| c.is_ascii_alphabetic()).map_or((s, "s"), |i| (&s[..i], &s[i..]));
    let n: f64 = num.parse().map_err(|_| bad())?;
    let secs = match unit {
        "ms" => n / 1000.0,
        "s" => n,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(bad()),
    };
    if secs <= 0.0 {
        return Err(anyhow!("duration interval must be greater than 0"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_in_runc_order() {
        let data = Stats::default();
        let e = Event { kind: "stats", id: "c<1>", data: Some(&data) };
        let text = super::super::state::go_escape(&serde_json::to_string(&e).unwrap());
        assert!(text.starts_with(r#"{"type":"stats","id":"c\u003c1\u003e","data":{"cpu":{"usage":"#), "{text}");
        assert!(text.ends_with(r#""intel_rdt":{},"network_interfaces":null}}"#), "{text}");
        let oom = serde_json::to_string(&Event { kind: "oom", id: "c1", data: None }).unwrap();
        assert_eq!(oom, r#"{"type":"oom","id":"c1"}"#);
    }

    #[test]
    fn durations() {
        assert_eq!(super::parse_duration("5s").unwrap().as_secs(), 5);
        assert_eq!(super::parse_duration("250ms").unwrap().as_millis(), 250);
        assert_eq!(super::parse_duration("2m").unwrap().as_secs(), 120);
        assert!(super::parse_duration("x").is_err());
        assert!(super::parse_duration("0s").is_err());
    }
}
