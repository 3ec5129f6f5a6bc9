//! Creating the container process: the parent side, the child's step lists, and the protocol between them.

use crate::container::{Container, CreateOptions};
use crate::error::{Error, Result};
use crate::state::StateStore;

pub(crate) fn create(_store: &StateStore, _id: &str, _opts: CreateOptions) -> Result<Container> {
    Err(Error::NotSupported("create (under construction)".into()))
}
