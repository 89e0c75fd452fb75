//! `cargo xtask ci`: run what `.ci/run` runs, in the same order, stopping at the first failure.
//!
//! [`STEPS`] is the one list of CI steps; `.ci/run` mirrors it line for line,
//! so a developer reproduces CI locally with one command.

use crate::{cargo, run};

/// One CI step: a title and the cargo arguments that run it.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// What the step checks, printed before it runs.
    pub title: &'static str,
    /// Arguments to `cargo`.
    pub args: &'static [&'static str],
}

/// Every CI step, in order.
pub const STEPS: &[Step] = &[
    Step {
        title: "cargo fmt --check",
        args: &["fmt", "--all", "--", "--check"],
    },
    Step {
        title: "cargo clippy",
        args: &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    },
    Step {
        title: "cargo test (the README's test command)",
        args: &["test", "--workspace"],
    },
    Step {
        title: "loom (bounded)",
        args: &["xtask", "loom"],
    },
    Step {
        title: "audit",
        args: &["xtask", "audit", "--deny", "warnings"],
    },
    Step {
        title: "cargo foundation-audit on a fixture project",
        args: &[
            "run",
            "--quiet",
            "--package",
            "foundation-audit",
            "--bin",
            "cargo-foundation-audit",
            "--",
            "foundation-audit",
            "crates/audit/tests/fixtures/project",
            "--deny",
            "warnings",
        ],
    },
];

/// Runs the task; returns the process exit code.
pub fn main(args: &[String]) -> u8 {
    if let Some(arg) = args.first() {
        eprintln!("error: unknown argument `{arg}` (usage: cargo xtask ci)");
        return 2;
    }
    for step in STEPS {
        eprintln!("== {}", step.title);
        let mut command = cargo();
        command.args(step.args);
        if let Err(code) = run(command, &format!("step `{}`", step.title)) {
            return code;
        }
    }
    eprintln!("== ci passed");
    0
}
