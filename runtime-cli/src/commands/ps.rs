//! `hull ps [--format table|json] ID [PS_ARGS...]`: the container's processes, by host pid.

use std::process::Command;

use anyhow::{anyhow, bail, Result};
use runtime_core::Runtime;

use crate::cli::ListFormat;

pub fn run(rt: &Runtime, id: &str, format: ListFormat, ps_args: &[String]) -> Result<u8> {
    let c = super::load(rt, id)?;
    let pids = c.pids()?;
    if format == ListFormat::Json {
        if !ps_args.is_empty() {
            bail!("ps arguments cannot be used with --format json");
        }
        println!("{}", serde_json::to_string(&pids)?);
        return Ok(0);
    }
    // runc runs `ps` (default `-ef`) and keeps the header and the lines of the container's pids.
    let args: Vec<String> = if ps_args.is_empty() { vec!["-ef".into()] } else { ps_args.to_vec() };
    let out = Command::new("ps")
        .args(&args)
        .output()
        .map_err(|e| anyhow!("running ps: {}", runtime_core::io_error_text(&e)))?;
    if !out.status.success() {
        bail!("ps: {}", String::from_utf8_lossy(&out.stderr).trim());
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let mut lines = text.lines();
    let header = lines.next().unwrap_or_default();
    let col = header
        .split_whitespace()
        .position(|h| h == "PID")
        .ok_or_else(|| anyhow!("couldn't find PID field in ps output"))?;
    println!("{header}");
    for line in lines {
        let pid = line.split_whitespace().nth(col).and_then(|p| p.parse::<i32>().ok());
        if pid.is_some_and(|p| pids.contains(&p)) {
            println!("{line}");
        }
    }
    Ok(0)
}
