//! `cargo xtask loom`: run every crate's loom models under the `foundation_loom` cfg.
//!
//! The models build into their own target directory (`target/loom`) because
//! the extra cfg changes every crate's fingerprint; sharing `target/` would
//! rebuild the normal workspace after each loom run.

use crate::{cargo, project_root, run};

/// Crates that carry loom models, in `loom_models` modules of their library.
/// This is the one list to grow when a crate gains models.
pub const LOOM_CRATES: &[&str] = &[
    "foundation-mailbox",
    "foundation-rate-limiter",
    "foundation-monitor-manager",
    "foundation-supervisor",
    "foundation-persistence",
    "foundation-circuit-breaker",
];

/// Preemption bound used when neither `--preemptions` nor the environment sets one.
pub const DEFAULT_PREEMPTIONS: &str = "2";

/// Runs the task; returns the process exit code.
pub fn main(args: &[String]) -> u8 {
    let mut preemptions = std::env::var("LOOM_MAX_PREEMPTIONS")
        .ok()
        .filter(|value| !value.is_empty())
        .unwrap_or_else(|| DEFAULT_PREEMPTIONS.to_owned());
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--preemptions" => match iter.next() {
                Some(value) if value.parse::<u32>().is_ok() => preemptions = value.clone(),
                _ => {
                    eprintln!("error: --preemptions takes a number");
                    return 2;
                }
            },
            other => {
                eprintln!(
                    "error: unknown argument `{other}` (usage: cargo xtask loom [--preemptions N])"
                );
                return 2;
            }
        }
    }
    let rustflags = match std::env::var("RUSTFLAGS") {
        Ok(existing) if !existing.trim().is_empty() => format!("{existing} --cfg foundation_loom"),
        _ => "--cfg foundation_loom".to_owned(),
    };
    let root = project_root();
    for krate in LOOM_CRATES {
        eprintln!("== loom models of {krate} (LOOM_MAX_PREEMPTIONS={preemptions})");
        let mut command = cargo();
        command
            .args([
                "test",
                "--profile",
                "loom",
                "-p",
                krate,
                "--lib",
                "loom_models",
            ])
            .env("RUSTFLAGS", &rustflags)
            .env("LOOM_MAX_PREEMPTIONS", &preemptions)
            .env("CARGO_TARGET_DIR", root.join("target").join("loom"));
        if let Err(code) = run(command, &format!("loom models of {krate}")) {
            return code;
        }
    }
    0
}
