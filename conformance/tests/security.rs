//! Attacks the reference security list names, each against a real container: the runtime binary
//! through /proc/PID/exe (T1, CVE-2019-5736), a cwd leaking a runtime fd (T3, CVE-2024-21626),
//! a /proc symlink in the rootfs (T6, CVE-2019-19921), a hostile /dev/null for masking (T9,
//! CVE-2025-31133), and seccomp's default-deny seen from inside.
//!
//! The bodies live in `conformance::suite::security`, shared with the `conformance` runner.

conformance::cargo_tests!(
    security;
    runtime_binary_is_not_writable_through_proc_exe,
    cwd_through_runtime_fds_never_reaches_the_host,
    proc_symlink_in_rootfs_is_refused,
    hostile_dev_null_is_not_used_for_masking,
    seccomp_errno_rules_apply_inside,
    seccomp_kill_process_kills,
    seccomp_profile_errors_fail_create_cleanly,
    kernel_special_ids_are_refused_at_create,
    kernel_special_ids_are_refused_at_exec,
    pid_file_is_never_written_through_a_symlink,
    state_is_private_to_its_owner,
    only_procfs_on_proc_and_sysfs_on_sys,
);
