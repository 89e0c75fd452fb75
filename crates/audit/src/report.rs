//! Rendering findings: rustc-style text, JSON for scripts, SARIF 2.1.0 for code scanning.

use std::fmt::Write as _;

use super::{
    FileReport, Finding,
    config::Config,
    rules::{Level, RULES},
};

fn level_of(config: &Config, finding: &Finding) -> Level {
    config.rules[finding.rule].level
}

fn all(reports: &[FileReport]) -> impl Iterator<Item = (&FileReport, &Finding)> {
    reports
        .iter()
        .flat_map(|report| report.findings.iter().map(move |finding| (report, finding)))
}

/// `(errors, warnings)`: findings at `deny`, and the rest.
fn tally(reports: &[FileReport], config: &Config) -> (usize, usize) {
    let errors = all(reports)
        .filter(|(_, finding)| level_of(config, finding) == Level::Deny)
        .count();
    (errors, all(reports).count() - errors)
}

/// rustc-style diagnostics with a caret under the offending column, then a summary line.
pub fn text(reports: &[FileReport], config: &Config) -> String {
    let mut out = String::new();
    for (report, finding) in all(reports) {
        let rule = &RULES[finding.rule];
        let level = level_of(config, finding);
        let number = finding.line.to_string();
        let gutter = " ".repeat(number.len());
        let caret_pad: String = finding
            .source_line
            .chars()
            .take(finding.column.saturating_sub(1))
            .map(|ch| if ch == '\t' { '\t' } else { ' ' })
            .collect();
        let _ = writeln!(out, "{}[{}]: {}", level.word(), rule.id, finding.message);
        let _ = writeln!(
            out,
            "{gutter}--> {}:{}:{}",
            report.path, finding.line, finding.column
        );
        let _ = writeln!(out, "{gutter} |");
        let _ = writeln!(out, "{number} | {}", finding.source_line);
        let _ = writeln!(out, "{gutter} | {caret_pad}^");
        let _ = writeln!(
            out,
            "{gutter} = note: `{}` ({}): {}",
            rule.name, rule.id, rule.why
        );
        let _ = writeln!(out, "{gutter} = help: {}\n", rule.help);
    }
    let (errors, warnings) = tally(reports, config);
    let _ = writeln!(
        out,
        "audit: {errors} error(s), {warnings} warning(s) in {} file(s)",
        reports.len()
    );
    let hidden = hidden_in_tests(reports);
    if hidden > 0 {
        let _ = writeln!(
            out,
            "audit: {hidden} finding{} in test code not shown (--include-tests to show them)",
            if hidden == 1 { "" } else { "s" }
        );
    }
    out
}

/// Findings in test code that rules exempting tests did not report.
fn hidden_in_tests(reports: &[FileReport]) -> usize {
    reports.iter().map(|report| report.hidden_in_tests).sum()
}

/// Escapes a string for a JSON string literal.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for ch in text.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            ch if (ch as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", ch as u32);
            }
            ch => out.push(ch),
        }
    }
    out.push('"');
    out
}

/// One JSON document: `{"files", "lines", "summary": {...}, "findings": [...]}`.
pub fn json(reports: &[FileReport], config: &Config) -> String {
    let mut out = String::from("{\n");
    let lines: usize = reports.iter().map(|report| report.lines).sum();
    let (errors, warnings) = tally(reports, config);
    let mut items = Vec::new();
    for (report, finding) in all(reports) {
        let rule = &RULES[finding.rule];
        let level = level_of(config, finding);
        items.push(format!(
            "    {{\"rule\": {}, \"name\": {}, \"level\": {}, \"path\": {}, \"line\": {}, \"column\": {}, \"message\": {}, \"help\": {}}}",
            escape(rule.id),
            escape(rule.name),
            escape(level.word()),
            escape(&report.path),
            finding.line,
            finding.column,
            escape(&finding.message),
            escape(rule.help),
        ));
    }
    let _ = writeln!(out, "  \"files\": {},", reports.len());
    let _ = writeln!(out, "  \"lines\": {lines},");
    let _ = writeln!(
        out,
        "  \"summary\": {{\"errors\": {errors}, \"warnings\": {warnings}, \"test_code_not_shown\": {}}},",
        hidden_in_tests(reports)
    );
    let _ = writeln!(out, "  \"findings\": [\n{}\n  ]\n}}", items.join(",\n"));
    out
}

/// SARIF 2.1.0: one run, the rule table in `tool.driver.rules`, one result per finding.
pub fn sarif(reports: &[FileReport], config: &Config) -> String {
    let rules: Vec<String> = RULES
        .iter()
        .enumerate()
        .map(|(index, rule)| {
            let level = match config.rules[index].level {
                Level::Allow => "none",
                Level::Warn => "warning",
                Level::Deny => "error",
            };
            format!(
                "{{\"id\": {}, \"name\": {}, \"shortDescription\": {{\"text\": {}}}, \"fullDescription\": {{\"text\": {}}}, \"help\": {{\"text\": {}}}, \"defaultConfiguration\": {{\"level\": {}}}}}",
                escape(rule.id),
                escape(rule.name),
                escape(&rule.name.replace('-', " ")),
                escape(rule.why),
                escape(rule.help),
                escape(level),
            )
        })
        .collect();
    let results: Vec<String> = all(reports)
        .map(|(report, finding)| {
            format!(
                "{{\"ruleId\": {}, \"ruleIndex\": {}, \"level\": {}, \"message\": {{\"text\": {}}}, \"locations\": [{{\"physicalLocation\": {{\"artifactLocation\": {{\"uri\": {}}}, \"region\": {{\"startLine\": {}, \"startColumn\": {}}}}}}}]}}",
                escape(RULES[finding.rule].id),
                finding.rule,
                escape(level_of(config, finding).word()),
                escape(&finding.message),
                escape(&report.path),
                finding.line,
                finding.column,
            )
        })
        .collect();
    format!(
        "{{\n  \"$schema\": \"https://json.schemastore.org/sarif-2.1.0.json\",\n  \"version\": \"2.1.0\",\n  \"runs\": [{{\n    \"tool\": {{\"driver\": {{\"name\": \"foundation-audit\", \"informationUri\": \"https://example.invalid/foundation/docs/audit.md\", \"rules\": [\n      {}\n    ]}}}},\n    \"results\": [\n      {}\n    ]\n  }}]\n}}\n",
        rules.join(",\n      "),
        results.join(",\n      "),
    )
}
