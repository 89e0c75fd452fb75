//! A cheap pre-scan of bracket depth, so a file nested too deeply for syn is a finding, not a crash.
//!
//! syn parses nested expressions and blocks by recursion, and the tree it
//! returns is walked and dropped by recursion too. Thirty thousand nested
//! parentheses overflow any reasonable stack, and a stack overflow aborts the
//! process: `catch_unwind` cannot catch it, so one generated file would wipe
//! out every other file's findings. Counting `(`, `[` and `{` over the bytes
//! first (skipping comments, strings and character literals well enough) lets
//! the audit refuse such a file before syn sees it.

/// The deepest bracket nesting the audit hands to syn. Hand-written Rust
/// rarely goes past 30; 256 leaves generated tables room while keeping syn's
/// recursion far inside a worker's stack, even in a debug build.
pub const MAX_DEPTH: usize = 256;

/// What one pass over a file's bytes finds before syn sees it.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Scan {
    /// Where brackets first nest deeper than the limit: `(line, column)`,
    /// both 1-based (the column in bytes). The scan stops there.
    pub too_deep: Option<(usize, usize)>,
    /// Byte offsets of the third character of each `///` and `//!` doc
    /// comment. Blanking it turns the doc comment into a plain one: the rules
    /// never read docs, and proc-macro2 would make each into an attribute.
    pub doc_markers: Vec<usize>,
    /// Byte offsets of line starts where a top-level item has just ended (a
    /// `;` or a closing `}` at depth 0 before it): places where a large file
    /// can be cut into pieces that parse on their own.
    pub item_starts: Vec<usize>,
    /// Byte offsets of the first `{` at depth 0 and of its closing `}`: the
    /// body of a lone `mod`, `impl` or `trait` that is too large to parse at once.
    pub first_brace: Option<(usize, usize)>,
}

/// Where a file first nests brackets deeper than `limit`: `(line, column)`,
/// both 1-based (the column in bytes), or `None` when it stays within it.
pub fn too_deep(source: &str, limit: usize) -> Option<(usize, usize)> {
    scan(source, limit).too_deep
}

/// Scans a file's bytes once for bracket depth, doc comments and top-level item ends.
pub fn scan(source: &str, limit: usize) -> Scan {
    let bytes = source.as_bytes();
    let mut found = Scan::default();
    let mut depth = 0usize;
    let mut line = 1;
    let mut line_start = 0;
    // Whether the last token at depth 0 ended an item.
    let mut item_ended = false;
    // Whether the first top-level brace group is still open.
    let mut first_open = false;
    let mut i = 0;
    while i < bytes.len() {
        let byte = bytes[i];
        match byte {
            b'\n' => {
                line += 1;
                line_start = i + 1;
                if item_ended && depth == 0 {
                    found.item_starts.push(i + 1);
                }
                i += 1;
            }
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                let third = bytes.get(i + 2).copied();
                let doc = match third {
                    Some(b'/') => bytes.get(i + 3) != Some(&b'/'),
                    Some(b'!') => true,
                    _ => false,
                };
                if doc {
                    found.doc_markers.push(i + 2);
                }
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(bytes, i, &mut line, &mut line_start);
            }
            b' ' | b'\t' | b'\r' => i += 1,
            b'"' => {
                item_ended = false;
                i = skip_string(bytes, i + 1, None, &mut line, &mut line_start);
            }
            b'r' if starts_raw_string(bytes, i) => {
                item_ended = false;
                let mut hashes = 0;
                let mut at = i + 1;
                while bytes.get(at) == Some(&b'#') {
                    hashes += 1;
                    at += 1;
                }
                i = skip_string(bytes, at + 1, Some(hashes), &mut line, &mut line_start);
            }
            b'\'' => {
                item_ended = false;
                i = skip_char_literal(bytes, i);
            }
            b'(' | b'[' | b'{' => {
                item_ended = false;
                if byte == b'{' && depth == 0 && found.first_brace.is_none() {
                    found.first_brace = Some((i, i));
                    first_open = true;
                }
                depth += 1;
                if depth > limit {
                    found.too_deep = Some((line, i - line_start + 1));
                    return found;
                }
                i += 1;
            }
            b')' | b']' | b'}' => {
                depth = depth.saturating_sub(1);
                if byte == b'}' && depth == 0 && first_open {
                    first_open = false;
                    if let Some((open, _)) = found.first_brace {
                        found.first_brace = Some((open, i));
                    }
                }
                item_ended = byte == b'}' && depth == 0;
                i += 1;
            }
            b';' => {
                item_ended = depth == 0;
                i += 1;
            }
            _ => {
                item_ended = false;
                i += 1;
            }
        }
    }
    found
}

