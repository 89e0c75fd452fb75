//! The `cargo-foundation-audit` binary end to end: output formats, the caret, exit codes, config discovery.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

/// A scratch project: `audit.toml` plus `src/*.rs`, in its own directory.
fn project(name: &str, config: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("audit-cli")
        .join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("src")).unwrap_or_else(|error| panic!("{error}"));
    std::fs::write(dir.join("audit.toml"), config).unwrap_or_else(|error| panic!("{error}"));
    for (file, text) in files {
        std::fs::write(dir.join("src").join(file), text).unwrap_or_else(|error| panic!("{error}"));
    }
    dir
}

fn audit(dir: &Path, args: &[&str]) -> Output {
    let config = dir.join("audit.toml");
    Command::new(env!("CARGO_BIN_EXE_cargo-foundation-audit"))
        .arg("foundation-audit")
        .arg("--config")
        .arg(&config)
        .args(args)
        .arg(dir)
        .output()
        .unwrap_or_else(|error| panic!("cannot run the audit: {error}"))
}

const SPAWN: &str =
    "//! A file with one finding.\n\nfn start() {\n    tokio::spawn(async {});\n}\n";
const CLEAN: &str = "//! A clean file.\n\nfn start() {}\n";

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn text_output_points_a_caret_at_the_column() {
    let dir = project("text", "", &[("spawn.rs", SPAWN)]);
    let output = audit(&dir, &[]);
    let text = stdout(&output);
    assert_eq!(
        output.status.code(),
        Some(0),
        "warnings alone do not fail: {text}"
    );
    let expected = "warning[FND001]: unsupervised spawn: `tokio::spawn`
  --> src/spawn.rs:4:5
   |
 4 |     tokio::spawn(async {});
   |     ^
";
    let expected = expected
        .replace(" 4 |", "4 |")
        .replace("   |", "  |")
        .replace("  --> ", " --> ");
    assert!(
        text.starts_with(&expected),
        "got:\n{text}\nwanted:\n{expected}"
    );
    assert!(
        text.contains("= help: start it under a supervisor"),
        "{text}"
    );
    assert!(
        text.contains("audit: 0 error(s), 1 warning(s) in 1 file(s)"),
        "{text}"
    );
}

#[test]
fn exit_codes() {
    let dir = project("codes", "", &[("spawn.rs", SPAWN)]);
    assert_eq!(audit(&dir, &["--deny", "warnings"]).status.code(), Some(1));
    assert_eq!(audit(&dir, &["--deny=warnings"]).status.code(), Some(1));

    let deny = project(
        "deny",
        "[rules.FND001]\nlevel = \"deny\"\n",
        &[("spawn.rs", SPAWN)],
    );
    let output = audit(&deny, &[]);
    assert_eq!(output.status.code(), Some(1));
    assert!(stdout(&output).starts_with("error[FND001]"));

    let allow = project(
        "allow",
        "[rules.unsupervised-spawn]\nlevel = \"allow\"\n",
        &[("spawn.rs", SPAWN)],
    );
    assert_eq!(
        audit(&allow, &["--deny", "warnings"]).status.code(),
        Some(0)
    );

    let clean = project("clean", "", &[("clean.rs", CLEAN)]);
    assert_eq!(
        audit(&clean, &["--deny", "warnings"]).status.code(),
        Some(0)
    );

    let broken = project("broken", "", &[("broken.rs", "fn broken( {\n")]);
    assert_eq!(
        audit(&broken, &[]).status.code(),
        Some(1),
        "parse errors are deny by default"
    );

    assert_eq!(audit(&clean, &["--format", "yaml"]).status.code(), Some(2));
    assert_eq!(audit(&clean, &["--bogus"]).status.code(), Some(2));
    assert_eq!(
        audit(&clean, &["/definitely/not/here"]).status.code(),
        Some(2)
    );
    let bad_config = project(
        "bad-config",
        "[rules.FND001]\nlevel = \"loud\"\n",
        &[("clean.rs", CLEAN)],
    );
    assert_eq!(audit(&bad_config, &[]).status.code(), Some(2));
}

