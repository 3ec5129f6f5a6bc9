//! exec security (reference/security.md T2, T3, T20, T22): nothing of the runtime or of its caller
//! reaches the container through a process that joins it. Each test fails when the protection is gone.
//!
//! The bodies live in `conformance::suite::exec_security`, shared with the `conformance` runner.

conformance::cargo_tests!(
    exec_security;
    exec_cwd_and_program_through_proc_self_fd_stay_inside,
    exec_process_is_sealed_until_execve,
    exec_writes_go_to_the_real_proc_of_the_process,
    exec_without_tty_has_no_controlling_terminal,
);
