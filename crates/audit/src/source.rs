//! Line-level facts the syntax tree does not hold: which lines are code, and suppression comments.

use super::{Finding, rules};

/// Marks each line (index 0 = line 1) as code or not: a line is code when
/// something other than whitespace and comments remains on it.
pub fn code_lines(source: &str) -> Vec<bool> {
    let bytes = source.as_bytes();
    let mut lines = Vec::with_capacity(source.len() / 32 + 1);
    let mut comment_depth = 0usize;
    let mut in_string = false;
    let mut is_code = false;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        let next = bytes.get(i + 1).copied();
        if byte == b'\n' {
            lines.push(is_code || in_string);
            is_code = false;
            i += 1;
            continue;
        }
        if comment_depth > 0 {
            if byte == b'*' && next == Some(b'/') {
                comment_depth -= 1;
                i += 2;
            } else if byte == b'/' && next == Some(b'*') {
                comment_depth += 1;
                i += 2;
            } else {
                i += 1;
            }
            continue;
        }
        if in_string {
            is_code = true;
            match byte {
                b'\\' => i += 2,
                b'"' => {
                    in_string = false;
                    i += 1;
                }
                _ => i += 1,
            }
            continue;
        }
        match (byte, next) {
            (b'/', Some(b'/')) => {
                // The rest of the line is a comment.
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            (b'/', Some(b'*')) => {
                comment_depth = 1;
                i += 2;
            }
            (b'"', _) => {
                in_string = true;
                is_code = true;
                i += 1;
            }
            (b'\'', _) => {
                // A char literal ('"', '\'', 'x') or a lifetime ('a).
                is_code = true;
                if next == Some(b'\\') {
                    i += 2;
                    while i < bytes.len() && bytes[i] != b'\'' && bytes[i] != b'\n' {
                        i += 1;
                    }
                    i += 1;
                } else if bytes.get(i + 2) == Some(&b'\'') {
                    i += 3;
                } else {
                    i += 1;
                }
            }
            (byte, _) => {
                if !byte.is_ascii_whitespace() {
                    is_code = true;
                }
                i += 1;
            }
        }
    }
    if !bytes.is_empty() && bytes[bytes.len() - 1] != b'\n' {
        lines.push(is_code || in_string);
    }
    lines
}

/// The rules suppressed on each line, gathered from `// audit:allow(RULE, ..) reason` comments.
#[derive(Debug, Default)]
pub struct Suppressions {
    /// `(line, rule index)` pairs, line 1-based.
    entries: Vec<(usize, usize)>,
}

impl Suppressions {
    /// Whether a finding of `rule` on `line` is suppressed.
    pub fn covers(&self, line: usize, rule: usize) -> bool {
        self.entries
            .iter()
            .any(|&(at, suppressed)| at == line && suppressed == rule)
    }
}

/// The marker that opens a suppression inside a `//` comment.
const MARKER: &str = "audit:allow(";

/// Scans comments for suppressions. A suppression covers its own line and the
/// next line that is not a comment (so several can stack above one line).
/// Malformed ones (no reason, unknown rule) become `FND011` findings.
pub fn scan(source: &str, findings: &mut Vec<Finding>) -> Suppressions {
    let mut suppressions = Suppressions::default();
    if !source.contains(MARKER) {
        return suppressions;
    }
    let lines: Vec<&str> = source.lines().collect();
    for (index, text) in lines.iter().enumerate() {
        let Some(marker_at) = suppression_marker(text) else {
            continue;
        };
        let line = index + 1;
        let after = &text[marker_at + MARKER.len()..];
        let Some(close) = after.find(')') else {
            findings.push(bad(
                line,
                marker_at,
                text,
                "suppression is missing its closing `)`",
            ));
            continue;
        };
        let reason = after[close + 1..]
            .trim()
            .trim_start_matches([':', '-', '—'])
            .trim();
        let mut rules_here = Vec::new();
        for key in after[..close].split(',') {
            match rules::lookup(key) {
                Some(rule) => rules_here.push(rule),
                None => findings.push(bad(
                    line,
                    marker_at,
                    text,
                    &format!("suppression names unknown rule `{}`", key.trim()),
                )),
            }
        }
        if reason.is_empty() {
            findings.push(bad(line, marker_at, text, "suppression without a reason"));
            continue;
        }
        // A trailing comment covers its own line; a comment on a line of its
        // own covers the next line that is not only a comment.
        let own_line = text.trim_start().starts_with("//");
        let mut target = index + 1;
        while own_line && target < lines.len() && lines[target].trim_start().starts_with("//") {
            target += 1;
        }
        for rule in rules_here {
            suppressions.entries.push((line, rule));
            if own_line {
                suppressions.entries.push((target + 1, rule));
            }
        }
    }
    suppressions
}

/// Where `audit:allow(` opens a plain `//` comment on this line: the marker
/// must be the first word of the comment, so prose and doc comments that
/// mention the syntax (`/// write audit:allow(..)`) are not suppressions.
fn suppression_marker(text: &str) -> Option<usize> {
    let mut search = 0;
    while let Some(found) = text[search..].find("//") {
        let comment_at = search + found;
        let before = &text[..comment_at];
        // A `//` inside a string literal is not a comment.
        let in_string = before.matches('"').count() % 2 == 1;
        let body = &text[comment_at + 2..];
        if !in_string {
            if body.starts_with('/') || body.starts_with('!') {
                return None;
            }
            let trimmed = body.trim_start();
            return trimmed
                .starts_with(MARKER)
                .then(|| text.len() - trimmed.len());
        }
        search = comment_at + 2;
    }
    None
}

fn bad(line: usize, column: usize, text: &str, message: &str) -> Finding {
    Finding {
        rule: rules::SUPPRESSION_WITHOUT_REASON,
        line,
        column: text[..column].chars().count() + 1,
        message: message.to_owned(),
        source_line: text.to_owned(),
    }
}
