//! `cargo xtask ci` and `.ci/run` run the same cargo commands in the same order.

use xtask::{ci::STEPS, loom, project_root};

#[test]
fn ci_script_and_xtask_ci_agree() {
    let script = project_root().join(".ci").join("run");
    let text = std::fs::read_to_string(&script)
        .unwrap_or_else(|error| panic!("{}: {error}", script.display()));
    // The cargo commands, and the script that starts PostgreSQL (called as
    // `VAR="$(bash .ci/postgres)"`).
    let from_script: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter_map(|line| {
            if line.starts_with("cargo ") {
                Some(line.to_owned())
            } else {
                line.find("bash .ci/")
                    .map(|at| line[at..].trim_end_matches([')', '"']).to_owned())
            }
        })
        .collect();
    let from_steps: Vec<String> = STEPS.iter().map(|step| step.script_line()).collect();
    assert_eq!(
        from_script, from_steps,
        ".ci/run (left) and xtask/src/ci.rs STEPS (right) differ"
    );
}

#[test]
fn loom_crates_are_workspace_members() {
    let root = project_root();
    for krate in loom::LOOM_CRATES {
        let folder = krate.trim_start_matches("foundation-");
        let manifest = root.join("crates").join(folder).join("Cargo.toml");
        let text = std::fs::read_to_string(&manifest).unwrap_or_default();
        assert!(
            text.contains(&format!("name = \"{krate}\"")),
            "{krate} is not at {}",
            manifest.display()
        );
    }
}
