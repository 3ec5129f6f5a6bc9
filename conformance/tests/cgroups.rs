//! linux.cgroupsPath and linux.resources: the container lands in its own cgroup with the limits written.
//! These read cgroup v1 files (this host); on a pure cgroup v2 host they skip.
//!
//! The bodies live in `conformance::suite::cgroups`, shared with the `conformance` runner.

conformance::cargo_tests!(
    cgroups;
    container_is_in_its_configured_cgroup,
    init_pid_is_in_cgroup_after_create,
    memory_limit,
    pids_limit,
    cpu_shares_and_quota,
    cgroup_dirs_removed_on_delete,
    pids_limit_is_enforced,
    memory_hog_is_oom_killed_at_the_limit,
    paused_container_makes_no_progress,
    update_changes_limits_of_a_running_container,
    device_rule_access_strings_as_runc_takes_them,
    joining_a_frozen_cgroup_is_refused,
    joining_a_non_empty_cgroup_warns,
);
