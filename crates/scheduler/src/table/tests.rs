//! Unit tests of the table and the misfire rule.
