//! Test harness lives in tests/tests/util; this crate has no library code.
