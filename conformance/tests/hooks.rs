//! hooks: run on the host at their lifecycle points with the container state on stdin; a failing
//! create-time hook fails create and leaves nothing behind.
//!
//! The bodies live in `conformance::suite::hooks`, shared with the `conformance` runner.

conformance::cargo_tests!(
    hooks;
    hooks_run_with_state_on_stdin,
    start_container_hook_runs_inside_the_container,
    failing_create_runtime_hook_fails_create,
    hook_timeout_is_enforced,
    hooks_of_one_phase_run_in_order,
    failing_poststart_hook_is_only_a_warning,
    failing_poststop_hook_is_only_a_warning,
    create_container_hook_runs_in_the_rootfs,
    start_container_hook_runs_under_the_seccomp_filter,
    hook_without_env_inherits_its_runners_environment,
    relative_hook_paths_are_refused,
    hooks_get_only_stdio,
    hook_timeout_holds_when_stdin_is_never_read,
);
