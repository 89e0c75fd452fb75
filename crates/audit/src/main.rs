//! `cargo foundation-audit`: the audit as a cargo subcommand, for any project.
//!
//! Cargo runs `cargo-foundation-audit foundation-audit ARGS` for
//! `cargo foundation-audit ARGS`; run directly, the binary takes `ARGS` alone.
//! With no path, it audits the workspace cargo finds from the current
//! directory (or the current directory when cargo finds none).

#![forbid(unsafe_code)]

use std::{
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

fn main() -> ExitCode {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().is_some_and(|arg| arg == "foundation-audit") {
        args.remove(0);
    }
    let root = workspace_root().unwrap_or_else(|| PathBuf::from("."));
    ExitCode::from(foundation_audit::run(
        "cargo foundation-audit",
        &args,
        &root,
    ))
}

/// The root of the workspace cargo finds from the current directory, as
/// `cargo locate-project --workspace` reports it.
fn workspace_root() -> Option<PathBuf> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .output()
        .ok()
        .filter(|output| output.status.success())?;
    let manifest = String::from_utf8(output.stdout).ok()?;
    Path::new(manifest.trim()).parent().map(Path::to_path_buf)
}
