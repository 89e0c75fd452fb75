//! `cargo xtask audit`: find the patterns that break fault tolerance, by parsing Rust with syn.
//!
//! The rules, their reasons and fixes are in [`rules::RULES`] and in
//! `docs/audit.md`. One file is analysed by [`analyze_source`]; [`main`] finds
//! the files, analyses them in parallel ([`walk`]), prints a report
//! ([`report`]) and turns the findings into an exit code.

pub mod config;
pub mod nesting;
pub mod report;
pub mod resolve;
pub mod rules;
pub mod source;
pub mod visitor;
pub mod walk;

use std::{path::PathBuf, time::Instant};

use syn::visit::Visit as _;

use self::{config::Config, rules::Level};
use crate::project_root;

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
/// directory, a `tests.rs` / `test.rs` file (a `#[cfg(test)] mod tests;` in
/// its own file), or a loom model (`loom_models` in the path).
pub fn path_is_test(path: &str) -> bool {
    let mut parts = path.split('/').peekable();
    while let Some(part) = parts.next() {
        let last = parts.peek().is_none();
        let test_dir = !last && matches!(part, "tests" | "benches");
        let test_file = last && matches!(part, "tests.rs" | "test.rs");
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
    let too_deep = nesting::too_deep(text, nesting::MAX_DEPTH);
    let parsed = match too_deep {
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
        None => Some(syn::parse_file(text)),
    };
    match parsed {
        None => {}
        Some(Ok(file)) => {
            let aliases = resolve::Aliases::collect(&file);
            let mut auditor =
                visitor::Auditor::new(&aliases, config, &lines, &code, path_is_test(path));
            auditor.visit_file(&file);
            findings.append(&mut auditor.findings);
            exempt_in_tests.append(&mut auditor.exempt_in_tests);
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

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// rustc-style diagnostics.
    Text,
    /// One JSON document for scripts.
    Json,
    /// SARIF 2.1.0 for code scanning.
    Sarif,
}

/// Parsed command line.
#[derive(Debug)]
struct Options {
    paths: Vec<PathBuf>,
    format: Format,
    config: Option<PathBuf>,
    deny_warnings: bool,
    stats: bool,
    include_tests: bool,
}

const USAGE: &str = "usage: cargo xtask audit [PATH...] [--format text|json|sarif] [--config FILE] [--deny warnings] [--include-tests] [--stats]";

fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut options = Options {
        paths: Vec::new(),
        format: Format::Text,
        config: None,
        deny_warnings: false,
        stats: false,
        include_tests: false,
    };
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if arg.starts_with("--") => (flag, Some(value.to_owned())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| iter.next().cloned())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag {
            "--format" => {
                options.format = match value()?.as_str() {
                    "text" => Format::Text,
                    "json" => Format::Json,
                    "sarif" => Format::Sarif,
                    other => return Err(format!("unknown format `{other}`")),
                }
            }
            "--config" => options.config = Some(PathBuf::from(value()?)),
            "--deny" | "-D" => match value()?.as_str() {
                "warnings" => options.deny_warnings = true,
                other => return Err(format!("--deny takes `warnings`, not `{other}`")),
            },
            "--stats" => options.stats = true,
            "--include-tests" => options.include_tests = true,
            "-h" | "--help" => return Err(String::new()),
            other if other.starts_with('-') => return Err(format!("unknown flag `{other}`")),
            path => options.paths.push(PathBuf::from(path)),
        }
    }
    Ok(options)
}

/// The `audit.toml` that applies when `--config` is not given, as clippy
/// finds `clippy.toml`: the one at the audited root (the first path given: a
/// directory, or the directory holding a file), else the one at `root` (the
/// project the audit runs in).
fn discover_config(paths: &[PathBuf], root: &std::path::Path) -> Option<PathBuf> {
    let audited = paths.first().map(|path| {
        if path.is_file() {
            path.parent()
                .map(std::path::Path::to_path_buf)
                .unwrap_or_default()
        } else {
            path.clone()
        }
    });
    audited
        .into_iter()
        .chain([root.to_path_buf()])
        .map(|dir| dir.join("audit.toml"))
        .find(|path| path.is_file())
}

/// Runs the task; returns the process exit code (0 clean, 1 failing findings, 2 usage or I/O error).
pub fn main(args: &[String]) -> u8 {
    let options = match parse_args(args) {
        Ok(options) => options,
        Err(error) => {
            if !error.is_empty() {
                eprintln!("error: {error}");
            }
            eprintln!("{USAGE}");
            return 2;
        }
    };
    let root = project_root();
    let config_path = options
        .config
        .clone()
        .or_else(|| discover_config(&options.paths, &root));
    let mut config = match &config_path {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|error| error.to_string())
            .and_then(|text| Config::parse(&text))
        {
            Ok(config) => config,
            Err(error) => {
                eprintln!("error: cannot use config {}: {error}", path.display());
                return 2;
            }
        },
        None => Config::default(),
    };
    if options.include_tests {
        for rule in &mut config.rules {
            rule.exempt_tests = false;
        }
    }
    // Paths in findings and in `exclude`/`allowed_in` are relative to the
    // directory of the config file, or the workspace root without one.
    let base = config_path
        .as_ref()
        .and_then(|path| path.parent().map(std::path::Path::to_path_buf))
        .unwrap_or_else(|| root.clone());
    let base = std::fs::canonicalize(&base).unwrap_or(base);
    let inputs = if options.paths.is_empty() {
        vec![root]
    } else {
        options.paths.clone()
    };
    let started = Instant::now();
    let walked = walk::collect(&inputs, &base, &config);
    let mut io_errors = walked.errors;
    let outcome = walk::analyze_all(walked.files, &config);
    io_errors.extend(outcome.errors);
    let elapsed = started.elapsed().as_secs_f64();
    let reports = outcome.reports;
    let output = match options.format {
        Format::Text => report::text(&reports, &config),
        Format::Json => report::json(&reports, &config),
        Format::Sarif => report::sarif(&reports, &config),
    };
    print!("{output}");
    for error in &io_errors {
        eprintln!("error: {error}");
    }
    if options.stats {
        let lines: usize = reports.iter().map(|report| report.lines).sum();
        let speed = lines as f64 / elapsed.max(1e-9);
        eprintln!(
            "audit: {} files, {lines} lines in {elapsed:.2} s ({speed:.0} lines/s, {} threads)",
            reports.len(),
            walk::threads()
        );
    }
    if !io_errors.is_empty() {
        return 2;
    }
    let failing = reports
        .iter()
        .flat_map(|report| &report.findings)
        .any(|finding| {
            let level = config.rules[finding.rule].level;
            level == Level::Deny || (options.deny_warnings && level == Level::Warn)
        });
    u8::from(failing)
}
