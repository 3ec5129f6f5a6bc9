//! config.md apparmorProfile / selinuxLabel and config-linux.md mountLabel on a host where the LSM
//! is not active: create must fail with a clear error (never run the container unconfined) and
//! leave nothing behind.
//!
//! The bodies live in `conformance::suite::lsm`, shared with the `conformance` runner.

conformance::cargo_tests!(
    lsm;
    apparmor_profile_without_apparmor_is_refused,
    selinux_labels_without_selinux_are_refused,
    exec_labels_without_the_lsm_are_refused,
);
