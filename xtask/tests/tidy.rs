//! Tidy: what reviewers would otherwise nag about, checked by plain `cargo test`.
//!
//! Scans the workspace's Rust sources (`crates/`, `xtask/src`, `benches/`,
//! `tests/`; never `target/` or hidden directories) and every `Cargo.toml`.
//! Each check lists every offending `file:line` before failing. An empty
//! file counts as not opening with `//!`.

use std::path::{Path, PathBuf};

use xtask::project_root;

fn walk(dir: &Path, out: &mut Vec<PathBuf>, keep: &dyn Fn(&Path) -> bool) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = entries.flatten().map(|entry| entry.path()).collect();
    entries.sort();
    for path in entries {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            if !name.starts_with('.')
                && name != "target"
                && !path.ends_with("crates/audit/tests/fixtures")
            {
                walk(&path, out, keep);
            }
        } else if keep(&path) {
            out.push(path);
        }
    }
}

/// Every Rust source file tidy looks at.
fn rust_files() -> Vec<PathBuf> {
    let root = project_root();
    let mut files = Vec::new();
    for dir in ["crates", "xtask/src", "benches", "tests"] {
        walk(&root.join(dir), &mut files, &|path| {
            path.extension().is_some_and(|ext| ext == "rs")
        });
    }
    files
}

/// Every `Cargo.toml` of the workspace, the root's first.
fn manifests() -> Vec<PathBuf> {
    let root = project_root();
    let mut files = vec![root.join("Cargo.toml")];
    for dir in ["crates", "xtask", "benches", "tests"] {
        walk(&root.join(dir), &mut files, &|path| {
            path.ends_with("Cargo.toml")
        });
    }
    files
}

fn shown(path: &Path) -> String {
    let root = project_root();
    path.strip_prefix(&root)
        .unwrap_or(path)
        .display()
        .to_string()
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn fail_on(check: &str, problems: &[String]) {
    assert!(
        problems.is_empty(),
        "tidy: {check}:\n  {}\n",
        problems.join("\n  ")
    );
}

#[test]
fn every_file_opens_with_a_module_doc() {
    let problems: Vec<String> = rust_files()
        .into_iter()
        .filter_map(|path| {
            // Crate attributes (`#![forbid(unsafe_code)]`) may come first in a crate root (STYLE.md).
            let text = read(&path);
            let (index, first) = text
                .lines()
                .enumerate()
                .find(|(_, line)| !line.starts_with("#!["))?;
            (!first.starts_with("//!")).then(|| {
                format!(
                    "{}:{}: file does not open with a `//!` doc comment",
                    shown(&path),
                    index + 1
                )
            })
        })
        .collect();
    fail_on("every .rs file starts with `//!`", &problems);
}

#[test]
fn no_mod_rs() {
    let problems: Vec<String> = rust_files()
        .into_iter()
        .filter(|path| path.ends_with("mod.rs"))
        .map(|path| {
            format!(
                "{}: use `foo.rs` beside `foo/` instead of `mod.rs`",
                shown(&path)
            )
        })
        .collect();
    fail_on("no mod.rs", &problems);
}

#[test]
fn no_ignored_or_should_panic_tests_and_no_dbg() {
    // Built with concat! so this file never matches itself.
    let banned = [
        (
            concat!("#[", "ignore"),
            "no ignored tests: fix or delete the test",
        ),
        (
            concat!("#[", "should_panic"),
            "no should_panic: assert on the `Err` instead",
        ),
        (concat!("dbg", "!("), "no dbg!: remove the debugging output"),
    ];
    let mut problems = Vec::new();
    for path in rust_files() {
        for (index, line) in read(&path).lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("//") {
                continue;
            }
            for (needle, why) in banned {
                if code.contains(needle) {
                    problems.push(format!("{}:{}: {why}", shown(&path), index + 1));
                }
            }
        }
    }
    fail_on("banned test attributes and macros", &problems);
}

