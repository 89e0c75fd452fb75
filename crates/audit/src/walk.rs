//! Finding the files to audit and analysing them in parallel on a worker pool.
//!
//! Workers are scoped threads (`std::thread::scope`) fed over a
//! crossbeam-channel: the scope joins them before `analyze_all` returns, so
//! they are supervised by construction and the audit does not flag them
//! (FND001 looks for detached spawns, not `spawn_scoped`).

use std::{
    collections::HashSet,
    io::IsTerminal as _,
    path::{Path, PathBuf},
    thread,
};

use super::{FileReport, Finding, analyze_source, config::Config, rules};

/// Files found by [`collect`], with their display paths, plus errors met on the way.
#[derive(Debug, Default)]
pub struct Walked {
    /// `(file, path relative to the base)`.
    pub files: Vec<(PathBuf, String)>,
    /// Directories or files that could not be read.
    pub errors: Vec<String>,
    /// Canonical paths of the directories and files already met, so a
    /// symlink loop ends and a file reached two ways is audited once.
    seen: HashSet<PathBuf>,
}

/// Reports of every analysed file, sorted by path, plus read errors.
#[derive(Debug, Default)]
pub struct Outcome {
    /// One report per file.
    pub reports: Vec<FileReport>,
    /// Files that could not be read.
    pub errors: Vec<String>,
}

/// Collects the `.rs` files under `inputs`, skipping cargo's target
/// directories (those holding a `CACHEDIR.TAG`), hidden directories and paths
/// `exclude`d by the config. Symlinked files and directories are followed;
/// each file and directory is visited once, so a symlink loop ends.
pub fn collect(inputs: &[PathBuf], base: &Path, config: &Config) -> Walked {
    let mut walked = Walked::default();
    for input in inputs {
        let input = match std::fs::canonicalize(input) {
            Ok(path) => path,
            Err(error) => {
                walked.errors.push(format!("{}: {error}", input.display()));
                continue;
            }
        };
        // Paths are shown relative to the base (the config's directory); a tree
        // outside it is shown relative to the directory holding the input, so
        // components above it (`/home/me/tests/..`) never make its files look like tests.
        let shown_base = if input.starts_with(base) {
            base.to_path_buf()
        } else {
            input
                .parent()
                .map_or_else(|| input.clone(), Path::to_path_buf)
        };
        if !walked.seen.insert(input.clone()) {
            continue;
        }
        if input.is_file() {
            let relative = relative(&input, &shown_base);
            walked.files.push((input, relative));
        } else {
            walk_dir(&input, &shown_base, config, &mut walked);
        }
    }
    walked.files.sort_by(|a, b| a.1.cmp(&b.1));
    walked.files.dedup_by(|a, b| a.0 == b.0);
    walked
}

fn relative(path: &Path, base: &Path) -> String {
    let shown = path.strip_prefix(base).unwrap_or(path);
    shown.to_string_lossy().replace('\\', "/")
}

fn walk_dir(dir: &Path, base: &Path, config: &Config, walked: &mut Walked) {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            walked.errors.push(format!("{}: {error}", dir.display()));
            return;
        }
    };
    // Sorted, so which of two ways into the same directory is shown does not
    // depend on the order the file system lists them in.
    let mut entries: Vec<_> = entries.flatten().collect();
    entries.sort_by_key(std::fs::DirEntry::file_name);
    for entry in entries {
        let name = entry.file_name();
        let name = name.to_string_lossy();
        let path = entry.path();
        // `metadata` follows a symlink; a dangling one is not a file to audit.
        let Ok(kind) = std::fs::metadata(&path).map(|metadata| metadata.file_type()) else {
            continue;
        };
        let relative = relative(&path, base);
        if config
            .exclude
            .iter()
            .any(|pattern| super::config::path_matches(pattern, &relative))
        {
            continue;
        }
        let wanted = if kind.is_dir() {
            !name.starts_with('.') && !path.join("CACHEDIR.TAG").is_file()
        } else {
            kind.is_file() && name.ends_with(".rs")
        };
        if !wanted
            || !walked
                .seen
                .insert(std::fs::canonicalize(&path).unwrap_or(path.clone()))
        {
            continue;
        }
        if kind.is_dir() {
            walk_dir(&path, base, config, walked);
        } else {
            walked.files.push((path, relative));
        }
    }
}

/// Worker threads: one per available core.
pub fn threads() -> usize {
    thread::available_parallelism().map_or(2, usize::from)
}

/// Analyses every file on a pool of scoped worker threads.
pub fn analyze_all(files: Vec<(PathBuf, String)>, config: &Config) -> Outcome {
    let total = files.len();
    let (job_tx, job_rx) = crossbeam_channel::bounded::<(PathBuf, String)>(total.max(1));
    let (result_tx, result_rx) =
        crossbeam_channel::bounded::<Result<FileReport, String>>(total.max(1));
    for job in files {
        if job_tx.send(job).is_err() {
            break;
        }
    }
    drop(job_tx);
    let progress = total > 2_000 && std::io::stderr().is_terminal();
    let mut outcome = Outcome::default();
    thread::scope(|scope| {
        for _ in 0..threads() {
            let jobs = job_rx.clone();
            let results = result_tx.clone();
            // Deeply nested expressions recurse deeply in syn: give workers room.
            let started = thread::Builder::new()
                .name("audit-worker".to_owned())
                .stack_size(64 << 20)
                .spawn_scoped(scope, move || {
                    for (path, relative) in jobs.iter() {
                        let report = analyze_path(&path, relative, config);
                        // Spans of the finished file are no longer needed; free their source map.
                        proc_macro2::extra::invalidate_current_thread_spans();
                        if results.send(report).is_err() {
                            break;
                        }
                    }
                });
            if let Err(error) = started {
                outcome
                    .errors
                    .push(format!("cannot start an audit worker: {error}"));
            }
        }
        drop(result_tx);
        for (done, result) in result_rx.iter().enumerate() {
            match result {
                Ok(report) => outcome.reports.push(report),
                Err(error) => outcome.errors.push(error),
            }
            if progress && (done % 500 == 0 || done + 1 == total) {
                eprint!("\raudit: {}/{total} files", done + 1);
            }
        }
        if progress {
            eprintln!();
        }
    });
    outcome.reports.sort_by(|a, b| a.path.cmp(&b.path));
    outcome
}

fn analyze_path(path: &Path, relative: String, config: &Config) -> Result<FileReport, String> {
    let bytes = std::fs::read(path).map_err(|error| format!("{}: {error}", path.display()))?;
    let Ok(text) = String::from_utf8(bytes) else {
        return Ok(FileReport {
            path: relative,
            findings: vec![Finding {
                rule: rules::PARSE_ERROR,
                line: 1,
                column: 1,
                message: "cannot parse file: not valid UTF-8".to_owned(),
                source_line: String::new(),
            }],
            lines: 0,
            hidden_in_tests: 0,
        });
    };
    // The analysis is written not to panic; this is the last resort that
    // turns a bug in it into a finding instead of a lost run.
    let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        analyze_source(&relative, &text, config)
    }));
    match analysed {
        Ok(report) => Ok(report),
        Err(panic) => {
            let reason = panic
                .downcast_ref::<&str>()
                .map(|text| (*text).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Ok(FileReport {
                path: relative,
                findings: vec![Finding {
                    rule: rules::PARSE_ERROR,
                    line: 1,
                    column: 1,
                    message: format!("internal error while auditing this file: {reason}"),
                    source_line: String::new(),
                }],
                lines: text.lines().count(),
                hidden_in_tests: 0,
            })
        }
    }
}
