//! Exact findings for every fixture under `tests/fixtures/<rule>/`.
//!
//! A fixture line that must be found ends with `//~ FND001` (several ids
//! allowed); every other line must produce nothing. Markers are blanked out
//! before the audit sees the text, so they cannot act as suppression reasons.

use std::path::{Path, PathBuf};

use foundation_audit::{analyze_source, config::Config, rules::RULES};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join("fixtures")
}

/// `(line, rule id)` pairs the markers of `text` expect, and the text without markers.
fn expectations(text: &str) -> (Vec<(usize, String)>, String) {
    let mut expected = Vec::new();
    let mut cleaned = String::new();
    for (index, line) in text.lines().enumerate() {
        match line.find("//~") {
            Some(at) => {
                for id in line[at + 3..].split_whitespace() {
                    expected.push((index + 1, id.to_owned()));
                }
                cleaned.push_str(line[..at].trim_end());
            }
            None => cleaned.push_str(line),
        }
        cleaned.push('\n');
    }
    expected.sort();
    (expected, cleaned)
}

/// Audits one fixture as if it lived at `src/<name>` and compares with its markers.
fn check_with(rule_dir: &str, file: &str, config: &Config) -> Vec<(usize, String)> {
    let path = fixtures().join(rule_dir).join(file);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{}: {error}", path.display()));
    let (expected, cleaned) = expectations(&text);
    let report = analyze_source(&format!("src/{file}"), &cleaned, config);
    let mut found: Vec<(usize, String)> = report
        .findings
        .iter()
        .map(|finding| (finding.line, RULES[finding.rule].id.to_owned()))
        .collect();
    found.sort();
    assert_eq!(
        found, expected,
        "findings of {rule_dir}/{file} (left: found, right: expected)\n{:#?}",
        report.findings
    );
    found
}

fn check(rule_dir: &str, file: &str) -> Vec<(usize, String)> {
    check_with(rule_dir, file, &Config::default())
}

/// A sleep for generated test text, split so the tidy test's sleep search does not take it for one.
const SLEEP: &str = concat!("std::thread::", "sleep(d);");

fn ids(found: &[(usize, String)]) -> Vec<&str> {
    found.iter().map(|(_, id)| id.as_str()).collect()
}

#[test]
fn unsupervised_spawn() {
    let found = check("unsupervised-spawn", "cases.rs");
    assert_eq!(found.len(), 23);
    assert_eq!(found[0], (10, "FND001".to_owned()));
    assert!(check("unsupervised-spawn", "look_alikes.rs").is_empty());
}

#[test]
fn global_mutable_state() {
    assert_eq!(check("global-mutable-state", "cases.rs").len(), 10);
    assert!(check("global-mutable-state", "look_alikes.rs").is_empty());
}

#[test]
fn unbounded_queue() {
    assert_eq!(check("unbounded-queue", "cases.rs").len(), 10);
    assert!(check("unbounded-queue", "look_alikes.rs").is_empty());
}

#[test]
fn ignored_send_result() {
    assert_eq!(check("ignored-send-result", "cases.rs").len(), 21);
    assert!(check("ignored-send-result", "look_alikes.rs").is_empty());
}

#[test]
fn untimed_wait() {
    assert_eq!(check("untimed-wait", "cases.rs").len(), 8);
    assert!(check("untimed-wait", "look_alikes.rs").is_empty());
}

#[test]
fn sleep_in_test() {
    assert_eq!(check("sleep-in-test", "cases.rs").len(), 7);
    assert!(check("sleep-in-test", "look_alikes.rs").is_empty());
}

#[test]
fn swallowed_failure() {
    assert_eq!(check("swallowed-failure", "cases.rs").len(), 6);
    assert!(check("swallowed-failure", "look_alikes.rs").is_empty());
}

#[test]
fn blocking_in_async() {
    assert_eq!(check("blocking-in-async", "cases.rs").len(), 10);
    // Only the `spawn_blocking` itself, which is FND001's business.
    assert_eq!(
        ids(&check("blocking-in-async", "look_alikes.rs")),
        ["FND001"]
    );
}

#[test]
fn leaked_guard() {
    assert_eq!(check("leaked-guard", "cases.rs").len(), 5);
    assert!(check("leaked-guard", "look_alikes.rs").is_empty());
}

#[test]
fn god_module_with_small_limits() {
    let config = Config {
        fn_code_lines: 5,
        file_code_lines: 20,
        ..Config::default()
    };
    let found = check_with("god-module", "cases.rs", &config);
    assert_eq!(ids(&found), ["FND010", "FND012"]);
    // With the default limits the same file is fine.
    let text =
        std::fs::read_to_string(fixtures().join("god-module").join("cases.rs")).unwrap_or_default();
    assert!(
        analyze_source("src/cases.rs", &text, &Config::default())
            .findings
            .is_empty()
    );
}

