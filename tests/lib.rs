//! Cross-crate integration tests for Foundation; the tests live in `tests/*.rs` beside this file.
