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
    parse::{ParseStream, Parser},
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

fn parse_items(input: ParseStream<'_>) -> syn::Result<Vec<syn::Item>> {
    let mut items = Vec::new();
    while !input.is_empty() {
        items.push(input.parse()?);
    }
    Ok(items)
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

/// The pieces of a token stream between top-level commas.
fn comma_pieces(tokens: TokenStream) -> Vec<TokenStream> {
    let mut pieces = vec![TokenStream::new()];
    for token in tokens {
        match &token {
            TokenTree::Punct(punct) if punct.as_char() == ',' => pieces.push(TokenStream::new()),
            _ => {
                if let Some(last) = pieces.last_mut() {
                    last.extend([token]);
                }
            }
        }
    }
    pieces
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
        if !drives && !worth_parsing(&mac.tokens) {
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
        if (position == Position::Item || braced)
            && let Ok(items) = parse_items.parse2(mac.tokens.clone())
        {
            for item in &items {
                self.visit_item(item);
            }
            return;
        }
        if position == Position::Item {
            // `cfg_if! { if #[cfg(unix)] { items } else { items } }`: the items are in braces.
            self.braced_items(mac.tokens.clone());
            return;
        }
        if let Ok(exprs) = parse_exprs.parse2(mac.tokens.clone()) {
            self.walk_exprs(exprs.iter(), drives);
            return;
        }
        if let Ok(stmts) = syn::Block::parse_within.parse2(mac.tokens.clone()) {
            for stmt in &stmts {
                self.visit_stmt(stmt);
            }
            return;
        }
        // `matches!(x, Pat)`, `write!(f, ..)` with a format spec, `info!(?x, ..)`:
        // walk each comma-separated piece that parses on its own.
        let pieces: Vec<syn::Expr> = comma_pieces(mac.tokens.clone())
            .into_iter()
            .filter_map(|piece| syn::parse2::<syn::Expr>(piece).ok())
            .collect();
        self.walk_exprs(pieces.iter(), drives);
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
