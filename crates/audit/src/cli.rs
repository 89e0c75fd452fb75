//! The command line shared by `cargo foundation-audit` and `cargo xtask audit`: options, config discovery, exit code.

use std::{
    path::{Path, PathBuf},
    time::Instant,
};

use crate::{config::Config, report, rules::Level, walk};

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

const USAGE: &str = "[PATH...] [--format text|json|sarif] [--config FILE] [--deny warnings] [--include-tests] [--stats]";

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
fn discover_config(paths: &[PathBuf], root: &Path) -> Option<PathBuf> {
    let audited = paths.first().map(|path| {
        if path.is_file() {
            path.parent().map(Path::to_path_buf).unwrap_or_default()
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

/// Runs the audit as a command: `args` are the arguments after the command
/// name (`cargo xtask audit` passes those after `audit`), `program` is that
/// name for the usage line, and `root` is the project audited when no path is
/// given (and the place of the fallback `audit.toml`). Prints the report on
/// stdout and errors on stderr; returns the exit code (0 clean, 1 failing
/// findings, 2 usage, configuration or I/O error).
pub fn run(program: &str, args: &[String], root: &Path) -> u8 {
    let options = match parse_args(args) {
        Ok(options) => options,
        Err(error) => {
            if !error.is_empty() {
                eprintln!("error: {error}");
            }
            eprintln!("usage: {program} {USAGE}");
            return 2;
        }
    };
    let root = root.to_path_buf();
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
        .and_then(|path| path.parent().map(Path::to_path_buf))
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
        let memory = peak_memory_mb()
            .map(|megabytes| format!(", peak memory {megabytes:.0} MB"))
            .unwrap_or_default();
        eprintln!(
            "audit: {} files, {lines} lines in {elapsed:.2} s ({speed:.0} lines/s, {} threads{memory})",
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

/// Peak resident memory in megabytes, where the system reports it (Linux's
/// `VmHWM` in `/proc/self/status`); `None` elsewhere.
fn peak_memory_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    let kilobytes: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kilobytes / 1024.0)
}
