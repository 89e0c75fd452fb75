//! Cross-crate integration tests for Foundation; the tests live in `tests/*.rs` beside this file.

#![forbid(unsafe_code)]
