//! The command line's output as runc's callers read it: debug logging, `events` JSON, error wording,
//! `--version` and help.
//!
//! The bodies live in `conformance::suite::cli`, shared with the `conformance` runner.

conformance::cargo_tests!(
    cli;
    debug_without_log_writes_to_stderr,
    events_keys_in_runc_order,
    events_pushes_oom_kills,
    errno_descriptions_are_lower_case,
    config_errors_in_runc_words,
    lifecycle_errors_in_runc_words,
    version_in_runc_shape,
    help_lists_every_command_and_global_flag,
    command_help_lists_every_flag,
);
