//! `hull list`: the containers under the root as runc's padded table, JSON array, or ids.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::Path;

use anyhow::Result;
use runtime_core::{Runtime, State};

use super::state::Printed;
use crate::cli::ListFormat;

pub fn run(rt: &Runtime, format: ListFormat, quiet: bool) -> Result<u8> {
    let states = rt.list()?;
    let owners: Vec<String> = states.iter().map(|s| owner(&rt.root().join(&s.id))).collect();
    let text = if quiet {
        states.iter().map(|s| format!("{}\n", s.id)).collect()
    } else {
        match format {
            ListFormat::Table => table(&states, &owners),
            ListFormat::Json => json(&states, &owners)?,
        }
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(0)
}

/// runc prints `null` for no containers (a nil Go slice), else one compact array, then a newline.
fn json(states: &[State], owners: &[String]) -> Result<String> {
    if states.is_empty() {
        return Ok("null\n".to_owned());
    }
    let printed: Vec<Printed> = states.iter().zip(owners).map(|(s, o)| Printed::new(s, o)).collect();
    Ok(super::state::go_escape(&serde_json::to_string(&printed)?) + "\n")
}

fn table(states: &[State], owners: &[String]) -> String {
    let mut rows = vec![["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(str::to_owned).to_vec()];
    for (s, o) in states.iter().zip(owners) {
        let bundle = s.bundle.to_string_lossy().into_owned();
        rows.push(vec![s.id.clone(), s.pid.to_string(), s.status.to_string(), bundle, s.created.clone(), o.clone()]);
    }
    pad(&rows)
}

/// Go's `tabwriter.NewWriter(w, 12, 1, 3, ' ', 0)` as runc uses it: every column but the last
/// is as wide as its widest cell plus 3, and at least 12.
fn pad(rows: &[Vec<String>]) -> String {
    let cols = rows.first().map_or(0, Vec::len);
    let widths: Vec<usize> = (0..cols.saturating_sub(1))
        .map(|c| rows.iter().map(|r| r[c].chars().count() + 3).max().unwrap_or(0).max(12))
        .collect();
    let mut out = String::new();
    for r in rows {
        for (c, cell) in r.iter().enumerate() {
            out.push_str(cell);
            if let Some(w) = widths.get(c) {
                out.extend(std::iter::repeat_n(' ', w - cell.chars().count()));
            }
        }
        out.push('\n');
    }
    out
}

/// The user owning the container's state directory, as runc lists it: a name from /etc/passwd,
/// else `#uid`.
fn owner(dir: &Path) -> String {
    let Ok(meta) = std::fs::metadata(dir) else { return String::new() };
    let uid = meta.uid();
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    user_name(&passwd, uid).unwrap_or_else(|| format!("#{uid}"))
}

fn user_name(passwd: &str, uid: u32) -> Option<String> {
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        let name = f.next()?;
        let id = f.nth(1)?.parse::<u32>().ok()?;
        (id == uid).then(|| name.to_owned())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::state::tests::sample;

    #[test]
    fn table_pads_like_go_tabwriter() {
        let mut st = sample("c1");
        st.pid = 7209;
        st.bundle = "/tmp/rx/b".into();
        st.status = runtime_core::Status::Created;
        let text = table(&[st], &["root".to_owned()]);
        let expected = "ID          PID         STATUS      BUNDLE      CREATED                          OWNER\n\
                        c1          7209        created     /tmp/rx/b   2026-11-25T18:49:40.926725816Z   root\n";
        assert_eq!(text, expected);
    }

    #[test]
    fn empty_table_is_the_header() {
        assert_eq!(table(&[], &[]), "ID          PID         STATUS      BUNDLE      CREATED     OWNER\n");
    }

    #[test]
    fn json_is_null_when_empty_and_includes_owner() {
        assert_eq!(json(&[], &[]).unwrap(), "null\n");
        let text = json(&[sample("a")], &["root".to_owned()]).unwrap();
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v[0]["id"], "a");
        assert_eq!(v[0]["owner"], "root");
        assert!(v[0].get("hull").is_none());
    }

    #[test]
    fn owner_names_from_passwd() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\nbad line\nalice:x:1000:1000::/home/a:/bin/sh\n";
        assert_eq!(user_name(passwd, 0).as_deref(), Some("root"));
        assert_eq!(user_name(passwd, 1000).as_deref(), Some("alice"));
        assert_eq!(user_name(passwd, 5), None);
        assert_eq!(owner(Path::new("/")), "root");
    }
}