/// Skips a (nested) block comment starting at `start`; returns the index after it.
fn skip_block_comment(
    bytes: &[u8],
    start: usize,
    line: &mut usize,
    line_start: &mut usize,
) -> usize {
    let mut depth = 0usize;
    let mut i = start;
    while i < bytes.len() {
        match (bytes[i], bytes.get(i + 1)) {
            (b'/', Some(b'*')) => {
                depth += 1;
                i += 2;
            }
            (b'*', Some(b'/')) => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return i;
                }
            }
            (b'\n', _) => {
                *line += 1;
                *line_start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    i
}

/// Skips a string body from `start` (just after the opening quote) to past
/// its closing quote. `raw` is the number of `#`s of a raw string (which has
/// no escapes), `None` for a plain string (whose backslash escapes a quote).
fn skip_string(
    bytes: &[u8],
    start: usize,
    raw: Option<usize>,
    line: &mut usize,
    line_start: &mut usize,
) -> usize {
    let hashes = raw.unwrap_or(0);
    let mut i = start;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if raw.is_none() => i += 2,
            b'"' if bytes[i + 1..]
                .iter()
                .take(hashes)
                .filter(|b| **b == b'#')
                .count()
                == hashes =>
            {
                return i + 1 + hashes;
            }
            b'\n' => {
                *line += 1;
                *line_start = i + 1;
                i += 1;
            }
            _ => i += 1,
        }
    }
    i
}

/// Whether the `r` at `at` opens a raw string (`r"`, `r#"`, `br"`): it starts
/// a token (no identifier character before it, except the `b` of `br`) and
/// is followed by `#`s and a quote.
fn starts_raw_string(bytes: &[u8], at: usize) -> bool {
    let before = at.checked_sub(1).map(|index| bytes[index]);
    let token_start = match before {
        Some(b'b') => at
            .checked_sub(2)
            .is_none_or(|index| !is_ident_byte(bytes[index])),
        Some(byte) => !is_ident_byte(byte),
        None => true,
    };
    let mut next = at + 1;
    while bytes.get(next) == Some(&b'#') {
        next += 1;
    }
    token_start && bytes.get(next) == Some(&b'"')
}

fn is_ident_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte >= 0x80
}

/// Skips a character literal (`'('`, `'\''`, `'\u{28}'`) starting at the
/// quote; a lifetime or label (`'a`) is left alone, one byte on.
fn skip_char_literal(bytes: &[u8], start: usize) -> usize {
    match bytes.get(start + 1) {
        Some(b'\\') => {
            // An escape: the literal ends at the next quote after it.
            let mut i = start + 3;
            while i < bytes.len() && bytes[i] != b'\'' && bytes[i] != b'\n' {
                i += 1;
            }
            i + 1
        }
        Some(&first) => {
            // One character (up to four UTF-8 bytes) and a closing quote.
            let width = match first {
                0xF0.. => 4,
                0xE0.. => 3,
                0xC0.. => 2,
                _ => 1,
            };
            if bytes.get(start + 1 + width) == Some(&b'\'') {
                start + 2 + width
            } else {
                start + 1
            }
        }
        None => start + 1,
    }
}

#[cfg(test)]
mod tests;
