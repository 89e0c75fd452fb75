//! Unit tests of the queue module.
