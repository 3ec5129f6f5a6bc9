//! What callers (containerd's shim, conmon, podman) read from the runtime besides the lifecycle itself:
//! the JSON log file, `features`, `--version`, state annotations.
//!
//! The bodies live in `conformance::suite::protocol`, shared with the `conformance` runner.

conformance::cargo_tests!(
    protocol;
    json_log_file_carries_the_error,
    features_reports_json,
    version_has_version_commit_and_spec_lines,
    state_carries_annotations,
    kill_of_created_container_stops_it,
    state_output_is_pure_json,
);
