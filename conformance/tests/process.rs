//! process: args, env, cwd, user/groups, umask, capabilities, rlimits, noNewPrivileges, fds, terminal.
//!
//! The bodies live in `conformance::suite::process`, shared with the `conformance` runner.

conformance::cargo_tests!(
    process;
    args_reach_the_process_verbatim,
    args_zero_is_resolved_through_path,
    env_is_exactly_the_configured_list,
    home_defaults_from_container_passwd,
    cwd_is_set,
    cwd_is_created_when_missing,
    uid_gid_and_additional_gids,
    root_user_has_no_supplementary_groups_by_default,
    umask_is_applied,
    default_umask_is_0022,
    capabilities_all_five_sets_for_non_root,
    capabilities_for_root_are_bounded,
    empty_capabilities_drop_everything,
    unknown_capability_is_a_warning,
    rlimits_are_applied,
    no_new_privileges_true,
    no_new_privileges_false,
    only_stdio_fds_are_open,
    non_terminal_stdio_is_not_a_tty,
    process_is_session_leader_in_pid_namespace,
    terminal_via_console_socket,
    seccomp_errno_rule_applies,
    no_seccomp_by_default,
    sysctls_are_set_inside,
    oom_score_adj_is_applied_or_refused_clearly,
    relative_cwd_is_refused,
);
