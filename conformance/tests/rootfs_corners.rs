//! rootfs_corners: /dev, the console and masked paths in the shapes config generators produce.
//!
//! The bodies live in `conformance::suite::rootfs_corners`, shared with the `conformance` runner.

conformance::cargo_tests!(
    rootfs_corners;
    pty_slave_is_owned_by_the_process_user,
    ptmx_in_linux_devices_keeps_the_devpts_link,
    readonly_dev_is_populated_first,
    readonly_root_is_made_readonly_after_the_console,
    relative_masked_and_readonly_paths_resolve_from_the_root,
    no_pivot_leaves_no_host_procfs_to_remount,
);
