//! Criterion benchmarks of persistent actors (filled in by issue 6).

fn main() {}
