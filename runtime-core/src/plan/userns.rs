//! PURE: the user namespace's id maps and the time namespace's clock offsets, as the exact text
//! the kernel takes in /proc/PID/{uid,gid}_map and /proc/self/timens_offsets.

use std::collections::HashMap;

use oci_spec::runtime::{LinuxIdMapping, LinuxTimeOffset};

use crate::error::{Error, Result};

/// The kernel accepts at most this many lines in one id map.
const MAX_MAP_LINES: usize = 340;

/// Id maps of a new user namespace, ready to be written by the runtime.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdMaps {
    /// Lines "container host size" for uid_map.
    pub(crate) uid_map: String,
    /// Lines for gid_map.
    pub(crate) gid_map: String,
}

/// Renders one mapping list; `field` names it in errors.
pub(crate) fn map_text(list: &[LinuxIdMapping], field: &str) -> Result<String> {
    if list.len() > MAX_MAP_LINES {
        return Err(Error::InvalidConfig(format!("{field}: more than {MAX_MAP_LINES} ranges")));
    }
    let mut ranges: Vec<(u64, u64)> = Vec::new();
    let mut text = String::new();
    for m in list {
        let (c, h, n) = (m.container_id() as u64, m.host_id() as u64, m.size() as u64);
        if n == 0 {
            return Err(Error::InvalidConfig(format!("{field}: a range of size 0")));
        }
        // The last id may not be 4294967295: (uid_t)-1 is "unchanged" and the kernel refuses it.
        if c + n >= 1 << 32 || h + n >= 1 << 32 {
            return Err(Error::InvalidConfig(format!("{field}: range {c}+{n} or {h}+{n} reaches 4294967295")));
        }
        if ranges.iter().any(|&(s, e)| c < e && s < c + n) {
            return Err(Error::InvalidConfig(format!("{field}: container ranges overlap at {c}")));
        }
        ranges.push((c, c + n));
        text.push_str(&format!("{c} {h} {n}\n"));
    }
    Ok(text)
}

/// Whether container id 0 is mapped: the init becomes root of the namespace first (as runc).
fn maps_root(list: &[LinuxIdMapping]) -> bool {
    list.iter().any(|m| m.container_id() == 0 && m.size() > 0)
}

/// Checks and renders linux.uidMappings/gidMappings for a new user namespace.
pub(crate) fn id_maps(uids: &[LinuxIdMapping], gids: &[LinuxIdMapping]) -> Result<IdMaps> {
    if uids.is_empty() {
        return Err(Error::InvalidConfig("user namespaces enabled, but no uid mappings found".into()));
    }
    if gids.is_empty() {
        return Err(Error::InvalidConfig("user namespaces enabled, but no gid mappings found".into()));
    }
    let maps = IdMaps { uid_map: map_text(uids, "linux.uidMappings")?, gid_map: map_text(gids, "linux.gidMappings")? };
    if !maps_root(uids) || !maps_root(gids) {
        return Err(Error::InvalidConfig(
            "linux.uidMappings/gidMappings: container id 0 must be mapped (the init starts as root)".into(),
        ));
    }
    Ok(maps)
}

/// Renders linux.timeOffsets ("monotonic"/"boottime") for /proc/self/timens_offsets.
pub(crate) fn time_offsets(offsets: &HashMap<String, LinuxTimeOffset>) -> Result<String> {
    let mut keys: Vec<&String> = offsets.keys().collect();
    keys.sort();
    let mut text = String::new();
    for k in keys {
        if k != "monotonic" && k != "boottime" {
            return Err(Error::InvalidConfig(format!("linux.timeOffsets: unknown clock {k:?}")));
        }
        let o = &offsets[k];
        let nanos = o.nanosecs().unwrap_or(0);
        if nanos >= 1_000_000_000 {
            return Err(Error::InvalidConfig(format!("linux.timeOffsets.{k}: nanosecs must be below 1e9")));
        }
        text.push_str(&format!("{k} {} {nanos}\n", o.secs().unwrap_or(0)));
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(c: u32, h: u32, n: u32) -> LinuxIdMapping {
        serde_json::from_value(serde_json::json!({"containerID": c, "hostID": h, "size": n})).unwrap()
    }

    #[test]
    fn several_ranges_render_in_order() {
        let maps = id_maps(&[m(0, 100000, 1000), m(1000, 5000, 1)], &[m(0, 200000, 65536)]).unwrap();
        assert_eq!(maps.uid_map, "0 100000 1000\n1000 5000 1\n");
        assert_eq!(maps.gid_map, "0 200000 65536\n");
    }

    #[test]
    fn bad_maps_are_refused_with_the_field() {
        let cases: [(Vec<LinuxIdMapping>, Vec<LinuxIdMapping>, &str); 5] = [
            (vec![], vec![m(0, 1, 1)], "no uid mappings"),
            (vec![m(0, 1, 1)], vec![], "no gid mappings"),
            (vec![m(1, 1, 1)], vec![m(0, 1, 1)], "container id 0 must be mapped"),
            (vec![m(0, 1, 0)], vec![m(0, 1, 1)], "size 0"),
            (vec![m(0, 1, 10), m(5, 100, 10)], vec![m(0, 1, 1)], "overlap"),
        ];
        for (u, g, want) in cases {
            let e = id_maps(&u, &g).unwrap_err().to_string();
            assert!(e.contains(want), "{e} lacks {want}");
        }
        assert!(map_text(&[m(0, u32::MAX, 2)], "x").unwrap_err().to_string().contains("4294967295"));
        // Ranges that end on (uid_t)-1 on either side are refused; one id short of it is fine.
        assert!(map_text(&[m(u32::MAX, 0, 1)], "x").unwrap_err().to_string().contains("4294967295"));
        assert!(map_text(&[m(0, u32::MAX - 10, 11)], "x").is_err());
        assert!(map_text(&[m(0, u32::MAX - 10, 10)], "x").is_ok());
    }

    #[test]
    fn time_offsets_text_and_refusals() {
        let o = |s: i64, n: u32| -> LinuxTimeOffset {
            serde_json::from_value(serde_json::json!({"secs": s, "nanosecs": n})).unwrap()
        };
        let mut h = HashMap::new();
        h.insert("monotonic".to_owned(), o(86400, 5));
        h.insert("boottime".to_owned(), o(-10, 0));
        assert_eq!(time_offsets(&h).unwrap(), "boottime -10 0\nmonotonic 86400 5\n");
        h.insert("realtime".to_owned(), o(1, 0));
        assert!(time_offsets(&h).unwrap_err().to_string().contains("unknown clock"));
    }
}
