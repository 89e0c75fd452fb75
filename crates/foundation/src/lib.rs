//! Foundation: Erlang/OTP-grade fault tolerance for Rust (facade, work in progress).
