#![forbid(unsafe_code)]
//! Find the patterns that break fault tolerance in concurrent Rust, by parsing it with syn.
//!
//! The audit flags unsupervised spawns, unbounded queues, ignored send
//! results, untimed waits, blocking calls in async code and the like: each
//! rule, its reason and its fix are in [`rules::RULES`] and in the crate's
//! guide (`docs/audit.md` in the Foundation repository). It runs three ways:
//!
//! - `cargo install --path crates/audit`, then `cargo foundation-audit` in any
//!   project (the `cargo-foundation-audit` binary);
//! - from a project's own `xtask`, through [`run`], which takes the same
//!   arguments and returns the exit code;
//! - on one file's text, through [`analyze_source`], for tools and tests.
//!
//! ```
//! use foundation_audit::{analyze_source, config::Config, rules::RULES};
//!
//! let text = "//! Example.\nfn start() {\n    tokio::spawn(async {});\n}\n";
//! let report = analyze_source("src/lib.rs", text, &Config::default());
//! let ids: Vec<&str> = report.findings.iter().map(|finding| RULES[finding.rule].id).collect();
//! assert_eq!(ids, ["FND001"]);
//! ```
//!
//! # How it runs
//!
//! [`run`] finds the files ([`walk`]), analyses them in parallel on scoped
//! worker threads, prints a report ([`report`]: text, JSON or SARIF) and turns
//! the findings into an exit code: 0 clean, 1 failing findings, 2 usage,
//! configuration or I/O errors.

mod cli;
pub mod config;
pub mod nesting;
pub mod parse;
pub mod reexports;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod source;
pub mod visitor;
pub mod walk;

pub use self::cli::{Format, run};
use self::{config::Config, rules::Level};

/// One finding in one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Index into [`rules::RULES`].
    pub rule: usize,
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub column: usize,
    /// What was found, naming the offending call or item.
    pub message: String,
    /// The text of the offending line, for the caret display.
    pub source_line: String,
}

/// The result of analysing one file.
#[derive(Debug, Default)]
pub struct FileReport {
    /// Path relative to the audit's base directory, `/`-separated.
    pub path: String,
    /// Findings after levels, test exemptions, `allowed_in` and suppressions.
    pub findings: Vec<Finding>,
    /// Lines in the file (for speed statistics).
    pub lines: usize,
    /// Findings in test code not reported because their rule exempts tests
    /// (after levels, `allowed_in` and suppressions), for the "not shown" note.
    pub hidden_in_tests: usize,
}

/// Whether a path names test code as a whole: under a `tests/` or `benches/`
/// directory, a `tests.rs` / `test.rs` file or one named `*_tests.rs` /
/// `*_test.rs` (a `#[cfg(test)] mod supervision_tests;` in its own file), or
/// a loom model (`loom_models` in the path).
pub fn path_is_test(path: &str) -> bool {
    let mut parts = path.split('/').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        let test_dir = !last && matches!(part, "tests" | "benches");
        let test_file = last
            && (matches!(part, "tests.rs" | "test.rs")
                || part.ends_with("_tests.rs")
                || part.ends_with("_test.rs"));
        if test_dir || test_file || part.trim_end_matches(".rs") == "loom_models" {
            return true;
        }
    }
    false
}

/// Analyses one file's text. `path` is relative to the base directory and is
/// matched against `allowed_in` and used to tell test files apart.
pub fn analyze_source(path: &str, text: &str, config: &Config) -> FileReport {
    let lines: Vec<&str> = text.lines().collect();
    let mut findings = Vec::new();
    let mut exempt_in_tests = Vec::new();
    let suppressions = source::scan(text, &mut findings);
    let code = source::code_lines(text);
    let scan = nesting::scan(text, nesting::MAX_DEPTH);
    let parsed = match scan.too_deep {
        // Parsing would recurse past any stack: say so and audit the other files.
        Some((line, column)) => {
            findings.push(Finding {
                rule: rules::PARSE_ERROR,
                line,
                column,
                message: format!(
                    "nesting too deep: brackets nest more than {} levels here; the file is not parsed",
                    nesting::MAX_DEPTH
                ),
                source_line: lines.get(line - 1).copied().unwrap_or("").to_owned(),
            });
            None
        }
        None => {
            let context = parse::Context {
                config,
                lines: &lines,
                code: &code,
                file_is_test: path_is_test(path),
            };
            Some(parse::walk(
                &parse::without_docs(text, &scan),
                &scan,
                &context,
            ))
        }
    };
    match parsed {
        None => {}
        Some(Ok(mut walked)) => {
            findings.append(&mut walked.findings);
            exempt_in_tests.append(&mut walked.exempt_in_tests);
        }
        Some(Err(error)) => {
            let start = error.span().start();
            findings.push(Finding {
                rule: rules::PARSE_ERROR,
                line: start.line.max(1),
                column: start.column + 1,
                message: format!("cannot parse file: {error}"),
                source_line: lines
                    .get(start.line.saturating_sub(1))
                    .copied()
                    .unwrap_or("")
                    .to_owned(),
            });
        }
    }
    let code_lines = code.iter().filter(|is_code| **is_code).count();
    if code_lines > config.file_code_lines {
        findings.push(Finding {
            rule: rules::GOD_MODULE,
            line: 1,
            column: 1,
            message: format!(
                "god module: {code_lines} lines of code (limit {})",
                config.file_code_lines
            ),
            source_line: lines.first().copied().unwrap_or("").to_owned(),
        });
    }
    let shown = |finding: &Finding| {
        let settings = &config.rules[finding.rule];
        settings.level != Level::Allow
            && !settings
                .allowed_in
                .iter()
                .any(|pattern| config::path_matches(pattern, path))
            && !suppressions.covers(finding.line, finding.rule)
    };
    findings.retain(shown);
    exempt_in_tests.retain(shown);
    exempt_in_tests.sort_by_key(|finding| (finding.line, finding.column, finding.rule));
    exempt_in_tests.dedup();
    findings.sort_by_key(|finding| (finding.line, finding.column, finding.rule));
    findings.dedup();
    FileReport {
        path: path.to_owned(),
        findings,
        lines: lines.len(),
        hidden_in_tests: exempt_in_tests.len(),
    }
}

/// The README's example, compiled and run as a doctest.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;
