//! `hull features`: the OCI features document on stdout, nothing on stderr.

use std::io::Write;

use anyhow::Result;
use serde::Serialize;

pub fn run() -> Result<u8> {
    let doc = runtime_core::features::document();
    let mut out = std::io::stdout().lock();
    // Indented by four spaces, as runc prints it.
    let mut ser =
        serde_json::Serializer::with_formatter(&mut out, serde_json::ser::PrettyFormatter::with_indent(b"    "));
    doc.serialize(&mut ser)?;
    out.write_all(b"\n")?;
    out.flush()?;
    Ok(0)
}
