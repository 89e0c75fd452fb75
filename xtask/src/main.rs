//! `cargo xtask <task>`: the entry point that dispatches to one module per task.

#![forbid(unsafe_code)]

use std::process::ExitCode;

const USAGE: &str = "usage: cargo xtask <task> [args]

tasks:
  audit [PATH...] [--format text|json|sarif] [--config FILE] [--deny warnings] [--include-tests] [--stats]
        find fault-tolerance anti-patterns (docs/audit.md)
  loom  [--preemptions N]
        run the loom models of every crate that has them
  ci    run every step of .ci/run, stopping at the first failure";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let task = args.next();
    let rest: Vec<String> = args.collect();
    let code = match task.as_deref() {
        Some("audit") => foundation_audit::run("cargo xtask audit", &rest, &xtask::project_root()),
        Some("loom") => xtask::loom::main(&rest),
        Some("ci") => xtask::ci::main(&rest),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            0
        }
        Some(other) => {
            eprintln!("error: unknown task `{other}`\n\n{USAGE}");
            2
        }
        None => {
            eprintln!("{USAGE}");
            2
        }
    };
    ExitCode::from(code)
}
