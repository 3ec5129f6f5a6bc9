//! The status of a container (the OCI runtime spec's, plus runc's `paused`): a word of the error
//! vocabulary as much as of the state file, so it sits below both.

use serde::{Deserialize, Serialize};

/// The status of a container, as defined by the OCI runtime spec (plus runc's `paused`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Being created: the init process exists but has not reported ready.
    Creating,
    /// Created: set up and blocked before the user's program.
    Created,
    /// Running the user's program.
    Running,
    /// Frozen through the cgroup freezer.
    Paused,
    /// The init process has exited.
    Stopped,
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Status::Creating => "creating",
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Stopped => "stopped",
        })
    }
}
