//! The registry of conformance tests: every test body is a plain `fn()` here, tagged with the spec section it
//! checks, so `cargo test` (through [`cargo_tests!`](crate::cargo_tests)) and the `conformance` runner execute
//! the same code.
//!
//! A test passes by returning, fails by panicking, and skips through [`requires!`](crate::requires) or
//! [`skip`](crate::skip), which record the reason for the runner (see [`take_skip`]).

use std::cell::RefCell;

/// One registered test.
#[derive(Debug, Clone, Copy)]
pub struct Test {
    /// The module (area) it lives in, e.g. `lifecycle`.
    pub area: &'static str,
    pub name: &'static str,
    /// The runtime-spec section it checks, e.g. `runtime.md#kill`; `runc-cli#...` for the runc command-line
    /// contract that callers rely on beyond the spec, `security#...` for the reference attack list.
    pub section: &'static str,
    /// Set when part of the expectation is runc's behaviour where the spec leaves a choice: a failure of
    /// such a part (raised with [`convention!`](crate::convention)) is reported as an allowed difference.
    pub allowed_difference: Option<&'static str>,
    pub run: fn(),
}

/// `entry!(name, "section")` or `entry!(name, "section", allowed = "why")`: a [`Test`] row for a function of
/// the current module.
macro_rules! entry {
    ($name:ident, $section:literal) => {
        entry!(@ $name, $section, None)
    };
    ($name:ident, $section:literal, allowed = $why:expr) => {
        entry!(@ $name, $section, Some($why))
    };
    (@ $name:ident, $section:literal, $allowed:expr) => {
        $crate::suite::Test {
            area: $crate::suite::area_of(module_path!()),
            name: stringify!($name),
            section: $section,
            allowed_difference: $allowed,
            run: $name,
        }
    };
}

pub mod bad_input;
pub mod cgroups;
pub mod cli;
pub mod exec;
pub mod exec_process;
pub mod exec_security;
pub mod hooks;
pub mod hostile_rootfs;
pub mod lifecycle;
pub mod lsm;
pub mod mounts;
pub mod namespaces;
pub mod netdevices;
pub mod process;
pub mod process_attrs;
pub mod protocol;
pub mod rootfs_corners;
pub mod seccomp;
pub mod security;
pub mod userns;

/// Prefix of a panic message raised by [`convention!`](crate::convention).
pub const CONVENTION: &str = "[convention] ";

/// Every registered test, area by area.
pub fn all() -> Vec<Test> {
    [
        lifecycle::TESTS,
        bad_input::TESTS,
        protocol::TESTS,
        process::TESTS,
        process_attrs::TESTS,
        mounts::TESTS,
        namespaces::TESTS,
        userns::TESTS,
        netdevices::TESTS,
        cgroups::TESTS,
        exec::TESTS,
        exec_process::TESTS,
        hooks::TESTS,
        security::TESTS,
        seccomp::TESTS,
        lsm::TESTS,
        hostile_rootfs::TESTS,
        exec_security::TESTS,
        cli::TESTS,
        rootfs_corners::TESTS,
    ]
    .concat()
}

/// The last path segment of a module path (`conformance::suite::lifecycle` -> `lifecycle`).
pub const fn area_of(module: &'static str) -> &'static str {
    let bytes = module.as_bytes();
    let mut i = bytes.len();
    while i > 0 && bytes[i - 1] != b':' {
        i -= 1;
    }
    let (_, tail) = bytes.split_at(i);
    match std::str::from_utf8(tail) {
        Ok(s) => s,
        Err(_) => module,
    }
}

thread_local! {
    static SKIPPED: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Records that the current test skipped (called by [`crate::skip`]).
pub fn record_skip(reason: &str) {
    SKIPPED.with(|s| *s.borrow_mut() = Some(reason.to_owned()));
}

/// The skip reason recorded on this thread since the last call, if any.
pub fn take_skip() -> Option<String> {
    SKIPPED.with(|s| s.borrow_mut().take())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn area_is_the_last_module_segment() {
        assert_eq!(area_of("conformance::suite::lifecycle"), "lifecycle");
        assert_eq!(area_of("plain"), "plain");
    }

    #[test]
    fn names_are_unique_and_sections_name_a_document() {
        let tests = all();
        let mut names: Vec<_> = tests.iter().map(|t| t.name).collect();
        names.sort();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate test names");
        for t in &tests {
            let (doc, anchor) =
                t.section.split_once('#').unwrap_or_else(|| panic!("{}: no # in {}", t.name, t.section));
            assert!(!anchor.is_empty(), "{}: empty anchor", t.name);
            let known =
                ["runtime.md", "config.md", "config-linux.md", "features.md", "bundle.md", "runc-cli", "security"];
            assert!(known.contains(&doc), "{}: unknown document {doc}", t.name);
        }
    }

    #[test]
    fn skip_is_recorded_once_per_thread() {
        assert_eq!(take_skip(), None);
        record_skip("needs x");
        assert_eq!(take_skip().as_deref(), Some("needs x"));
        assert_eq!(take_skip(), None);
    }
}
