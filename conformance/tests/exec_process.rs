//! exec_process: how `exec` shapes the new process (env overrides, default user, personality, cwd).
//!
//! The bodies live in `conformance::suite::exec_process`, shared with the `conformance` runner.

conformance::cargo_tests!(
    exec_process;
    exec_env_flag_replaces_config_values,
    exec_process_json_without_user_runs_as_root,
    exec_gets_the_container_personality,
    exec_cwd_is_entered_before_privileges_drop,
);
