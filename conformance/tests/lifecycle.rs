//! Lifecycle: create -> created -> start -> running -> stopped -> delete; run's exit codes; pid files;
//! kill by default/name/number; forced delete; list.
//!
//! The bodies live in `conformance::suite::lifecycle`, shared with the `conformance` runner.

conformance::cargo_tests!(
    lifecycle;
    create_start_stop_delete,
    start_runs_the_process_only_after_start,
    run_returns_exit_code,
    run_returns_128_plus_signal_when_killed_from_host,
    run_returns_128_plus_signal_without_pid_namespace,
    run_passes_container_stdout,
    pid_file_holds_host_pid,
    kill_defaults_to_sigterm,
    kill_by_name_with_and_without_sig_prefix,
    kill_by_number,
    kill_9_stops_the_container,
    delete_force_of_running_container,
    delete_of_created_container_kills_init,
    list_shows_container_and_status,
    list_of_empty_root,
    run_detach_returns_while_container_runs,
    relative_pid_file_is_resolved_against_caller_cwd,
    state_reports_stopped_after_exit,
    kill_all_signals_every_process,
    pause_and_resume,
    init_killed_from_host_shows_stopped_and_deletes,
    state_has_the_required_fields_at_each_stage,
    deleted_id_can_be_created_again,
);
