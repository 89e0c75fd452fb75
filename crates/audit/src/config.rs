//! `audit.toml`: per-rule levels, excluded paths, thresholds and paths where a rule is expected.
//!
//! The file uses a small subset of TOML (tables, strings, integers, booleans,
//! arrays of strings), parsed by hand here so the audit needs no TOML crate:
//!
//! ```toml
//! exclude = ["crates/audit/tests/fixtures"]
//! [thresholds]
//! file_code_lines = 1000  # FND010
//! fn_code_lines = 100     # FND012
//! [rules.FND001]            # or [rules.unsupervised-spawn]
//! level = "warn"            # allow | warn | deny
//! allowed_in = ["crates/supervisor/src/"]
//! exempt_tests = true
//! [reexports]               # a project's own wrappers, beside the built-in table
//! "my_runtime::go" = "tokio::spawn"
//! ```

use super::{
    reexports::Reexports,
    rules::{self, Level, RULES},
};

/// Per-rule settings.
#[derive(Debug, Clone)]
pub struct RuleConfig {
    /// Level for findings of this rule.
    pub level: Level,
    /// Whether test code is exempt.
    pub exempt_tests: bool,
    /// Path patterns where the rule is expected and so not reported.
    pub allowed_in: Vec<String>,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// One entry per rule in [`RULES`] order.
    pub rules: Vec<RuleConfig>,
    /// Path patterns (prefixes or globs) never audited.
    pub exclude: Vec<String>,
    /// A file over this many code lines is a god module (FND010).
    pub file_code_lines: usize,
    /// A function over this many code lines is a god function (FND012).
    pub fn_code_lines: usize,
    /// Well-known re-exports and wrappers, plus the project's `[reexports]`.
    pub reexports: Reexports,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            rules: RULES
                .iter()
                .map(|rule| RuleConfig {
                    level: rule.default_level,
                    exempt_tests: rule.exempt_tests,
                    allowed_in: Vec::new(),
                })
                .collect(),
            exclude: Vec::new(),
            file_code_lines: 1000,
            fn_code_lines: 100,
            reexports: Reexports::default(),
        }
    }
}

/// A value on the right of `=`.
#[derive(Debug)]
enum Value {
    Str(String),
    Int(usize),
    Bool(bool),
    List(Vec<String>),
}

impl Config {
    /// Parses `audit.toml` text; the error names the line.
    pub fn parse(text: &str) -> Result<Config, String> {
        let mut config = Config::default();
        let mut table: Vec<String> = Vec::new();
        let mut lines = text.lines().enumerate();
        while let Some((index, raw)) = lines.next() {
            let line_no = index + 1;
            let mut line = strip_comment(raw).trim().to_owned();
            if line.is_empty() {
                continue;
            }
            if line.starts_with('[') {
                let inner = line
                    .strip_prefix('[')
                    .and_then(|rest| rest.strip_suffix(']'))
                    .ok_or_else(|| format!("line {line_no}: malformed table header"))?;
                table = inner
                    .split('.')
                    .map(|part| part.trim().trim_matches('"').to_owned())
                    .collect();
                continue;
            }
            // A multi-line array: keep reading until the brackets balance.
            while line.contains('[') && !line.contains(']') {
                match lines.next() {
                    Some((_, more)) => {
                        line.push(' ');
                        line.push_str(strip_comment(more).trim());
                    }
                    None => return Err(format!("line {line_no}: unterminated array")),
                }
            }
            let (key, value) = line
                .split_once('=')
                .ok_or_else(|| format!("line {line_no}: expected `key = value`"))?;
            let key = key.trim().trim_matches('"');
            let value =
                parse_value(value.trim()).map_err(|error| format!("line {line_no}: {error}"))?;
            config
                .set(&table, key, value)
                .map_err(|error| format!("line {line_no}: {error}"))?;
        }
        Ok(config)
    }

