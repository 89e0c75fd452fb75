//! Scores the audit against the hand-checked answer key in `crates/audit/eval/key.tsv`.
//!
//! ```sh
//! cargo run --release -p foundation-audit --example score            # the local cargo registry
//! cargo run --release -p foundation-audit --example score -- DIR     # another registry index directory
//! ```
//!
//! For each rule it audits the crates the key's `scope` line names (test code
//! included), matches every finding of that rule to the key's rows, and prints
//! precision (findings that are true positives) and recall (true positives
//! found), then each miss and each false finding. A finding matches a row on
//! the same line, else a true-positive row within three lines in the same file
//! (a multi-line statement is reported where its first token is).

use std::{
    collections::{BTreeMap, HashSet},
    path::{Path, PathBuf},
};

use foundation_audit::{config::Config, rules::RULES, walk};

/// One row of the key.
struct Row {
    path: String,
    line: usize,
    true_positive: bool,
    note: String,
}

/// The key: per rule, the crates it covers and its rows.
#[derive(Default)]
struct Key {
    scopes: BTreeMap<String, Vec<String>>,
    rows: BTreeMap<String, Vec<Row>>,
}

fn parse_key(text: &str) -> Result<Key, String> {
    let mut key = Key::default();
    for (index, line) in text.lines().enumerate() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["scope", rule, crates] => {
                key.scopes.insert(
                    (*rule).to_owned(),
                    crates.split_whitespace().map(str::to_owned).collect(),
                );
            }
            [rule, location, verdict, note] => {
                let (path, number) = location
                    .rsplit_once(':')
                    .ok_or(format!("line {}: no `:line` in {location}", index + 1))?;
                let line = number
                    .parse()
                    .map_err(|_| format!("line {}: bad line number {number}", index + 1))?;
                let true_positive = match *verdict {
                    "tp" => true,
                    "look-alike" => false,
                    other => return Err(format!("line {}: unknown verdict {other}", index + 1)),
                };
                key.rows.entry((*rule).to_owned()).or_default().push(Row {
                    path: path.to_owned(),
                    line,
                    true_positive,
                    note: (*note).to_owned(),
                });
            }
            _ => {
                return Err(format!(
                    "line {}: expected 3 or 4 tab-separated fields",
                    index + 1
                ));
            }
        }
    }
    Ok(key)
}

/// The registry index directory holding the keyed crates.
fn registry(argument: Option<String>) -> Result<PathBuf, String> {
    if let Some(directory) = argument {
        return Ok(PathBuf::from(directory));
    }
    let home = std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| Path::new(&home).join(".cargo")))
        .ok_or("neither CARGO_HOME nor HOME is set")?;
    let sources = home.join("registry").join("src");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&sources)
        .map_err(|error| format!("{}: {error}", sources.display()))?
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.is_dir())
        .collect();
    entries.sort();
    entries
        .into_iter()
        .next()
        .ok_or(format!("no registry index under {}", sources.display()))
}

/// `(path, line)` of every finding of `rule` in `crates`, test code included.
fn findings(
    registry: &Path,
    crates: &[String],
    rule: usize,
) -> Result<Vec<(String, usize)>, String> {
    let mut config = Config::default();
    for settings in &mut config.rules {
        settings.exempt_tests = false;
    }
    let inputs: Vec<PathBuf> = crates.iter().map(|name| registry.join(name)).collect();
    if let Some(missing) = inputs.iter().find(|input| !input.is_dir()) {
        return Err(format!(
            "{} is not in the registry: `cargo fetch` a project that depends on it",
            missing.display()
        ));
    }
    let walked = walk::collect(&inputs, registry, &config);
    let outcome = walk::analyze_all(walked.files, &config);
    Ok(outcome
        .reports
        .iter()
        .flat_map(|report| {
            report
                .findings
                .iter()
                .filter(|finding| finding.rule == rule)
                .map(|finding| (report.path.clone(), finding.line))
        })
        .collect())
}

fn main() {
    let key_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("eval/key.tsv");
    let key = std::fs::read_to_string(&key_path)
        .map_err(|error| format!("{}: {error}", key_path.display()))
        .and_then(|text| parse_key(&text));
    let registry = registry(std::env::args().nth(1));
    let (key, registry) = match (key, registry) {
        (Ok(key), Ok(registry)) => (key, registry),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("error: {error}");
            std::process::exit(2);
        }
    };
    println!(
        "| rule | key: true positives | look-alikes | findings | true | false | missed | precision | recall |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    let mut details = Vec::new();
    for (rule_id, crates) in &key.scopes {
        let Some(rule) = RULES.iter().position(|rule| rule.id == rule_id) else {
            eprintln!("error: unknown rule {rule_id} in the key");
            std::process::exit(2);
        };
        let found = match findings(&registry, crates, rule) {
            Ok(found) => found,
            Err(error) => {
                eprintln!("error: {error}");
                std::process::exit(2);
            }
        };
        let rows = key.rows.get(rule_id).map(Vec::as_slice).unwrap_or_default();
        let mut free: HashSet<(String, usize)> = found.iter().cloned().collect();
        let mut hit = vec![false; rows.len()];
        // Same line first, then the nearest finding within three lines for a true positive.
        for (index, row) in rows.iter().enumerate() {
            if free.remove(&(row.path.clone(), row.line)) {
                hit[index] = true;
            }
        }
        for (index, row) in rows.iter().enumerate() {
            if hit[index] || !row.true_positive {
                continue;
            }
            let nearest = free
                .iter()
                .filter(|(path, line)| *path == row.path && line.abs_diff(row.line) <= 3)
                .min_by_key(|(_, line)| line.abs_diff(row.line))
                .cloned();
            if let Some(nearest) = nearest {
                free.remove(&nearest);
                hit[index] = true;
            }
        }
        let key_true = rows.iter().filter(|row| row.true_positive).count();
        let true_found = rows
            .iter()
            .zip(&hit)
            .filter(|(row, hit)| row.true_positive && **hit)
            .count();
        let false_found = found.len() - true_found;
        let percent = |part: usize, whole: usize| {
            if whole == 0 {
                "n/a".to_owned()
            } else {
                format!("{:.1} %", 100.0 * part as f64 / whole as f64)
            }
        };
        println!(
            "| {rule_id} {} | {key_true} | {} | {} | {true_found} | {false_found} | {} | {} | {} |",
            RULES[rule].name,
            rows.len() - key_true,
            found.len(),
            key_true - true_found,
            percent(true_found, found.len()),
            percent(true_found, key_true),
        );
        for (row, hit) in rows.iter().zip(&hit) {
            if row.true_positive && !hit {
                details.push(format!(
                    "missed {rule_id} {}:{} ({})",
                    row.path, row.line, row.note
                ));
            }
        }
        let mut false_ones: Vec<&(String, usize)> = free.iter().collect();
        false_ones.sort();
        for (path, line) in false_ones {
            let why = rows
                .iter()
                .find(|row| row.path == *path && row.line == *line)
                .map_or("not in the key".to_owned(), |row| row.note.clone());
            details.push(format!("false  {rule_id} {path}:{line} ({why})"));
        }
    }
    for line in details {
        println!("{line}");
    }
}
