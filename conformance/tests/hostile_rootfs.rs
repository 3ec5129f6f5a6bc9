//! security.md T8, T11, T12, T17: a rootfs whose symlinks point out of it (mount destinations, /dev,
//! the cwd) and a container that hides /proc/sys from the runtime's sysctl writes. Each checks that
//! nothing on the host changed.
//!
//! The bodies live in `conformance::suite::hostile_rootfs`, shared with the `conformance` runner.

conformance::cargo_tests!(
    hostile_rootfs;
    mount_destination_symlinks_stay_inside_the_rootfs,
    dev_symlink_to_a_host_dir_gets_no_device_nodes,
    cwd_created_under_a_symlink_stays_inside,
    sysctl_writes_are_not_redirected_by_a_covered_proc_sys,
    console_symlink_is_not_followed_for_the_terminal_bind,
    fake_ptmx_is_refused_for_the_terminal,
);
