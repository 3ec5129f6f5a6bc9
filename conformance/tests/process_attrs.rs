//! config.md process.scheduler, ioPriority, execCPUAffinity and config-linux.md personality and
//! memoryPolicy: each seen from inside (or from the host on the init), and each bad value refused.
//!
//! The bodies live in `conformance::suite::process_attrs`, shared with the `conformance` runner.

conformance::cargo_tests!(
    process_attrs;
    scheduler_policy_and_nice_apply_to_the_init,
    io_priority_class_is_set,
    final_cpu_affinity_is_in_place_at_execve,
    initial_cpu_affinity_is_applied_and_checked_by_the_kernel,
    personality_linux32_changes_the_machine,
    memory_policy_binds_the_process,
    bad_attribute_values_are_refused,
);