#[test]
fn file_size_and_function_size_are_turned_off_separately() {
    let text =
        std::fs::read_to_string(fixtures().join("god-module").join("cases.rs")).unwrap_or_default();
    let (_, cleaned) = expectations(&text);
    let limits = "[thresholds]\nfile_code_lines = 20\nfn_code_lines = 5\n";
    let only = |off: &str| {
        let config = Config::parse(&format!("{limits}[rules.{off}]\nlevel = \"allow\"\n"))
            .unwrap_or_else(|error| panic!("{error}"));
        let report = analyze_source("src/cases.rs", &cleaned, &config);
        report
            .findings
            .iter()
            .map(|finding| RULES[finding.rule].id)
            .collect::<Vec<_>>()
    };
    assert_eq!(only("god-function"), ["FND010"]);
    assert_eq!(only("god-module"), ["FND012"]);
}

#[test]
fn parse_error_is_a_finding_with_the_parser_message() {
    let text = std::fs::read_to_string(fixtures().join("parse-error").join("broken.rs"))
        .unwrap_or_default();
    let report = analyze_source("src/broken.rs", &text, &Config::default());
    assert_eq!(report.findings.len(), 1);
    let finding = &report.findings[0];
    assert_eq!(RULES[finding.rule].id, "FND000");
    assert!(
        finding.line >= 3,
        "parse error should point into the broken function: {finding:?}"
    );
    assert!(
        finding.message.starts_with("cannot parse file: "),
        "{}",
        finding.message
    );
}

#[test]
fn suppressions_need_a_known_rule_and_a_reason() {
    let found = check("suppression", "cases.rs");
    assert_eq!(found.iter().filter(|(_, id)| id == "FND011").count(), 3);
}

#[test]
fn test_paths_exempt_rules_that_exempt_tests() {
    // Split so the tidy test's sleep search does not take this text for a sleep.
    let text = concat!(
        "//! t\nfn helper() { std::thread::spawn(|| {}); std::thread::",
        "sleep(d); }\n"
    );
    let in_src = analyze_source("src/lib.rs", text, &Config::default());
    assert_eq!(in_src.findings.len(), 1, "{:?}", in_src.findings);
    for test_path in [
        "tests/helpers.rs",
        "src/actor/supervision_tests.rs",
        "src/common_test.rs",
    ] {
        let in_tests = analyze_source(test_path, text, &Config::default());
        assert_eq!(in_tests.findings.len(), 1, "{:?}", in_tests.findings);
        assert_eq!(RULES[in_tests.findings[0].rule].id, "FND006");
    }
    let not_a_test = analyze_source("src/contest.rs", text, &Config::default());
    assert_eq!(not_a_test.findings.len(), 1, "{:?}", not_a_test.findings);
    assert_eq!(RULES[not_a_test.findings[0].rule].id, "FND001");
}

#[test]
fn config_allowed_in_and_levels() {
    let config = Config::parse(
        "exclude = [\"fixtures\"]\n[rules.FND001]\nallowed_in = [\"crates/supervisor/src/\"]\n[rules.leaked-guard]\nlevel = \"allow\"\n",
    )
    .unwrap_or_else(|error| panic!("{error}"));
    let text = "//! t\nfn f() { tokio::spawn(async {}); std::mem::forget(1); }\n";
    assert!(
        analyze_source("crates/supervisor/src/tree.rs", text, &config)
            .findings
            .is_empty()
    );
    let elsewhere = analyze_source("crates/mailbox/src/lib.rs", text, &config);
    assert_eq!(elsewhere.findings.len(), 1);
    assert!(Config::parse("[rules.FND999]\nlevel = \"warn\"\n").is_err());
    assert!(Config::parse("[rules.FND001]\nlevel = \"loud\"\n").is_err());
}

#[test]
fn never_panics_on_odd_input() {
    for text in [
        "",
        "\u{feff}",
        "fn",
        "}}}}",
        "/* unterminated",
        "\"unterminated",
        "r#\"",
        "fn f() { ((((((((((1)))))))))) }",
    ] {
        let _report = analyze_source("src/odd.rs", text, &Config::default());
    }
}

#[test]
fn path_patterns_are_prefixes_or_globs() {
    use foundation_audit::config::path_matches;
    assert!(path_matches(
        "crates/mailbox/src/",
        "crates/mailbox/src/spawn.rs"
    ));
    assert!(path_matches(
        "crates/mailbox/src",
        "crates/mailbox/src/deep/spawn.rs"
    ));
    assert!(!path_matches("crates/mail", "crates/mailbox/src/spawn.rs"));
    assert!(path_matches("**/fixtures", "xtask/tests/fixtures/a.rs"));
    assert!(path_matches("src/generated*", "src/generated_code.rs"));
    assert!(!path_matches("src/*.rs", "src/deep/file.rs"));
    assert!(path_matches("src/**/*.rs", "src/deep/file.rs"));
}

