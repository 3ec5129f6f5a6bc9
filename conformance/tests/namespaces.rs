//! linux.namespaces: new namespaces differ from the host's, absent ones are shared, paths are joined;
//! hostname and domainname land in the new UTS namespace.
//!
//! The bodies live in `conformance::suite::namespaces`, shared with the `conformance` runner.

conformance::cargo_tests!(
    namespaces;
    configured_namespaces_are_new,
    unlisted_namespaces_are_shared_with_host,
    no_mount_namespace_runs_in_the_callers,
    masked_paths_without_a_mount_namespace_are_refused,
    cgroup_namespace_when_requested,
    hostname_is_set_in_new_uts_namespace,
    domainname_is_set_in_new_uts_namespace,
    new_network_namespace_has_only_loopback,
    joins_network_namespace_by_path,
    joins_ipc_namespace_by_path,
    hostname_is_set_in_joined_uts_namespace,
    two_containers_share_a_network_namespace,
    user_namespace_maps_ids,
);
