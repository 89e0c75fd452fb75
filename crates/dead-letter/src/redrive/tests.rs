//! Unit tests of the redrive module.
