//! Unit tests of the durable module.
