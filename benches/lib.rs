//! Shared helpers for Foundation's benchmarks (work in progress).
