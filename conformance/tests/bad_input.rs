//! Bad input: each case must exit non-zero, print one clear error line on stderr, and leave nothing behind.
//!
//! The bodies live in `conformance::suite::bad_input`, shared with the `conformance` runner.

conformance::cargo_tests!(
    bad_input;
    malformed_json,
    wrong_type_for_args,
    wrong_type_for_uid,
    missing_config_json,
    missing_rootfs,
    missing_executable_fails_at_create,
    missing_executable_in_path_fails_at_create,
    missing_process_fails_create,
    unknown_namespace_type,
    terminal_without_console_socket,
    invalid_container_ids,
    duplicate_id,
    start_twice,
    start_of_unknown_container,
    state_of_unknown_container,
    unknown_signal,
    delete_running_without_force,
    delete_of_unknown_container,
    kill_of_stopped_container,
    unknown_subcommand_and_flag,
    hostname_without_uts_namespace,
    start_of_stopped_container,
    create_without_id,
    kill_of_unknown_container,
    namespace_path_of_the_wrong_type,
    duplicated_namespace_type,
    launch_step_failures_are_one_clear_line,
);
