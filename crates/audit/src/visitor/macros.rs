//! Macro bodies: the tokens of `tokio::select!`, `join!`, `vec!`, `assert!`, `format!` and the like, parsed where they parse.
//!
//! syn leaves a macro's body as tokens, so every call inside one was invisible
//! to the rules. The walk now parses a body as the code it most likely is:
//! `select!` branches by their own grammar, then comma-separated expressions
//! (`vec!`, `assert!`, `format!`, `join!`), items (`cfg_if!`-style wrappers
//! in item position) or statements; a body that parses as none of them is
//! tried one comma-separated piece at a time. What parses is walked in the
//! current context (test, async, function), as if written outside the macro.
//!
//! Skipped: `macro_rules!` definitions and code-generating macros (`quote!`),
//! whose tokens are templates rather than code that runs here, macros that
//! only see tokens (`stringify!`, `concat!`), and bodies with nothing a rule
//! could match (no call, `.await`, `match`, `let` or `static`), which keeps
//! the common `format!("{}", x)` free.

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::{
    Token,
    parse::{ParseStream, Parser, discouraged::Speculative},
    punctuated::Punctuated,
    visit::Visit,
};

use super::{Auditor, FUTURE_DRIVERS, SLEEP_NAMES};

/// Macros whose tokens are not code run at this place.
const NOT_CODE: &[&str] = &[
    "macro_rules",
    "quote",
    "quote_spanned",
    "parse_quote",
    "parse_quote_spanned",
    "stringify",
    "concat",
    "concat_idents",
    "include",
    "include_str",
    "include_bytes",
    "env",
    "option_env",
    "cfg",
    "compile_error",
    "module_path",
    "asm",
    "global_asm",
    "naked_asm",
    // Reported as a whole by FND002; their bodies are declarations.
    "thread_local",
    "lazy_static",
];

/// Where a macro is invoked: its body is most likely items there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Position {
    Item,
    Expr,
}

/// One `select!` branch: `pattern = future (, if condition)? => handler`,
/// or `else => handler` / futures' `complete =>` / `default =>`.
struct Branch {
    future: Option<syn::Expr>,
    condition: Option<syn::Expr>,
    handler: syn::Expr,
}

fn parse_select(input: ParseStream<'_>) -> syn::Result<Vec<Branch>> {
    let mut branches = Vec::new();
    while !input.is_empty() {
        if input.peek(syn::Ident) && input.peek2(Token![;]) {
            // `biased;`
            input.parse::<syn::Ident>()?;
            input.parse::<Token![;]>()?;
            continue;
        }
        let future = if input.peek(Token![else]) {
            input.parse::<Token![else]>()?;
            None
        } else {
            syn::Pat::parse_multi_with_leading_vert(input)?;
            if input.peek(Token![=>]) {
                None
            } else {
                input.parse::<Token![=]>()?;
                Some(input.parse::<syn::Expr>()?)
            }
        };
        let condition = if input.peek(Token![,]) && input.peek2(Token![if]) {
            input.parse::<Token![,]>()?;
            input.parse::<Token![if]>()?;
            Some(input.parse::<syn::Expr>()?)
        } else {
            None
        };
        input.parse::<Token![=>]>()?;
        let handler = if input.peek(syn::token::Brace) {
            syn::Expr::Block(input.parse::<syn::ExprBlock>()?)
        } else {
            input.parse::<syn::Expr>()?
        };
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
        branches.push(Branch {
            future,
            condition,
            handler,
        });
    }
    Ok(branches)
}

fn parse_exprs(input: ParseStream<'_>) -> syn::Result<Punctuated<syn::Expr, Token![,]>> {
    Punctuated::parse_terminated(input)
}

/// What a macro body parsed as.
enum Body {
    Items(Vec<syn::Item>),
    Exprs(Vec<syn::Expr>),
    Stmts(Vec<syn::Stmt>),
}

