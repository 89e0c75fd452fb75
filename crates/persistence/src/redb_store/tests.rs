//! Unit tests of the redb store.
