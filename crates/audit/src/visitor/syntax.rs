//! Syntax predicates the rules share: path matching, send and panic shapes, test attributes.

use proc_macro2::{TokenStream, TokenTree};
use syn::visit::Visit;

use super::{INTERIOR_MUTABLE, LEAK_FNS, SLEEP_FNS, SPAWN_FNS, UNBOUNDED_FNS};

/// Whether a resolved path is one any rule looks for.
pub(super) fn known(full: &[String]) -> bool {
    [SPAWN_FNS, UNBOUNDED_FNS, SLEEP_FNS, LEAK_FNS]
        .iter()
        .any(|list| matches_any(full, list))
}

pub(super) fn matches_any(full: &[String], patterns: &[&[&str]]) -> bool {
    patterns
        .iter()
        .any(|pattern| pattern.len() == full.len() && pattern.iter().zip(full).all(|(a, b)| a == b))
}

pub(super) fn strip_await(mut expr: &syn::Expr) -> &syn::Expr {
    loop {
        match expr {
            syn::Expr::Await(inner) => expr = &inner.base,
            syn::Expr::Paren(inner) => expr = &inner.expr,
            _ => return expr,
        }
    }
}

/// The method name when `expr` is a channel-style send: `send(msg)`,
/// `try_send(msg)`, `blocking_send(msg)`, `send_async(msg)`, `send_timeout(msg, t)`,
/// an actor's `cast(msg)` / `try_cast(msg)` / `send_message(msg)` (ractor) /
/// `tell(msg)` / `ask(msg)` (kameo) / `do_send(msg)` (actix's channel), or
/// ractor's `cast!(actor, msg)` macro.
pub(super) fn send_method(expr: &syn::Expr) -> Option<String> {
    if let syn::Expr::Macro(mac) = expr {
        let last = mac.mac.path.segments.last()?;
        return (last.ident == "cast").then(|| "cast!".to_owned());
    }
    let syn::Expr::MethodCall(call) = expr else {
        return None;
    };
    let arity = call.args.len();
    let name = call.method.to_string();
    let is_send = match name.as_str() {
        // An actor's `cast` / `try_cast` is a send by another name (Foundation's
        // `ActorRef`, ractor, kameo's `tell`-like casts).
        "send" | "try_send" | "blocking_send" | "send_async" | "cast" | "try_cast"
        | "send_message" | "do_send" | "tell" | "ask" => arity == 1,
        "send_timeout" => arity == 2,
        _ => false,
    };
    is_send.then_some(name)
}

pub(super) fn is_unit(expr: &syn::Expr) -> bool {
    matches!(expr, syn::Expr::Tuple(tuple) if tuple.elems.is_empty())
}

pub(super) fn is_empty_body(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Block(block) => block.block.stmts.is_empty(),
        other => is_unit(other),
    }
}

/// Whether an arm body is (or is a block ending in) `panic!`, `unreachable!` and friends.
pub(super) fn panics(expr: &syn::Expr) -> bool {
    let mac = match expr {
        syn::Expr::Macro(mac) => &mac.mac,
        syn::Expr::Block(block) => match block.block.stmts.last() {
            Some(syn::Stmt::Macro(stmt)) => &stmt.mac,
            Some(syn::Stmt::Expr(syn::Expr::Macro(mac), _)) => &mac.mac,
            _ => return false,
        },
        _ => return false,
    };
    mac.path.segments.last().is_some_and(|last| {
        [
            "panic",
            "unreachable",
            "unimplemented",
            "todo",
            "assert",
            "assert_eq",
            "assert_ne",
        ]
        .iter()
        .any(|name| last.ident == name)
    })
}

/// `Err(_)`, `Err(_name)` or `Err(..)`.
pub(super) fn is_ignored_err(pat: &syn::Pat) -> bool {
    let syn::Pat::TupleStruct(pat) = pat else {
        return false;
    };
    let is_err = pat
        .path
        .segments
        .last()
        .is_some_and(|last| last.ident == "Err");
    if !is_err || pat.elems.len() != 1 {
        return false;
    }
    match &pat.elems[0] {
        syn::Pat::Wild(_) | syn::Pat::Rest(_) => true,
        syn::Pat::Ident(ident) => ident.ident.to_string().starts_with('_'),
        _ => false,
    }
}

pub(super) fn is_test_fn(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|last| last.ident == "test" || last.ident == "rstest")
    })
}

/// `#[cfg(test)]`, `#[cfg(all(test, ..))]`; not `#[cfg(not(test))]`.
pub(super) fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        let syn::Meta::List(list) = &attr.meta else {
            return false;
        };
        if !list.path.is_ident("cfg") {
            return false;
        }
        let (mut test, mut not) = (false, false);
        scan_idents(list.tokens.clone(), &mut |ident| {
            test |= ident == "test";
            not |= ident == "not";
        });
        test && !not
    })
}

pub(super) fn scan_idents(tokens: TokenStream, found: &mut impl FnMut(&proc_macro2::Ident)) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => found(&ident),
            TokenTree::Group(group) => scan_idents(group.stream(), found),
            _ => {}
        }
    }
}

pub(super) fn mentions_interior_mutability(tokens: TokenStream) -> bool {
    let mut found = false;
    scan_idents(tokens, &mut |ident| {
        found |= INTERIOR_MUTABLE.iter().any(|name| ident == name)
    });
    found
}

/// Type to tokens without the `printing` feature: walk its path segments.
pub(super) trait TypeTokens {
    fn to_token_stream_cheap(&self) -> TokenStream;
}

impl TypeTokens for syn::Type {
    fn to_token_stream_cheap(&self) -> TokenStream {
        struct Names(Vec<TokenTree>);
        impl<'ast> Visit<'ast> for Names {
            fn visit_ident(&mut self, ident: &'ast proc_macro2::Ident) {
                self.0.push(TokenTree::Ident(ident.clone()));
            }
        }
        let mut names = Names(Vec::new());
        names.visit_type(self);
        names.0.into_iter().collect()
    }
}

/// Code lines in `first..=last` (1-based, inclusive).
pub(super) fn count_code(code: &[bool], first: usize, last: usize) -> usize {
    let start = first.saturating_sub(1).min(code.len());
    let end = last.min(code.len()).max(start);
    code[start..end].iter().filter(|is_code| **is_code).count()
}

/// A path as written, `crate::concurrency::sleep`.
pub(super) fn path_text(path: &syn::Path) -> String {
    let mut text = String::new();
    if path.leading_colon.is_some() {
        text.push_str("::");
    }
    for (index, segment) in path.segments.iter().enumerate() {
        if index > 0 {
            text.push_str("::");
        }
        text.push_str(&segment.ident.to_string());
    }
    text
}
