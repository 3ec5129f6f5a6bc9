//! `hull events [--stats] [--interval 5s] ID`: resource usage as runc's JSON events, once or as a
//! stream (with an `oom` event whenever the OOM killer struck), until the container stops.

use std::io::Write;
use std::time::Duration;

use anyhow::{anyhow, Result};
use runtime_core::{Runtime, Status};
use serde_json::json;

pub fn run(rt: &Runtime, id: &str, stats: bool, interval: &str) -> Result<u8> {
    let c = super::load(rt, id)?;
    if stats {
        print(&json!({"type": "stats", "id": id, "data": c.stats()?}))?;
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
            print(&json!({"type": "oom", "id": id}))?;
            ooms = now;
        }
        match c.stats() {
            Ok(data) => print(&json!({"type": "stats", "id": id, "data": data}))?,
            Err(_) => return Ok(0),
        }
        std::thread::sleep(every);
    }
}

fn print(v: &serde_json::Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{v}")?;
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
    #[test]
    fn durations() {
        assert_eq!(super::parse_duration("5s").unwrap().as_secs(), 5);
        assert_eq!(super::parse_duration("250ms").unwrap().as_millis(), 250);
        assert_eq!(super::parse_duration("2m").unwrap().as_secs(), 120);
        assert!(super::parse_duration("x").is_err());
        assert!(super::parse_duration("0s").is_err());
    }
}
