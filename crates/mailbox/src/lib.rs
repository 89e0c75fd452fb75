//! Foundation's process core (work in progress).
