//! Foundation's project tasks: `audit`, `loom` and `ci`, one module each.
//!
//! The binary in `main.rs` only parses the subcommand; the work lives here so
//! integration tests can call the audit on fixture files directly.

pub mod audit;
pub mod ci;
pub mod loom;

use std::path::{Path, PathBuf};

/// The workspace root: the parent of this crate's manifest directory.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}