/// Parses a body as items (in item position or braces), comma-separated
/// expressions, statements (in braces), or else piece by piece: each
/// comma-separated piece that parses as an expression (`matches!(x, Pat)`,
/// `info!(?x, "{}", f(y))`).
fn parse_body(input: ParseStream<'_>, position: Position, braced: bool) -> syn::Result<Body> {
    if position == Position::Item || braced {
        let fork = input.fork();
        if let Ok(items) = parse_items(&fork) {
            input.advance_to(&fork);
            return Ok(Body::Items(items));
        }
        if position == Position::Item {
            return Err(input.error("not items"));
        }
    }
    let fork = input.fork();
    if let Ok(exprs) = parse_exprs(&fork) {
        input.advance_to(&fork);
        return Ok(Body::Exprs(exprs.into_iter().collect()));
    }
    if braced {
        let fork = input.fork();
        if let Ok(stmts) = syn::Block::parse_within(&fork) {
            input.advance_to(&fork);
            return Ok(Body::Stmts(stmts));
        }
    }
    let mut exprs = Vec::new();
    while !input.is_empty() {
        let fork = input.fork();
        match fork.parse::<syn::Expr>() {
            Ok(expr) if fork.is_empty() || fork.peek(Token![,]) => {
                input.advance_to(&fork);
                exprs.push(expr);
            }
            _ => {
                while !input.is_empty() && !input.peek(Token![,]) {
                    input.parse::<TokenTree>()?;
                }
            }
        }
        if input.peek(Token![,]) {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(Body::Exprs(exprs))
}

fn parse_items(input: ParseStream<'_>) -> syn::Result<Vec<syn::Item>> {
    let mut items = Vec::new();
    while !input.is_empty() {
        items.push(input.parse()?);
    }
    Ok(items)
}

/// The byte offset of character `column` in `line`.
fn byte_at(line: &str, column: usize) -> usize {
    if line.is_ascii() {
        column.min(line.len())
    } else {
        line.char_indices()
            .nth(column)
            .map_or(line.len(), |(at, _)| at)
    }
}

/// [`worth_parsing`] over text: a `(` after an identifier, `>` or `!`, or
/// one of the words `await`, `match`, `let`, `static`. Text in strings counts
/// too, which only costs a parse.
#[derive(Default)]
struct WrittenScan {
    /// The last byte that was not whitespace.
    previous: u8,
}

impl WrittenScan {
    fn feed(&mut self, text: &str) -> bool {
        let bytes = text.as_bytes();
        let mut at = 0;
        while at < bytes.len() {
            let byte = bytes[at];
            if byte.is_ascii_whitespace() {
                at += 1;
                continue;
            }
            let ident = |byte: u8| byte.is_ascii_alphanumeric() || byte == b'_';
            if byte == b'(' && (ident(self.previous) || matches!(self.previous, b'>' | b'!')) {
                return true;
            }
            if ident(byte) && !ident(self.previous) {
                let word_end = bytes[at..]
                    .iter()
                    .position(|byte| !ident(*byte))
                    .map_or(bytes.len(), |length| at + length);
                if matches!(
                    &bytes[at..word_end],
                    b"await" | b"match" | b"let" | b"static"
                ) {
                    return true;
                }
                self.previous = bytes[word_end - 1];
                at = word_end;
                continue;
            }
            self.previous = byte;
            at += 1;
        }
        false
    }
}

/// Whether the tokens hold something a rule could match: a call or method
/// call (an identifier or `>` or `!` before a parenthesis), `.await`,
/// `match`, `if let`, `let` or `static`.
fn worth_parsing(tokens: &TokenStream) -> bool {
    let mut previous_calls = false;
    for token in tokens.clone() {
        match &token {
            TokenTree::Group(group) => {
                if group.delimiter() == Delimiter::Parenthesis && previous_calls {
                    return true;
                }
                if worth_parsing(&group.stream()) {
                    return true;
                }
                previous_calls = false;
            }
            TokenTree::Ident(ident) => {
                if ident == "await" || ident == "match" || ident == "let" || ident == "static" {
                    return true;
                }
                previous_calls = true;
            }
            TokenTree::Punct(punct) => previous_calls = matches!(punct.as_char(), '>' | '!'),
            TokenTree::Literal(_) => previous_calls = false,
        }
    }
    false
}

impl Auditor<'_> {
    /// Parses a macro's body and walks what parses, in the current context.
    pub(super) fn macro_body(&mut self, mac: &syn::Macro, position: Position) {
        let Some(last) = mac.path.segments.last() else {
            return;
        };
        let name = last.ident.to_string();
        if NOT_CODE.contains(&name.as_str()) {
            return;
        }
        let drives = FUTURE_DRIVERS.contains(&name.as_str());
        let worth = match self.written_worth_parsing(mac) {
            Some(worth) => worth,
            None => worth_parsing(&mac.tokens),
        };
        if !drives && !worth {
            return;
        }
        // Pointers into the body's syntax tree must not outlive it.
        let awaited = std::mem::take(&mut self.awaited);
        if name.starts_with("select") {
            if let Ok(branches) = parse_select.parse2(mac.tokens.clone()) {
                self.select_branches(&branches);
            }
        } else {
            self.generic_body(mac, position, drives);
        }
        self.awaited = awaited;
    }

    /// [`worth_parsing`] on the body as written in the file's lines, which
    /// clones no token; `None` when the body has no position in this file.
    fn written_worth_parsing(&self, mac: &syn::Macro) -> Option<bool> {
        let delimiters = mac.delimiter.span();
        let (start, end) = (delimiters.open().start(), delimiters.close().end());
        if start.line == 0 || end.line < start.line {
            return None;
        }
        let first = start.line + self.line_offset;
        let last = end.line + self.line_offset;
        let lines = self.lines.get(first - 1..last)?;
        let mut scan = WrittenScan::default();
        for (index, line) in lines.iter().enumerate() {
            let from = if index == 0 {
                byte_at(line, start.column)
            } else {
                0
            };
            let to = if index + 1 == lines.len() {
                byte_at(line, end.column)
            } else {
                line.len()
            };
            if scan.feed(line.get(from..to.max(from))?) {
                return Some(true);
            }
        }
        Some(false)
    }

    fn select_branches(&mut self, branches: &[Branch]) {
        for branch in branches {
            if let Some(future) = &branch.future {
                // A sleep raced against other branches is a timeout, not a wait.
                let timer = matches!(future, syn::Expr::Call(call)
                    if matches!(&*call.func, syn::Expr::Path(func)
                        if func.path.segments.last().is_some_and(|last| SLEEP_NAMES.iter().any(|name| last.ident == name))));
                if !timer {
                    self.mark_awaited(Some(future));
                    self.visit_expr(future);
                }
            }
            if let Some(condition) = &branch.condition {
                self.visit_expr(condition);
            }
            self.visit_expr(&branch.handler);
        }
    }

    fn generic_body(&mut self, mac: &syn::Macro, position: Position, drives: bool) {
        let braced = matches!(mac.delimiter, syn::MacroDelimiter::Brace(_));
        // One token buffer for every attempt: the alternatives are tried on forks.
        let parsed = (|input: ParseStream<'_>| parse_body(input, position, braced))
            .parse2(mac.tokens.clone());
        // A body that parses as no code is not audited, except `cfg_if! { if
        // #[cfg(unix)] { items } else { items } }` in item position: its items are in braces.
        let Ok(body) = parsed else {
            if position == Position::Item {
                self.braced_items(mac.tokens.clone());
            }
            return;
        };
        match body {
            Body::Items(items) => {
                for item in &items {
                    self.visit_item(item);
                }
            }
            Body::Exprs(exprs) => self.walk_exprs(exprs.iter(), drives),
            Body::Stmts(stmts) => {
                for stmt in &stmts {
                    self.visit_stmt(stmt);
                }
            }
        }
    }

    /// Walks the items of every brace group at the top level of `tokens` that parses as items.
    fn braced_items(&mut self, tokens: TokenStream) {
        for token in tokens {
            if let TokenTree::Group(group) = token
                && group.delimiter() == Delimiter::Brace
                && let Ok(items) = parse_items.parse2(group.stream())
            {
                for item in &items {
                    self.visit_item(item);
                }
            }
        }
    }

    fn walk_exprs<'e>(&mut self, exprs: impl Iterator<Item = &'e syn::Expr>, drives: bool) {
        for expr in exprs {
            if drives {
                self.mark_awaited(Some(expr));
            }
            self.visit_expr(expr);
        }
    }
}
