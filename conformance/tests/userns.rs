//! config-linux.md user and time namespaces: uidMappings/gidMappings (several ranges), the init as
//! the namespace's root with files owned by mapped ids, joining by path, exec into them, timeOffsets,
//! and the refusals for inconsistent configs.
//!
//! The bodies live in `conformance::suite::userns`, shared with the `conformance` runner.

conformance::cargo_tests!(
    userns;
    init_is_root_inside_and_mapped_outside,
    several_ranges_and_the_process_user,
    files_made_inside_belong_to_mapped_ids,
    user_namespace_without_network_namespace_still_gets_sys,
    joins_user_namespace_by_path,
    inconsistent_user_namespace_configs_are_refused,
    time_namespace_offsets_move_the_clocks,
    time_namespace_in_a_user_namespace_gets_its_offsets,
    time_offsets_without_a_new_time_namespace_are_refused,
    idmapped_bind_mount_with_its_own_mappings,
    idmap_option_maps_host_root_files_to_the_container_root,
    bad_idmapped_mounts_are_refused,
    bind_source_only_host_root_can_reach,
);
