//! exec: a second process joins a running container (namespaces, cgroup), with its own process spec.
//!
//! The bodies live in `conformance::suite::exec`, shared with the `conformance` runner.

conformance::cargo_tests!(
    exec;
    exec_joins_the_container_namespaces,
    exec_returns_the_process_exit_code,
    exec_with_process_json,
    exec_detach_writes_pid_file,
    exec_env_flag_adds_variables,
    exec_in_created_container_is_refused_or_runs_inside,
    exec_of_missing_binary_fails_cleanly,
    exec_user_numeric,
    exec_user_names_from_container_files,
    exec_cgroup_joins_existing_sub_cgroups,
    exec_returns_128_plus_signal,
    exec_stdin_reaches_the_process_and_stdout_stderr_stay_apart,
    exec_flags_shape_the_process,
    exec_preserve_fds_passes_exactly_those,
    exec_tty_through_console_socket,
    exec_into_paused_container_needs_ignore_paused,
    exec_into_stopped_container_says_so,
    concurrent_execs,
    exec_tty_in_the_foreground,
);