#[test]
fn no_sleeps_in_tests() {
    let sleeps = [concat!("thread::", "sleep"), concat!("time::", "sleep(")];
    let mut problems = Vec::new();
    for path in rust_files() {
        let name = shown(&path);
        let whole_file_is_test = name.starts_with("tests/")
            || name.contains("/tests/")
            || name.ends_with("/tests.rs")
            || name.ends_with("/test.rs");
        let mut in_test = whole_file_is_test;
        for (index, line) in read(&path).lines().enumerate() {
            let code = line.trim_start();
            if code.starts_with("#[cfg(test)]") {
                in_test = true;
            }
            if in_test && !code.starts_with("//") && sleeps.iter().any(|sleep| code.contains(sleep))
            {
                problems.push(format!(
                    "{name}:{}: a sleep in test code: wait for the event itself (channel, barrier, paused time)",
                    index + 1
                ));
            }
        }
    }
    fail_on("no sleeps in tests", &problems);
}

/// `(section, line number, line)` for every line of a manifest, comments removed.
fn sections(text: &str) -> Vec<(String, usize, String)> {
    let mut section = String::new();
    let mut lines = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = raw.split(" #").next().unwrap_or("").trim().to_owned();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            section = line.trim_matches(['[', ']']).to_owned();
            continue;
        }
        lines.push((section.clone(), index + 1, line));
    }
    lines
}

#[test]
fn internal_path_dependencies_carry_a_version() {
    let mut problems = Vec::new();
    for manifest in manifests() {
        let lines = sections(&read(&manifest));
        for (section, number, line) in &lines {
            if !section.contains("dependencies") {
                continue;
            }
            let is_table_form =
                section.ends_with("dependencies") || section.contains("dependencies.");
            // Inline form: `name = { path = "..", version = ".." }`.
            if line.contains('{') && line.contains("path") && !line.contains("version") {
                problems.push(format!(
                    "{}:{number}: path dependency without `version`: {line}",
                    shown(&manifest)
                ));
            }
            // Table form: `[dependencies.name]` with `path = ".."` on its own line.
            if is_table_form && section.contains("dependencies.") && line.starts_with("path") {
                let has_version = lines
                    .iter()
                    .any(|(other, _, text)| other == section && text.starts_with("version"));
                if !has_version {
                    problems.push(format!(
                        "{}:{number}: path dependency without `version` in [{section}]",
                        shown(&manifest)
                    ));
                }
            }
        }
    }
    fail_on(
        "internal path dependencies carry `path` and `version`",
        &problems,
    );
}

#[test]
fn every_crate_uses_the_workspace_lints() {
    let mut problems = Vec::new();
    for manifest in manifests().into_iter().skip(1) {
        let lines = sections(&read(&manifest));
        let opted_in = lines.iter().any(|(section, _, line)| {
            section == "lints" && line.replace(' ', "") == "workspace=true"
        });
        if !opted_in {
            problems.push(format!(
                "{}: missing `[lints] workspace = true`",
                shown(&manifest)
            ));
        }
    }
    fail_on("every crate opts into the workspace lints", &problems);
}

#[test]
fn every_crate_has_a_readme() {
    let mut problems = Vec::new();
    let Ok(entries) = std::fs::read_dir(project_root().join("crates")) else {
        return;
    };
    let mut crates: Vec<PathBuf> = entries
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    crates.sort();
    for krate in crates {
        if krate.join("Cargo.toml").is_file() && !krate.join("README.md").is_file() {
            problems.push(format!("{}: missing README.md", shown(&krate)));
        }
    }
    fail_on("every crate under crates/ has a README.md", &problems);
}

#[test]
fn no_file_over_600_lines_in_crates() {
    let mut problems = Vec::new();
    for path in rust_files() {
        let name = shown(&path);
        if !name.starts_with("crates/") {
            continue;
        }
        let lines = read(&path).lines().count();
        if lines > 600 {
            problems.push(format!(
                "{name}:601: {lines} lines; split it by responsibility (limit 600)"
            ));
        }
    }
    fail_on("no file over 600 lines in crates/", &problems);
}
