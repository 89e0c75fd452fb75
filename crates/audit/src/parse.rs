//! Parsing one file for the walk: doc comments blanked, and a large file parsed a few hundred kilobytes of top-level items at a time.
//!
//! syn's tree, its token buffer and proc-macro2's tokens take about a hundred
//! times the source's size while a file is parsed whole: a generated 5 MB file
//! took 563 MB. A file larger than [`PIECE_BYTES`] is cut at the line starts
//! where a top-level item has just ended ([`Scan::item_starts`]) and each
//! piece is parsed, walked and dropped before the next, so memory follows the
//! largest piece, not the file. The file's `use` items are gathered from every
//! piece first, since a path may be resolved by a `use` further down. If a cut
//! lands where a piece does not parse on its own (a block doc comment split
//! from its item), the file is parsed whole, as before.
//!
//! A piece that is one `mod`, `impl`, `trait` or `extern` block larger than
//! a piece (generated code in one module) is walked through its body's pieces
//! (`parse/nested.rs`).
//!
//! Doc comments become `#[doc = ".."]` attributes in proc-macro2, one string
//! each; no rule reads them, so their third character is blanked first
//! (`/// x` becomes `//  x`), which keeps every position in place.

use std::borrow::Cow;

use syn::visit::Visit as _;

use crate::{Finding, config::Config, nesting::Scan, resolve::Aliases, visitor::Auditor};

/// The size above which a file is parsed in pieces, and the size a piece aims for.
pub const PIECE_BYTES: usize = 256 * 1024;

/// What the walk of one file found: findings, and those hidden in test code.
#[derive(Debug, Default)]
pub struct Walked {
    /// Findings to report.
    pub findings: Vec<Finding>,
    /// Findings in test code that the rule's `exempt_tests` hides.
    pub exempt_in_tests: Vec<Finding>,
}

/// One piece of a file: its text and the lines before it.
#[derive(Debug)]
struct Piece<'t> {
    text: &'t str,
    line_offset: usize,
}

/// The facts about one file the walk needs beside its text.
#[derive(Debug)]
pub struct Context<'a> {
    /// The configuration in force.
    pub config: &'a Config,
    /// The file's lines, for the caret display.
    pub lines: &'a [&'a str],
    /// Which lines are code, for FND012.
    pub code: &'a [bool],
    /// Whether the whole file is test code.
    pub file_is_test: bool,
}

/// `text` with its doc comments made plain comments (see the module docs).
pub fn without_docs<'t>(text: &'t str, scan: &Scan) -> Cow<'t, str> {
    if scan.doc_markers.is_empty() {
        return Cow::Borrowed(text);
    }
    let mut bytes = text.as_bytes().to_vec();
    for &at in &scan.doc_markers {
        // `/` and `!` are ASCII, so a space in their place keeps the text UTF-8.
        if let Some(byte) = bytes.get_mut(at) {
            *byte = b' ';
        }
    }
    match String::from_utf8(bytes) {
        Ok(plain) => Cow::Owned(plain),
        Err(_) => Cow::Borrowed(text),
    }
}

/// Cuts `text` at item starts into pieces of about [`PIECE_BYTES`] (an item
/// larger than that is a piece of its own).
fn pieces<'t>(text: &'t str, item_starts: &[usize]) -> Vec<Piece<'t>> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut line_offset = 0;
    let mut cut = |start: &mut usize, end: usize| {
        let piece = &text[*start..end];
        pieces.push(Piece {
            text: piece,
            line_offset,
        });
        line_offset += piece.bytes().filter(|byte| *byte == b'\n').count();
        *start = end;
    };
    // The last item start that keeps the current piece within size.
    let mut last_fit: Option<usize> = None;
    for &at in item_starts {
        if at <= start || at > text.len() {
            continue;
        }
        if at - start > PIECE_BYTES {
            if let Some(fit) = last_fit.take() {
                cut(&mut start, fit);
            }
            if at - start > PIECE_BYTES {
                cut(&mut start, at);
                continue;
            }
        }
        last_fit = Some(at);
    }
    if start < text.len() || start == 0 {
        cut(&mut start, text.len());
    }
    pieces
}

/// Parses `text` (doc comments already blanked) and walks it; a parse error is returned as syn's error.
pub fn walk(text: &str, scan: &Scan, context: &Context<'_>) -> Result<Walked, syn::Error> {
    if text.len() > PIECE_BYTES
        && let Some(walked) = walk_pieces(&pieces(text, &scan.item_starts), context)
    {
        return Ok(walked);
    }
    let file = syn::parse_file(text)?;
    let aliases = Aliases::collect(&file);
    let mut auditor = auditor(&aliases, context);
    auditor.visit_file(&file);
    Ok(Walked {
        findings: auditor.findings,
        exempt_in_tests: auditor.exempt_in_tests,
    })
}

fn auditor<'a>(aliases: &'a Aliases, context: &'a Context<'a>) -> Auditor<'a> {
    Auditor::new(
        aliases,
        context.config,
        context.lines,
        context.code,
        context.file_is_test,
    )
}

/// Whether `text` may hold a `use` item: the word `use` followed by
/// whitespace (`because` and `MOUSE_INPUT` do not count; a comment may).
pub(crate) fn has_use_item(text: &str) -> bool {
    let bytes = text.as_bytes();
    let ident = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_';
    text.match_indices("use").any(|(at, _)| {
        let before = at.checked_sub(1).map(|index| bytes[index]);
        let after = bytes.get(at + 3).copied();
        !before.is_some_and(ident) && after.is_some_and(|byte| byte.is_ascii_whitespace())
    })
}

/// Walks a file piece by piece; `None` when a piece does not parse on its own.
fn walk_pieces(pieces: &[Piece<'_>], context: &Context<'_>) -> Option<Walked> {
    // A piece that is one item larger than a piece (a generated module) is
    // walked through its body's pieces.
    let oversized = |piece: &Piece<'_>| {
        (piece.text.len() > PIECE_BYTES)
            .then(|| nested::split(piece))
            .flatten()
    };
    let mut aliases = Aliases::default();
    for piece in pieces {
        // A piece with no `use` in it binds no name; skip parsing it twice.
        if has_use_item(piece.text) {
            match oversized(piece) {
                Some(nested) => nested.collect_aliases(&mut aliases)?,
                None => aliases.add(&syn::parse_file(piece.text).ok()?),
            }
        }
    }
    let mut auditor = auditor(&aliases, context);
    for piece in pieces {
        if let Some(nested) = oversized(piece) {
            nested.walk(&mut auditor)?;
            continue;
        }
        let file = syn::parse_file(piece.text).ok()?;
        auditor.line_offset = piece.line_offset;
        auditor.visit_file(&file);
    }
    Some(Walked {
        findings: auditor.findings,
        exempt_in_tests: auditor.exempt_in_tests,
    })
}

mod nested;
#[cfg(test)]
mod tests;