#[test]
fn json_output_for_scripts() {
    let dir = project("json", "", &[("spawn.rs", SPAWN), ("clean.rs", CLEAN)]);
    let output = audit(&dir, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("invalid JSON: {error}"));
    assert_eq!(value["files"], 2);
    assert_eq!(value["summary"]["warnings"], 1);
    let finding = &value["findings"][0];
    assert_eq!(finding["rule"], "FND001");
    assert_eq!(finding["name"], "unsupervised-spawn");
    assert_eq!(finding["level"], "warning");
    assert_eq!(finding["path"], "src/spawn.rs");
    assert_eq!(finding["line"], 4);
    assert_eq!(finding["column"], 5);
    assert!(
        finding["help"]
            .as_str()
            .is_some_and(|help| !help.is_empty())
    );
}

#[test]
fn sarif_output_has_the_required_fields() {
    let dir = project("sarif", "", &[("spawn.rs", SPAWN)]);
    let output = audit(&dir, &["--format", "sarif"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|error| panic!("invalid SARIF JSON: {error}"));
    assert!(
        value["$schema"]
            .as_str()
            .is_some_and(|schema| schema.contains("sarif-2.1.0"))
    );
    assert_eq!(value["version"], "2.1.0");
    let run = &value["runs"][0];
    let rules = run["tool"]["driver"]["rules"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(rules.len(), 13);
    for rule in &rules {
        for field in ["id", "name"] {
            assert!(rule[field].is_string(), "rule lacks {field}: {rule}");
        }
        assert!(rule["shortDescription"]["text"].is_string());
        assert!(rule["help"]["text"].is_string());
    }
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "FND001");
    assert_eq!(result["level"], "warning");
    assert!(result["message"]["text"].is_string());
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "src/spawn.rs");
    assert_eq!(location["region"]["startLine"], 4);
    assert_eq!(location["region"]["startColumn"], 5);
}

