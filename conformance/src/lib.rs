//! Black-box OCI conformance suite.
