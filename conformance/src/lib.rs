//! Shared harness for the conformance suite.
