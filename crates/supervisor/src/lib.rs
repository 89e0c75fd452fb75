//! Supervision trees with Erlang/OTP's semantics.
//!
//! Work in progress: the supervisor, the dynamic supervisor and the task
//! supervisor land here (issue 4).
