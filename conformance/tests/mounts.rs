//! mounts, root.readonly, maskedPaths/readonlyPaths and the default /dev.
//!
//! The bodies live in `conformance::suite::mounts`, shared with the `conformance` runner.

conformance::cargo_tests!(
    mounts;
    proc_is_mounted,
    tmpfs_with_size_and_mode,
    tmpfs_tmpcopyup_keeps_the_rootfs_content,
    default_mounts_have_expected_types,
    bind_mount_shows_host_content,
    bind_mount_of_a_file,
    ro_bind_mount_refuses_writes,
    rw_bind_mount_writes_reach_host,
    bind_mount_ignores_filesystem_options,
    bind_is_not_recursive_but_rbind_is,
    readonly_root_refuses_writes,
    writable_root_accepts_writes,
    masked_file_reads_as_dev_null,
    masked_directory_is_empty,
    custom_masked_path,
    readonly_path_refuses_writes,
    custom_readonly_path,
    default_devices_exist,
    default_dev_symlinks,
    no_host_devices_leak_into_dev,
    configured_device_is_created,
    container_mounts_do_not_leak_to_host,
    absolute_root_path,
);
