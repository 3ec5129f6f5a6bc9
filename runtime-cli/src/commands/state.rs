//! `hull state ID`: the OCI state of a container, pretty-printed like `runc state`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::Result;
use runtime_core::{Runtime, State};
use serde::Serialize;

/// The fields `runc state` prints, in its order; hull's private bookkeeping stays out.
#[derive(Debug, Serialize)]
pub struct Printed<'a> {
    #[serde(rename = "ociVersion")]
    pub oci_version: &'a str,
    pub id: &'a str,
    pub pid: i32,
    pub status: String,
    pub bundle: &'a Path,
    pub rootfs: &'a Path,
    pub created: &'a str,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: &'a BTreeMap<String, String>,
    pub owner: &'a str,
}

impl<'a> Printed<'a> {
    pub fn new(s: &'a State, owner: &'a str) -> Self {
        Printed {
            oci_version: &s.oci_version,
            id: &s.id,
            pid: s.pid,
            status: s.status.to_string(),
            bundle: &s.bundle,
            rootfs: &s.rootfs,
            created: &s.created,
            annotations: &s.annotations,
            owner,
        }
    }
}

/// Go's encoding/json escapes `<`, `>`, `&` (and U+2028/U+2029) even inside strings; doing the
/// same keeps hull's output byte-identical to runc's. These characters only occur inside JSON
/// strings, so a plain replacement is exact.
pub fn go_escape(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

pub fn run(rt: &Runtime, id: &str) -> Result<u8> {
    let c = super::load(rt, id)?;
    let st = c.state();
    let text = go_escape(&serde_json::to_string_pretty(&Printed::new(st, &st.owner))?);
    // runc writes no newline after the object.
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(0)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use runtime_core::Status;

    pub(crate) fn sample(id: &str) -> State {
        let json = serde_json::json!({
            "ociVersion": "1.2.0", "id": id, "pid": 42, "status": "running",
            "bundle": "/b", "rootfs": "/b/rootfs", "created": "2026-11-25T18:49:40.926725816Z",
            "owner": "", "hull": { "init_start_time": 7, "cgroup_paths": {}, "own_pid_ns": true, "namespaces": {} }
        });
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn prints_runc_fields_in_runc_order_without_internals() {
        let st = sample("c1");
        assert_eq!(st.status, Status::Running);
        let text = serde_json::to_string_pretty(&Printed::new(&st, "")).unwrap();
        let expected = r#"{
  "ociVersion": "1.2.0",
  "id": "c1",
  "pid": 42,
  "status": "running",
  "bundle": "/b",
  "rootfs": "/b/rootfs",
  "created": "2026-11-25T18:49:40.926725816Z",
  "owner": ""
}"#;
        assert_eq!(text, expected);
    }

    #[test]
    fn escapes_like_go() {
        let mut st = sample("c1");
        st.annotations.insert("k".into(), "<a&b>\u{2028}".into());
        let text = go_escape(&serde_json::to_string(&Printed::new(&st, "")).unwrap());
        assert!(text.contains(r#""k":"\u003ca\u0026b\u003e\u2028""#), "{text}");
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back["annotations"]["k"], "<a&b>\u{2028}");
    }

    #[test]
    fn annotations_before_owner_when_present() {
        let mut st = sample("c1");
        st.annotations.insert("k".into(), "v".into());
        let text = serde_json::to_string(&Printed::new(&st, "root")).unwrap();
        assert!(text.ends_with(r#""annotations":{"k":"v"},"owner":"root"}"#), "{text}");
    }
}