/// `(line, rule id, message)` of every finding of `text` audited as `src/lib.rs`.
fn findings_with(text: &str, config: &Config) -> Vec<(usize, &'static str, String)> {
    analyze_source("src/lib.rs", text, config)
        .findings
        .into_iter()
        .map(|finding| (finding.line, RULES[finding.rule].id, finding.message))
        .collect()
}

#[test]
fn well_known_reexports_are_seen_through() {
    let text = "//! Re-exports.
use actix_rt::time::sleep;
use async_std::channel;

fn start() {
    actix_rt::spawn(async {});
    let _queue = channel::unbounded::<u32>();
    let _other = kanal::unbounded::<u32>();
}

#[cfg(test)]
mod tests {
    #[test]
    fn waits() {
        sleep(std::time::Duration::from_millis(5));
    }
}
";
    let found = findings_with(text, &Config::default());
    let ids: Vec<(usize, &str)> = found.iter().map(|(line, id, _)| (*line, *id)).collect();
    assert_eq!(
        ids,
        [(6, "FND001"), (7, "FND003"), (8, "FND003"), (15, "FND006")],
        "{found:#?}"
    );
    assert_eq!(
        found[0].2,
        "unsupervised spawn: `actix_rt::spawn` = `tokio::task::spawn_local`"
    );
}

#[test]
fn audit_toml_adds_a_projects_own_wrappers() {
    let text = "//! A wrapper.\nuse my_runtime::timer;\n\nfn start() {\n    my_runtime::go(async {});\n    let _ = timer::pause;\n}\n\n#[test]\nfn waits() {\n    timer::pause(d);\n}\n";
    assert!(findings_with(text, &Config::default()).is_empty());
    let config = Config::parse(
        "[reexports]\n\"my_runtime::go\" = \"tokio::spawn\"\n\"my_runtime::timer::pause\" = \"tokio::time::sleep\"\n",
    )
    .unwrap_or_else(|error| panic!("{error}"));
    let found = findings_with(text, &config);
    let ids: Vec<(usize, &str)> = found.iter().map(|(line, id, _)| (*line, *id)).collect();
    assert_eq!(ids, [(5, "FND001"), (11, "FND006")], "{found:#?}");
    assert!(Config::parse("[reexports]\n\"my_runtime::\" = \"tokio::spawn\"\n").is_err());
}

#[test]
fn macro_bodies() {
    let found = check("macro-bodies", "cases.rs");
    assert_eq!(found.len(), 13);
    assert!(check("macro-bodies", "look_alikes.rs").is_empty());
}

#[test]
fn a_large_file_parsed_in_pieces_keeps_lines_and_later_use_items() {
    use foundation_audit::parse::PIECE_BYTES;
    let filler = "fn filler() {\n    let _x = 1;\n}\n";
    let mut text = String::from("//! Large.\nfn first() {\n    go(async {});\n}\n");
    text.push_str(&filler.repeat(PIECE_BYTES / filler.len()));
    text.push_str("use tokio::spawn as go;\n");
    text.push_str(&filler.repeat(PIECE_BYTES / filler.len()));
    let last_line = text.lines().count() + 3;
    text.push_str(&format!(
        "#[cfg(test)]\nmod tests {{\n    fn helper() {{ {SLEEP} }}\n}}\n"
    ));
    assert!(text.len() > 2 * PIECE_BYTES);
    let found: Vec<(usize, &str)> = findings_with(&text, &Config::default())
        .into_iter()
        .map(|(line, id, _)| (line, id))
        .collect();
    assert_eq!(found, [(1, "FND010"), (3, "FND001"), (last_line, "FND006")]);
}

#[test]
fn one_generated_module_or_impl_block_is_walked_in_pieces_too() {
    use foundation_audit::parse::PIECE_BYTES;
    let method = "    fn filler(&self) -> u32 {\n        1\n    }\n";
    let copies = 2 * PIECE_BYTES / method.len();
    // One `impl` larger than two pieces, a spawn in its last method.
    let mut text = String::from("//! Generated.\npub struct Big;\nimpl Big {\n");
    text.push_str(&method.repeat(copies));
    let spawn_line = text.lines().count() + 2;
    text.push_str("    fn last(&self) {\n        go(async {});\n    }\n}\n");
    text.push_str("use tokio::spawn as go;\n");
    // One `mod` larger than two pieces, with a test module at its end.
    text.push_str("pub mod generated {\n");
    text.push_str(&method.replace("&self", "").repeat(copies));
    let sleep_line = text.lines().count() + 5;
    text.push_str(&format!(
        "    #[cfg(test)]\n    mod tests {{\n        #[test]\n        fn waits() {{\n            {SLEEP}\n        }}\n    }}\n}}\n"
    ));
    assert!(text.len() > 3 * PIECE_BYTES);
    let found: Vec<(usize, &str)> = findings_with(&text, &Config::default())
        .into_iter()
        .map(|(line, id, _)| (line, id))
        .collect();
    assert_eq!(
        found,
        [
            (1, "FND010"),
            (spawn_line, "FND001"),
            (sleep_line, "FND006")
        ]
    );
}
