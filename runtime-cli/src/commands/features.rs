//! `hull features`: the OCI features document on stdout, nothing on stderr.

use std::io::Write;

use anyhow::Result;

pub fn run() -> Result<u8> {
    let doc = runtime_core::features::document();
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, &doc)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(0)
}
