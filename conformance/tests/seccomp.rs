//! linux.seccomp constrains the program, not the runtime: default-deny profiles that allow only the
//! program's own needs run, with noNewPrivileges true and false, for create/start and exec.
//!
//! The bodies live in `conformance::suite::seccomp`, shared with the `conformance` runner.

conformance::cargo_tests!(
    seccomp;
    errno_default_profile_constrains_only_the_program,
    errno_default_profile_constrains_only_the_exec_program,
);
