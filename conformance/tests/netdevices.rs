//! config-linux.md netDevices: a host interface moves into the container's network namespace under
//! its new name, keeping its address and up state; bad entries are refused and leave nothing.
//!
//! The bodies live in `conformance::suite::netdevices`, shared with the `conformance` runner.

conformance::cargo_tests!(
    netdevices;
    host_interface_moves_in_with_its_address,
    delete_moves_the_interface_back_under_its_host_name,
    bad_net_devices_are_refused,
);
