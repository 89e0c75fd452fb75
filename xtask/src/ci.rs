//! `cargo xtask ci`: run what `.ci/run` runs, in the same order, stopping at the first failure.
//!
//! [`STEPS`] is the one list of CI steps; `.ci/run` mirrors it line for line,
//! so a developer reproduces CI locally with one command.

use std::process::{Command, Stdio};

use crate::{cargo, project_root, run};

/// What a CI step runs.
#[derive(Debug, Clone, Copy)]
pub enum Action {
    /// `cargo` with these arguments.
    Cargo(&'static [&'static str]),
    /// `bash` on this script (relative to the project root), which makes
    /// a PostgreSQL server run and prints its test database's URL as its
    /// last line: every later step gets it as `FOUNDATION_TEST_POSTGRES_URL`,
    /// with `FOUNDATION_REQUIRE_POSTGRES=1` so a PostgreSQL test that would
    /// skip fails instead.
    Postgres(&'static str),
    /// `bash` on this script (relative to the project root), run to its end.
    Script(&'static str),
}

/// One CI step: a title and what it runs.
#[derive(Debug, Clone, Copy)]
pub struct Step {
    /// What the step checks, printed before it runs.
    pub title: &'static str,
    /// What it runs.
    pub action: Action,
}

impl Step {
    /// The line of `.ci/run` that runs this step, as `ci_steps` compares
    /// them: `cargo <args>`, or `bash <script>`.
    pub fn script_line(&self) -> String {
        match self.action {
            Action::Cargo(args) => format!("cargo {}", args.join(" ")),
            Action::Postgres(script) | Action::Script(script) => format!("bash {script}"),
        }
    }
}

/// Every CI step, in order.
pub const STEPS: &[Step] = &[
    Step {
        title: "cargo fmt --check",
        action: Action::Cargo(&["fmt", "--all", "--", "--check"]),
    },
    Step {
        title: "cargo clippy",
        action: Action::Cargo(&[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ]),
    },
    Step {
        title: "cargo doc (no warnings)",
        action: Action::Script(".ci/docs"),
    },
    Step {
        title: "postgres (a server for the PostgreSQL tests)",
        action: Action::Postgres(".ci/postgres"),
    },
    Step {
        title: "cargo test (the README's test command)",
        action: Action::Cargo(&["test", "--workspace"]),
    },
    Step {
        title: "cargo test (the metrics feature, scraped over loopback)",
        action: Action::Cargo(&[
            "test",
            "-p",
            "foundation",
            "--features",
            "metrics",
            "--test",
            "metrics",
        ]),
    },
    Step {
        title: "loom (bounded)",
        action: Action::Cargo(&["xtask", "loom"]),
    },
    Step {
        title: "audit",
        action: Action::Cargo(&["xtask", "audit", "--deny", "warnings"]),
    },
    Step {
        title: "cargo foundation-audit on a fixture project",
        action: Action::Cargo(&[
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
        ]),
    },
    Step {
        title: "getting-started: each step runs in a fresh project (docs/getting-started.md)",
        action: Action::Script(".ci/getting-started"),
    },
];

/// Runs the task; returns the process exit code.
pub fn main(args: &[String]) -> u8 {
    if let Some(arg) = args.first() {
        eprintln!("error: unknown argument `{arg}` (usage: cargo xtask ci)");
        return 2;
    }
    // Set by a step for the steps after it.
    let mut env: Vec<(&str, String)> = Vec::new();
    for step in STEPS {
        eprintln!("== {}", step.title);
        match step.action {
            Action::Cargo(args) => {
                let mut command = cargo();
                command.args(args).envs(env.iter().cloned());
                if let Err(code) = run(command, &format!("step `{}`", step.title)) {
                    return code;
                }
            }
            Action::Script(script) => {
                let mut command = Command::new("bash");
                command
                    .arg(script)
                    .current_dir(project_root())
                    .envs(env.iter().cloned());
                if let Err(code) = run(command, &format!("step `{}`", step.title)) {
                    return code;
                }
            }
            Action::Postgres(script) => match postgres_url(script) {
                Ok(url) => {
                    env.push(("FOUNDATION_TEST_POSTGRES_URL", url));
                    env.push(("FOUNDATION_REQUIRE_POSTGRES", "1".to_owned()));
                }
                Err(code) => return code,
            },
        }
    }
    eprintln!("== ci passed");
    0
}

/// Runs the PostgreSQL script and returns the URL it printed last.
fn postgres_url(script: &str) -> Result<String, u8> {
    let output = Command::new("bash")
        .arg(script)
        .current_dir(project_root())
        .stderr(Stdio::inherit())
        .output();
    match output {
        Ok(output) if output.status.success() => String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .map(str::to_owned)
            .filter(|url| !url.is_empty())
            .ok_or_else(|| {
                eprintln!("error: {script} printed no URL");
                1
            }),
        Ok(output) => {
            eprintln!("error: {script} failed ({})", output.status);
            Err(1)
        }
        Err(error) => {
            eprintln!("error: cannot run bash {script}: {error}");
            Err(2)
        }
    }
}
