//! `hull events [--stats] [--interval 5s] ID`: resource usage as runc's JSON events, once or as a
//! stream (with an `oom` event whenever the OOM killer struck), until the container stops.

use std::io::Write;
use std::time::Duration;

use anyhow::{anyhow, Result};
use runtime_core::{Runtime, Status};
use serde::Serialize;
use serde_json::Value;

/// One event, its keys in runc's order (`type`, `id`, `data`); `data` is left out when empty.
#[derive(Debug, Serialize)]
struct Event<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a Value>,
}

pub fn run(rt: &Runtime, id: &str, stats: bool, interval: &str) -> Result<u8> {
    let c = super::load(rt, id)?;
    if stats {
        print(&Event { kind: "stats", id, data: Some(&c.stats()?) })?;
        return Ok(0);
    }
    let every = parse_duration(interval)?;
    let mut ooms = c.oom_kills().unwrap_or(0);
    loop {
        let c = match rt.load(id) {
            Ok(c) if c.state().status != Status::Stopped => c,
            _ => return Ok(0),
        };
        let now = c.oom_kills().unwrap_or(ooms);
        if now > ooms {
            print(&Event { kind: "oom", id, data: None })?;
            ooms = now;
        }
        match c.stats() {
            Ok(data) => print(&Event { kind: "stats", id, data: Some(&data) })?,
            Err(_) => return Ok(0),
        }
        std::thread::sleep(every);
    }
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
        let data = serde_json::json!({"memory": {}, "cpu": {}});
        let e = Event { kind: "stats", id: "c<1>", data: Some(&data) };
        let text = super::super::state::go_escape(&serde_json::to_string(&e).unwrap());
        assert_eq!(text, r#"{"type":"stats","id":"c\u003c1\u003e","data":{"cpu":{},"memory":{}}}"#);
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
