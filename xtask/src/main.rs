//! Foundation's project tasks (work in progress).
fn main() {}
