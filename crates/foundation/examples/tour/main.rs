//! The tour (work in progress).
fn main() {}