    fn set(&mut self, table: &[String], key: &str, value: Value) -> Result<(), String> {
        match (table, key, value) {
            ([], "exclude", Value::List(list)) => self.exclude = list,
            ([t], "file_code_lines", Value::Int(n)) if t == "thresholds" => {
                self.file_code_lines = n
            }
            ([t], "fn_code_lines", Value::Int(n)) if t == "thresholds" => self.fn_code_lines = n,
            ([t], from, Value::Str(to)) if t == "reexports" => self.reexports.add(from, &to)?,
            ([t, rule], key, value) if t == "rules" => {
                let index = rules::lookup(rule).ok_or_else(|| format!("unknown rule `{rule}`"))?;
                let entry = &mut self.rules[index];
                match (key, value) {
                    ("level", Value::Str(level)) => {
                        entry.level = Level::parse(&level).ok_or_else(|| {
                            format!("level must be allow, warn or deny, not `{level}`")
                        })?;
                    }
                    ("allowed_in", Value::List(list)) => entry.allowed_in = list,
                    ("exempt_tests", Value::Bool(flag)) => entry.exempt_tests = flag,
                    (key, _) => return Err(format!("unknown or mistyped rule setting `{key}`")),
                }
            }
            (_, key, _) => {
                return Err(format!(
                    "unknown or mistyped setting `{key}` in [{}]",
                    table.join(".")
                ));
            }
        }
        Ok(())
    }
}

/// Drops a `#` comment that is not inside a string.
fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    for (index, ch) in line.char_indices() {
        match ch {
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..index],
            _ => {}
        }
    }
    line
}

fn parse_value(text: &str) -> Result<Value, String> {
    if let Some(inner) = text.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or("unterminated array")?;
        let mut list = Vec::new();
        for item in inner.split(',') {
            let item = item.trim();
            if item.is_empty() {
                continue;
            }
            match parse_value(item)? {
                Value::Str(text) => list.push(text),
                _ => return Err("arrays hold strings only".to_owned()),
            }
        }
        return Ok(Value::List(list));
    }
    if let Some(inner) = text.strip_prefix('"') {
        let inner = inner.strip_suffix('"').ok_or("unterminated string")?;
        return Ok(Value::Str(inner.to_owned()));
    }
    match text {
        "true" => return Ok(Value::Bool(true)),
        "false" => return Ok(Value::Bool(false)),
        _ => {}
    }
    text.replace('_', "")
        .parse()
        .map(Value::Int)
        .map_err(|_| format!("cannot read value `{text}`"))
}

/// Whether a `/`-separated relative path matches a pattern: a glob when the
/// pattern has `*` (`*` within a component, `**` across them), else a prefix
/// on whole components (`crates/mailbox/src` matches everything under it).
pub fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_start_matches("./");
    if pattern.contains('*') {
        // A glob matches the path itself or any directory above it.
        let pattern = pattern.trim_end_matches('/').as_bytes();
        return glob(pattern, path.as_bytes())
            || path
                .match_indices('/')
                .any(|(end, _)| glob(pattern, &path.as_bytes()[..end]));
    }
    let pattern = pattern.trim_end_matches('/');
    path == pattern
        || path
            .strip_prefix(pattern)
            .is_some_and(|rest| rest.starts_with('/'))
}

fn glob(pattern: &[u8], path: &[u8]) -> bool {
    match pattern {
        [] => path.is_empty(),
        [b'*', b'*', rest @ ..] => {
            let rest = rest.strip_prefix(b"/").unwrap_or(rest);
            (0..=path.len()).any(|skip| glob(rest, &path[skip..]))
        }
        [b'*', rest @ ..] => {
            let stop = path.iter().position(|b| *b == b'/').unwrap_or(path.len());
            (0..=stop).any(|skip| glob(rest, &path[skip..]))
        }
        [first, rest @ ..] => path.first() == Some(first) && glob(rest, &path[1..]),
    }
}
