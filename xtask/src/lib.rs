//! Foundation's project tasks: `loom` and `ci`, one module each, and `audit`,
//! a thin call into the `foundation-audit` library.
//!
//! The binary in `main.rs` only parses the subcommand; the work lives here so
//! integration tests can check it.

#![forbid(unsafe_code)]

pub mod ci;
pub mod loom;

use std::{
    path::{Path, PathBuf},
    process::Command,
};

/// The workspace root: the parent of this crate's manifest directory.
pub fn project_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A `cargo` command run in the workspace root, on the cargo that runs this
/// task, so `cargo +toolchain xtask` stays on that toolchain.
fn cargo() -> Command {
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned()));
    command.current_dir(project_root());
    command
}

/// Runs `command` to its end. On failure, says that `what` failed and
/// returns the exit code to end with: the child's, kept a failure, or 2 when
/// cargo cannot be started at all.
fn run(mut command: Command, what: &str) -> Result<(), u8> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => {
            eprintln!("error: {what} failed ({status})");
            Err(status
                .code()
                .and_then(|code| u8::try_from(code).ok())
                .filter(|code| *code != 0)
                .unwrap_or(1))
        }
        Err(error) => {
            eprintln!("error: cannot run cargo: {error}");
            Err(2)
        }
    }
}