#[test]
fn excluded_paths_and_allowed_in() {
    let config =
        "exclude = [\"src/generated*\"]\n[rules.FND001]\nallowed_in = [\"src/supervisor.rs\"]\n";
    let dir = project(
        "exclude",
        config,
        &[
            ("generated_code.rs", SPAWN),
            ("supervisor.rs", SPAWN),
            ("clean.rs", CLEAN),
        ],
    );
    let output = audit(&dir, &["--deny", "warnings", "--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    assert_eq!(value["files"], 2, "the generated file is excluded: {value}");
    assert_eq!(output.status.code(), Some(0));
}

#[test]
fn a_file_nested_too_deeply_is_a_finding_and_the_others_are_still_audited() {
    let parens = format!(
        "//! Generated.\n\nfn f() -> u32 {{\n    {}1{}\n}}\n",
        "(".repeat(30_000),
        ")".repeat(30_000)
    );
    let blocks = format!(
        "//! Generated.\n\nfn g() {}{}\n",
        "{".repeat(20_000),
        "}".repeat(20_000)
    );
    let dir = project(
        "deep",
        "",
        &[
            ("parens.rs", &parens),
            ("blocks.rs", &blocks),
            ("spawn.rs", SPAWN),
        ],
    );
    let output = audit(&dir, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|error| {
        panic!(
            "invalid JSON ({error}); stderr: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_eq!(value["files"], 3);
    let findings = value["findings"].as_array().cloned().unwrap_or_default();
    let found: Vec<(String, String)> = findings
        .iter()
        .map(|finding| {
            (
                finding["path"].as_str().unwrap_or("").to_owned(),
                finding["rule"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let pairs = |path: &str, rule: &str| (path.to_owned(), rule.to_owned());
    assert_eq!(
        found,
        [
            pairs("src/blocks.rs", "FND000"),
            pairs("src/parens.rs", "FND000"),
            pairs("src/spawn.rs", "FND001"),
        ],
        "{value}"
    );
    assert!(
        findings[0]["message"]
            .as_str()
            .is_some_and(|message| message.starts_with("nesting too deep")),
        "{value}"
    );
    assert_eq!(
        output.status.code(),
        Some(1),
        "FND000 is deny by default (docs/audit.md)"
    );
}

#[test]
fn the_audit_toml_at_the_audited_root_is_used_without_config() {
    let dir = project(
        "discover",
        "[rules.FND001]\nlevel = \"deny\"\n",
        &[("spawn.rs", SPAWN)],
    );
    let output = Command::new(env!("CARGO_BIN_EXE_cargo-foundation-audit"))
        .arg(&dir)
        .output()
        .unwrap_or_else(|error| panic!("cannot run the audit: {error}"));
    let text = stdout(&output);
    assert!(
        text.starts_with("error[FND001]"),
        "the project's audit.toml makes FND001 deny: {text}"
    );
    assert!(
        text.contains(" --> src/spawn.rs:4:5"),
        "paths are relative to the discovered config: {text}"
    );
    assert_eq!(output.status.code(), Some(1));
}

#[test]
fn findings_hidden_in_test_code_are_counted_and_include_tests_shows_them() {
    let tests = "//! Test code with findings the defaults exempt.\n\n#[test]\nfn spawns() {\n    tokio::spawn(async {});\n}\n\n#[cfg(test)]\nmod tests {\n    fn queue() {\n        let _queue = std::sync::mpsc::channel::<u32>();\n    }\n}\n";
    let dir = project("include-tests", "", &[("lib.rs", tests)]);
    let output = audit(&dir, &[]);
    let text = stdout(&output);
    assert!(
        text.contains("audit: 0 error(s), 0 warning(s) in 1 file(s)"),
        "{text}"
    );
    assert!(
        text.contains("2 findings in test code not shown (--include-tests to show them)"),
        "{text}"
    );
    let json = audit(&dir, &["--format", "json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap_or_default();
    assert_eq!(value["summary"]["test_code_not_shown"], 2, "{value}");

    let output = audit(&dir, &["--include-tests"]);
    let text = stdout(&output);
    assert!(text.contains("warning[FND001]"), "{text}");
    assert!(text.contains("warning[FND003]"), "{text}");
    assert!(
        text.contains("audit: 0 error(s), 2 warning(s) in 1 file(s)"),
        "{text}"
    );
    assert!(!text.contains("not shown"), "{text}");
}

/// The fixture project CI audits with the built binary (`.ci/run`).
fn fixture_project() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/project")
}

#[test]
fn the_ci_fixture_project_passes_only_with_its_own_audit_toml() {
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_cargo-foundation-audit"))
            .arg("foundation-audit")
            .args(args)
            .arg(fixture_project())
            .output()
            .unwrap_or_else(|error| panic!("cannot run the audit: {error}"))
    };
    let output = run(&["--deny", "warnings"]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(0), "{text}");
    assert!(
        text.contains("audit: 1 finding in test code not shown"),
        "{text}"
    );

    let empty = Path::new(env!("CARGO_TARGET_TMPDIR")).join("empty-audit.toml");
    std::fs::write(&empty, "").unwrap_or_else(|error| panic!("{error}"));
    let empty = empty.display().to_string();
    let output = run(&["--deny", "warnings", "--config", &empty]);
    let text = stdout(&output);
    assert_eq!(output.status.code(), Some(1), "{text}");
    assert!(text.contains("warning[FND001]"), "{text}");
}

#[test]
fn a_large_generated_file_is_audited_in_bounded_memory() {
    // 1.5 MB of functions: parsed whole it would take some 170 MB; in pieces
    // it stays near the same 50 MB a 5 MB file takes.
    let function = "pub fn handler(x: u64) -> u64 {\n    let y = x.wrapping_mul(31) ^ 7;\n    if y % 3 == 0 { y / 3 } else { y + 1 }\n}\n";
    let text = format!(
        "//! Generated.\n{}",
        function.repeat(1_500_000 / function.len())
    );
    let dir = project("large-generated", "", &[("generated.rs", &text)]);
    let output = audit(&dir, &["--stats"]);
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(stderr.contains("1 files"), "{stderr}");
    // Peak memory is reported where the system says (Linux); check it there.
    if let Some(at) = stderr.find("peak memory ") {
        let megabytes: f64 = stderr[at + "peak memory ".len()..]
            .split_whitespace()
            .next()
            .and_then(|number| number.parse().ok())
            .unwrap_or_else(|| panic!("no number after `peak memory`: {stderr}"));
        assert!(megabytes < 100.0, "{megabytes} MB: {stderr}");
    }
}
