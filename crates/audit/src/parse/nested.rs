//! One item too large to parse at once: a `mod`, `impl`, `trait` or `extern` block whose body is parsed a piece at a time.
//!
//! Generated code often wraps everything in one module (`mod __parse__Expr {
//! .. }`, `pub mod generated { .. }`) or one `impl` block, so cutting a file
//! at top-level items leaves one piece as large as the file. Such a piece is
//! parsed twice, cheaply: once as a shell with its body blanked (spaces and
//! newlines, so every position holds), which tells what the item is and
//! whether it is `#[cfg(test)]`; then its body is cut at its own item ends and
//! each piece is parsed and walked in the item's context. Anything else (a
//! 5 MB function or table) is parsed whole, as before.

use syn::{
    parse::{ParseStream, Parser},
    visit::Visit as _,
};

use super::{PIECE_BYTES, Piece, pieces};
use crate::{
    nesting,
    resolve::Aliases,
    visitor::{Auditor, attrs_are_cfg_test},
};

/// What the oversized item is, so its body's pieces parse as the right kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Module { test: bool },
    Impl { test: bool },
    Trait,
    Foreign,
}

/// An oversized item split into its kind and its body.
#[derive(Debug)]
pub(super) struct Nested {
    kind: Kind,
    /// The body, the text before it on its first line blanked so columns hold.
    body: String,
    /// Lines in the file before the body's first line.
    line_offset: usize,
}

/// Splits a piece that is one `mod`, `impl`, `trait` or `extern` block;
/// `None` for anything else or when the shell does not parse.
pub(super) fn split(piece: &Piece<'_>) -> Option<Nested> {
    let text = piece.text;
    let (open, close) = nesting::scan(text, nesting::MAX_DEPTH).first_brace?;
    if close <= open {
        return None;
    }
    let inner = &text[open + 1..close];
    let mut shell = String::with_capacity(text.len());
    shell.push_str(&text[..=open]);
    shell.extend(inner.chars().map(|ch| if ch == '\n' { '\n' } else { ' ' }));
    shell.push_str(&text[close..]);
    let file = syn::parse_file(&shell).ok()?;
    let [item] = file.items.as_slice() else {
        return None;
    };
    let kind = match item {
        syn::Item::Mod(module) if module.content.is_some() => Kind::Module {
            test: attrs_are_cfg_test(&module.attrs) || module.ident == "loom_models",
        },
        syn::Item::Impl(block) => Kind::Impl {
            test: attrs_are_cfg_test(&block.attrs),
        },
        syn::Item::Trait(_) => Kind::Trait,
        syn::Item::ForeignMod(_) => Kind::Foreign,
        _ => return None,
    };
    let line_start = text[..open].rfind('\n').map_or(0, |at| at + 1);
    let mut body = " ".repeat(text[line_start..=open].chars().count());
    body.push_str(inner);
    let line_offset = piece.line_offset + text[..line_start].matches('\n').count();
    Some(Nested {
        kind,
        body,
        line_offset,
    })
}

impl Nested {
    /// The body cut at its item ends, with line offsets in the file.
    fn pieces(&self) -> Vec<Piece<'_>> {
        let scan = nesting::scan(&self.body, nesting::MAX_DEPTH);
        let mut parts = pieces(&self.body, &scan.item_starts);
        for part in &mut parts {
            part.line_offset += self.line_offset;
        }
        parts
    }

    /// Adds the `use` items of a module's body; `None` when a piece does not parse.
    pub(super) fn collect_aliases(&self, aliases: &mut Aliases) -> Option<()> {
        if !matches!(self.kind, Kind::Module { .. }) {
            return Some(());
        }
        for piece in self.pieces() {
            if !super::has_use_item(piece.text) {
                continue;
            }
            match split(&piece).filter(|_| piece.text.len() > PIECE_BYTES) {
                Some(nested) => nested.collect_aliases(aliases)?,
                None => aliases.add(&syn::parse_file(piece.text).ok()?),
            }
        }
        Some(())
    }

    /// Walks the body piece by piece in the item's context; `None` when a piece does not parse.
    pub(super) fn walk(&self, auditor: &mut Auditor<'_>) -> Option<()> {
        let test = match self.kind {
            Kind::Module { test } | Kind::Impl { test } => test,
            Kind::Trait | Kind::Foreign => false,
        };
        let saved = auditor.set_in_test(auditor.in_test() || test);
        let walked = self.walk_pieces(auditor);
        auditor.set_in_test(saved);
        walked
    }

    fn walk_pieces(&self, auditor: &mut Auditor<'_>) -> Option<()> {
        for piece in self.pieces() {
            auditor.line_offset = piece.line_offset;
            match self.kind {
                Kind::Module { .. } => {
                    if piece.text.len() > PIECE_BYTES
                        && let Some(nested) = split(&piece)
                    {
                        nested.walk(auditor)?;
                        continue;
                    }
                    let file = syn::parse_file(piece.text).ok()?;
                    for item in &file.items {
                        auditor.visit_item(item);
                    }
                }
                Kind::Impl { .. } => {
                    for item in many::<syn::ImplItem>.parse_str(piece.text).ok()? {
                        auditor.visit_impl_item(&item);
                    }
                }
                Kind::Trait => {
                    for item in many::<syn::TraitItem>.parse_str(piece.text).ok()? {
                        auditor.visit_trait_item(&item);
                    }
                }
                Kind::Foreign => {
                    for item in many::<syn::ForeignItem>.parse_str(piece.text).ok()? {
                        auditor.visit_foreign_item(&item);
                    }
                }
            }
        }
        Some(())
    }
}

/// Parses items of one kind until the input ends.
fn many<T: syn::parse::Parse>(input: ParseStream<'_>) -> syn::Result<Vec<T>> {
    let mut items = Vec::new();
    while !input.is_empty() {
        items.push(input.parse()?);
    }
    Ok(items)
}
