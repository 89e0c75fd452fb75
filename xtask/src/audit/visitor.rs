//! The syntax-tree walk that finds rules FND001 to FND010 in one parsed file.
//!
//! The walk carries the context rules need: inside test code, inside async
//! code, inside a `timeout(..)`, inside `fn main`, and the oneshot receivers
//! bound in the current function. Paths are resolved through the file's `use`
//! items ([`Aliases`]) before they are compared with the patterns below.

use std::collections::HashSet;

use proc_macro2::{Span, TokenStream, TokenTree};
use syn::visit::Visit;

use super::{Finding, config::Config, resolve::Aliases, rules};

/// Functions that start a detached task or thread.
const SPAWN_FNS: &[&[&str]] = &[
    &["tokio", "spawn"],
    &["tokio", "task", "spawn"],
    &["tokio", "task", "spawn_blocking"],
    &["tokio", "task", "spawn_local"],
    &["std", "thread", "spawn"],
    &["async_std", "task", "spawn"],
    &["smol", "spawn"],
];
/// Constructors whose `.spawn(..)` starts a detached task or thread.
const SPAWN_BUILDERS: &[&[&str]] = &[
    &["std", "thread", "Builder", "new"],
    &["tokio", "task", "Builder", "new"],
    &["tokio", "runtime", "Handle", "current"],
];
/// Constructors of unbounded queues.
const UNBOUNDED_FNS: &[&[&str]] = &[
    &["tokio", "sync", "mpsc", "unbounded_channel"],
    &["crossbeam_channel", "unbounded"],
    &["std", "sync", "mpsc", "channel"],
    &["flume", "unbounded"],
    &["futures", "channel", "mpsc", "unbounded"],
    &["async_channel", "unbounded"],
];
/// Sleeps.
const SLEEP_FNS: &[&[&str]] = &[
    &["std", "thread", "sleep"],
    &["tokio", "time", "sleep"],
    &["tokio", "time", "sleep_until"],
    &["async_std", "task", "sleep"],
];
/// Leaks.
const LEAK_FNS: &[&[&str]] = &[&["std", "mem", "forget"], &["Box", "leak"]];
/// Last path segments worth resolving; every other call is skipped cheaply.
const INTERESTING: &[&str] = &[
    "spawn",
    "spawn_blocking",
    "spawn_local",
    "unbounded_channel",
    "unbounded",
    "channel",
    "sleep",
    "sleep_until",
    "forget",
    "leak",
    "block_on",
    "new",
    "current",
];
/// Type names that make a static mutable.
const INTERIOR_MUTABLE: &[&str] = &[
    "Mutex",
    "RwLock",
    "RefCell",
    "Cell",
    "UnsafeCell",
    "SyncUnsafeCell",
    "ReentrantMutex",
];

/// Walks one file's syntax tree and collects findings.
pub struct Auditor<'a> {
    aliases: &'a Aliases,
    config: &'a Config,
    lines: &'a [&'a str],
    code: &'a [bool],
    file_is_test: bool,
    in_test: bool,
    in_async: bool,
    in_main: bool,
    timeout_depth: usize,
    oneshot_receivers: HashSet<String>,
    awaited: Option<*const syn::ExprMethodCall>,
    /// Findings so far.
    pub findings: Vec<Finding>,
}

impl std::fmt::Debug for Auditor<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Auditor")
            .field("findings", &self.findings)
            .finish_non_exhaustive()
    }
}

impl<'a> Auditor<'a> {
    /// A walker for one file; `file_is_test` marks a whole file as test code.
    pub fn new(
        aliases: &'a Aliases,
        config: &'a Config,
        lines: &'a [&'a str],
        code: &'a [bool],
        file_is_test: bool,
    ) -> Self {
        Auditor {
            aliases,
            config,
            lines,
            code,
            file_is_test,
            in_test: file_is_test,
            in_async: false,
            in_main: false,
            timeout_depth: 0,
            oneshot_receivers: HashSet::new(),
            awaited: None,
            findings: Vec::new(),
        }
    }

    fn report(&mut self, rule: usize, span: Span, message: String) {
        let settings = &self.config.rules[rule];
        if settings.level == rules::Level::Allow || (self.in_test && settings.exempt_tests) {
            return;
        }
        let start = span.start();
        let source_line = self
            .lines
            .get(start.line.wrapping_sub(1))
            .copied()
            .unwrap_or("");
        self.findings.push(Finding {
            rule,
            line: start.line,
            column: start.column + 1,
            message,
            source_line: source_line.to_owned(),
        });
    }

    /// Resolves a called path when its last segment is one the rules care about.
    fn resolve_call(&self, path: &syn::Path) -> Option<Vec<String>> {
        let last = path.segments.last()?;
        let single = path.segments.len() == 1;
        let renamed = single && self.aliases.binds(&last.ident.to_string());
        if !INTERESTING.iter().any(|name| last.ident == name) && !self.in_async && !renamed {
            return None;
        }
        let resolved = self.aliases.resolve(path)?;
        if single && !renamed {
            // A bare name no `use` binds: a local function, unless a glob import names it.
            return self
                .aliases
                .glob_candidates(&resolved[0])
                .find(|full| known(full));
        }
        Some(resolved)
    }

    fn check_call(&mut self, call: &syn::ExprCall) {
        let syn::Expr::Path(func) = &*call.func else {
            return;
        };
        let path = &func.path;
        let span = path
            .segments
            .first()
            .map_or_else(Span::call_site, |segment| segment.ident.span());
        let last = path
            .segments
            .last()
            .map(|segment| segment.ident.to_string())
            .unwrap_or_default();
        if last == "block_on" {
            self.untimed_block_on(span);
        }
        if last == "unbounded_channel" {
            self.report(
                rules::UNBOUNDED_QUEUE,
                span,
                "unbounded queue: `unbounded_channel()`".to_owned(),
            );
            return;
        }
        if last == "drop" && call.args.len() == 1 {
            self.check_discarded(&call.args[0], span, "`drop(..)`");
        }
        let Some(full) = self.resolve_call(path) else {
            return;
        };
        let shown = full.join("::");
        if matches_any(&full, SPAWN_FNS) {
            self.report(
                rules::UNSUPERVISED_SPAWN,
                span,
                format!("unsupervised spawn: `{shown}`"),
            );
        } else if matches_any(&full, UNBOUNDED_FNS) {
            self.report(
                rules::UNBOUNDED_QUEUE,
                span,
                format!("unbounded queue: `{shown}`"),
            );
        } else if matches_any(&full, LEAK_FNS) {
            self.report(
                rules::LEAKED_GUARD,
                span,
                format!("leaked guard: `{shown}` never runs Drop"),
            );
        } else if matches_any(&full, SLEEP_FNS) {
            if self.in_test {
                self.report(
                    rules::SLEEP_IN_TEST,
                    span,
                    format!("sleep in test: `{shown}`"),
                );
            }
            if self.in_async && full[0] == "std" {
                self.report(
                    rules::BLOCKING_IN_ASYNC,
                    span,
                    format!("blocking `{shown}` inside async code"),
                );
            }
        } else if self.in_async && full.len() > 2 && full[0] == "std" && full[1] == "fs" {
            self.report(
                rules::BLOCKING_IN_ASYNC,
                span,
                format!("blocking `{shown}` inside async code"),
            );
        }
    }

    fn untimed_block_on(&mut self, span: Span) {
        if self.in_async {
            self.report(
                rules::BLOCKING_IN_ASYNC,
                span,
                "`block_on` inside async code".to_owned(),
            );
        } else if !self.in_main {
            self.report(
                rules::UNTIMED_WAIT,
                span,
                "untimed wait: `block_on` outside `main`".to_owned(),
            );
        }
    }

    fn check_method(&mut self, call: &syn::ExprMethodCall) {
        let awaited = self.awaited == Some(call as *const _);
        let method = &call.method;
        let span = method.span();
        let arity = call.args.len();
        if !awaited {
            let blocking = (method == "recv" && arity == 0)
                || (method == "blocking_recv" && arity == 0)
                || (method == "join" && arity == 0);
            if blocking && self.in_async {
                self.report(
                    rules::BLOCKING_IN_ASYNC,
                    span,
                    format!("blocking `.{method}()` inside async code"),
                );
            } else if blocking {
                self.report(
                    rules::UNTIMED_WAIT,
                    span,
                    format!("untimed wait: blocking `.{method}()` with no timeout"),
                );
            } else if method == "recv_timeout" && arity == 1 && self.in_async {
                self.report(
                    rules::BLOCKING_IN_ASYNC,
                    span,
                    "blocking `.recv_timeout(..)` inside async code".to_owned(),
                );
            }
        }
        if method == "block_on" && arity == 1 {
            self.untimed_block_on(span);
        }
        if method == "spawn" && arity == 1 {
            if let Some(root) = self.chain_root(&call.receiver) {
                if matches_any(&root, SPAWN_BUILDERS) {
                    let shown = root.join("::");
                    self.report(
                        rules::UNSUPERVISED_SPAWN,
                        span,
                        format!("unsupervised spawn: `{shown}(..).spawn(..)`"),
                    );
                }
            }
        }
        if method == "unwrap_or" && arity == 1 && is_unit(&call.args[0]) {
            self.check_discarded(&call.receiver, span, "`.unwrap_or(())`");
        }
    }

    /// The resolved path of the call at the root of a method chain, `a::b()` in `a::b().c().d()`.
    fn chain_root(&self, mut expr: &syn::Expr) -> Option<Vec<String>> {
        loop {
            match expr {
                syn::Expr::MethodCall(call) => expr = &call.receiver,
                syn::Expr::Call(call) => {
                    let syn::Expr::Path(func) = &*call.func else {
                        return None;
                    };
                    return self.aliases.resolve(&func.path);
                }
                _ => return None,
            }
        }
    }

    /// Reports `expr` when it is a send or a `catch_unwind` whose result `how` throws away.
    fn check_discarded(&mut self, expr: &syn::Expr, span: Span, how: &str) {
        let expr = strip_await(expr);
        if let Some(method) = send_method(expr) {
            self.report(
                rules::IGNORED_SEND_RESULT,
                span,
                format!("ignored send result: `.{method}(..)` thrown away by {how}"),
            );
        } else if self.is_catch_unwind(expr) {
            self.report(
                rules::SWALLOWED_FAILURE,
                span,
                format!("swallowed failure: `catch_unwind` result thrown away by {how}"),
            );
        }
    }

    fn is_catch_unwind(&self, expr: &syn::Expr) -> bool {
        match expr {
            syn::Expr::Call(call) => match &*call.func {
                syn::Expr::Path(func) => func
                    .path
                    .segments
                    .last()
                    .is_some_and(|last| last.ident == "catch_unwind"),
                _ => false,
            },
            syn::Expr::MethodCall(call) => call.method == "catch_unwind" && call.args.is_empty(),
            _ => false,
        }
    }

    fn check_static(&mut self, item: &syn::ItemStatic) {
        let span = item.ident.span();
        if matches!(item.mutability, syn::StaticMutability::Mut(_)) {
            self.report(
                rules::GLOBAL_MUTABLE_STATE,
                span,
                format!("global mutable state: `static mut {}`", item.ident),
            );
        } else if mentions_interior_mutability(item.ty.to_token_stream_cheap()) {
            self.report(
                rules::GLOBAL_MUTABLE_STATE,
                span,
                format!(
                    "global mutable state: static `{}` holds interior mutability",
                    item.ident
                ),
            );
        }
    }

    fn check_length(&mut self, ident: &syn::Ident, block: &syn::Block) {
        let first = ident.span().start().line;
        let last = block.brace_token.span.close().end().line;
        let count = count_code(self.code, first, last);
        if count > self.config.fn_code_lines {
            let limit = self.config.fn_code_lines;
            self.report(
                rules::GOD_MODULE,
                ident.span(),
                format!("god function: `{ident}` has {count} lines of code (limit {limit})"),
            );
        }
    }

    fn function(
        &mut self,
        attrs: &[syn::Attribute],
        sig: &syn::Signature,
        block: &syn::Block,
        visit: impl FnOnce(&mut Self),
    ) {
        let saved = (
            self.in_test,
            self.in_async,
            self.in_main,
            std::mem::take(&mut self.oneshot_receivers),
        );
        self.in_test = self.in_test || is_test_fn(attrs);
        self.in_async = sig.asyncness.is_some();
        self.in_main = sig.ident == "main";
        self.check_length(&sig.ident, block);
        visit(self);
        (
            self.in_test,
            self.in_async,
            self.in_main,
            self.oneshot_receivers,
        ) = saved;
    }
}

/// Whether a resolved path is one any rule looks for.
fn known(full: &[String]) -> bool {
    [SPAWN_FNS, UNBOUNDED_FNS, SLEEP_FNS, LEAK_FNS]
        .iter()
        .any(|list| matches_any(full, list))
}

fn matches_any(full: &[String], patterns: &[&[&str]]) -> bool {
    patterns
        .iter()
        .any(|pattern| pattern.len() == full.len() && pattern.iter().zip(full).all(|(a, b)| a == b))
}

fn strip_await(mut expr: &syn::Expr) -> &syn::Expr {
    loop {
        match expr {
            syn::Expr::Await(inner) => expr = &inner.base,
            syn::Expr::Paren(inner) => expr = &inner.expr,
            _ => return expr,
        }
    }
}

/// The method name when `expr` is a channel-style send: `send(msg)`,
/// `try_send(msg)`, `blocking_send(msg)`, `send_async(msg)`, `send_timeout(msg, t)`.
fn send_method(expr: &syn::Expr) -> Option<String> {
    let syn::Expr::MethodCall(call) = expr else {
        return None;
    };
    let arity = call.args.len();
    let name = call.method.to_string();
    let is_send = match name.as_str() {
        "send" | "try_send" | "blocking_send" | "send_async" => arity == 1,
        "send_timeout" => arity == 2,
        _ => false,
    };
    is_send.then_some(name)
}

fn is_unit(expr: &syn::Expr) -> bool {
    matches!(expr, syn::Expr::Tuple(tuple) if tuple.elems.is_empty())
}

fn is_empty_body(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Block(block) => block.block.stmts.is_empty(),
        other => is_unit(other),
    }
}

/// `Err(_)`, `Err(_name)` or `Err(..)`.
fn is_ignored_err(pat: &syn::Pat) -> bool {
    let syn::Pat::TupleStruct(pat) = pat else {
        return false;
    };
    if !pat
        .path
        .segments
        .last()
        .is_some_and(|last| last.ident == "Err")
        || pat.elems.len() != 1
    {
        return false;
    }
    match &pat.elems[0] {
        syn::Pat::Wild(_) | syn::Pat::Rest(_) => true,
        syn::Pat::Ident(ident) => ident.ident.to_string().starts_with('_'),
        _ => false,
    }
}

fn is_test_fn(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|attr| {
        attr.path()
            .segments
            .last()
            .is_some_and(|last| last.ident == "test" || last.ident == "rstest")
    })
}

/// `#[cfg(test)]`, `#[cfg(all(test, ..))]`; not `#[cfg(not(test))]`.
pub fn is_cfg_test(attrs: &[syn::Attribute]) -> bool {
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

fn scan_idents(tokens: TokenStream, found: &mut impl FnMut(&proc_macro2::Ident)) {
    for token in tokens {
        match token {
            TokenTree::Ident(ident) => found(&ident),
            TokenTree::Group(group) => scan_idents(group.stream(), found),
            _ => {}
        }
    }
}

fn mentions_interior_mutability(tokens: TokenStream) -> bool {
    let mut found = false;
    scan_idents(tokens, &mut |ident| {
        found |= INTERIOR_MUTABLE.iter().any(|name| ident == name)
    });
    found
}

/// Type to tokens without the `printing` feature: walk its path segments.
trait TypeTokens {
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
pub fn count_code(code: &[bool], first: usize, last: usize) -> usize {
    let start = first.saturating_sub(1).min(code.len());
    let end = last.min(code.len()).max(start);
    code[start..end].iter().filter(|is_code| **is_code).count()
}

impl<'ast> Visit<'ast> for Auditor<'_> {
    fn visit_item_fn(&mut self, item: &'ast syn::ItemFn) {
        self.function(&item.attrs, &item.sig, &item.block, |this| {
            syn::visit::visit_item_fn(this, item)
        });
    }

    fn visit_impl_item_fn(&mut self, item: &'ast syn::ImplItemFn) {
        self.function(&item.attrs, &item.sig, &item.block, |this| {
            syn::visit::visit_impl_item_fn(this, item)
        });
    }

    fn visit_trait_item_fn(&mut self, item: &'ast syn::TraitItemFn) {
        match &item.default {
            Some(block) => self.function(&item.attrs, &item.sig, block, |this| {
                syn::visit::visit_trait_item_fn(this, item)
            }),
            None => syn::visit::visit_trait_item_fn(self, item),
        }
    }

    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        let saved = self.in_test;
        self.in_test = self.in_test || is_cfg_test(&item.attrs) || item.ident == "loom_models";
        syn::visit::visit_item_mod(self, item);
        self.in_test = saved;
    }

    fn visit_item_impl(&mut self, item: &'ast syn::ItemImpl) {
        let saved = self.in_test;
        self.in_test = self.in_test || is_cfg_test(&item.attrs);
        syn::visit::visit_item_impl(self, item);
        self.in_test = saved;
    }

    fn visit_item_static(&mut self, item: &'ast syn::ItemStatic) {
        self.check_static(item);
        syn::visit::visit_item_static(self, item);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let Some(last) = mac.path.segments.last() else {
            return;
        };
        if last.ident == "thread_local" {
            self.report(
                rules::GLOBAL_MUTABLE_STATE,
                last.ident.span(),
                "global mutable state: `thread_local!`".to_owned(),
            );
        } else if last.ident == "lazy_static" && mentions_interior_mutability(mac.tokens.clone()) {
            self.report(
                rules::GLOBAL_MUTABLE_STATE,
                last.ident.span(),
                "global mutable state: `lazy_static!` holding interior mutability".to_owned(),
            );
        }
    }

    fn visit_expr_async(&mut self, expr: &'ast syn::ExprAsync) {
        let saved = std::mem::replace(&mut self.in_async, true);
        syn::visit::visit_expr_async(self, expr);
        self.in_async = saved;
    }

    fn visit_expr_closure(&mut self, expr: &'ast syn::ExprClosure) {
        // A plain closure inside async code runs wherever it is called
        // (often `spawn_blocking`); an async closure stays async.
        let saved = std::mem::replace(&mut self.in_async, expr.asyncness.is_some());
        syn::visit::visit_expr_closure(self, expr);
        self.in_async = saved;
    }

    fn visit_expr_call(&mut self, call: &'ast syn::ExprCall) {
        self.check_call(call);
        let is_timeout = matches!(&*call.func, syn::Expr::Path(func)
            if func.path.segments.last().is_some_and(|last| last.ident == "timeout" || last.ident == "timeout_at"));
        self.timeout_depth += usize::from(is_timeout);
        syn::visit::visit_expr_call(self, call);
        self.timeout_depth -= usize::from(is_timeout);
    }

    fn visit_expr_method_call(&mut self, call: &'ast syn::ExprMethodCall) {
        self.check_method(call);
        let is_timeout = call.method == "timeout";
        self.timeout_depth += usize::from(is_timeout);
        syn::visit::visit_expr_method_call(self, call);
        self.timeout_depth -= usize::from(is_timeout);
    }

    fn visit_expr_await(&mut self, expr: &'ast syn::ExprAwait) {
        match &*expr.base {
            syn::Expr::MethodCall(call) => self.awaited = Some(call as *const _),
            syn::Expr::Path(path) if self.timeout_depth == 0 => {
                if let Some(ident) = path.path.get_ident() {
                    if self.oneshot_receivers.contains(&ident.to_string()) {
                        self.report(
                            rules::UNTIMED_WAIT,
                            ident.span(),
                            format!(
                                "untimed wait: awaiting oneshot reply `{ident}` with no timeout"
                            ),
                        );
                    }
                }
            }
            _ => {}
        }
        syn::visit::visit_expr_await(self, expr);
    }

    fn visit_local(&mut self, local: &'ast syn::Local) {
        if let Some(init) = &local.init {
            if matches!(local.pat, syn::Pat::Wild(_)) {
                self.check_discarded(&init.expr, local.let_token.span, "`let _ =`");
            }
            self.note_oneshot(&local.pat, &init.expr);
        }
        syn::visit::visit_local(self, local);
    }

    fn visit_stmt(&mut self, stmt: &'ast syn::Stmt) {
        if let syn::Stmt::Expr(expr, Some(_)) = stmt {
            let inner = strip_await(expr);
            match inner {
                syn::Expr::MethodCall(call) if call.method == "ok" && call.args.is_empty() => {
                    self.check_discarded(&call.receiver, call.method.span(), "`.ok();`");
                }
                syn::Expr::MethodCall(call) if send_method(inner).is_some() => {
                    self.check_discarded(inner, call.method.span(), "a bare statement");
                }
                syn::Expr::Call(call) if self.is_catch_unwind(inner) => {
                    if let syn::Expr::Path(func) = &*call.func {
                        let span = func
                            .path
                            .segments
                            .last()
                            .map_or_else(Span::call_site, |last| last.ident.span());
                        self.check_discarded(inner, span, "a bare statement");
                    }
                }
                _ => {}
            }
        }
        syn::visit::visit_stmt(self, stmt);
    }

    fn visit_arm(&mut self, arm: &'ast syn::Arm) {
        if arm.guard.is_none() && is_ignored_err(&arm.pat) && is_empty_body(&arm.body) {
            if let syn::Pat::TupleStruct(pat) = &arm.pat {
                let span = pat
                    .path
                    .segments
                    .last()
                    .map_or_else(Span::call_site, |last| last.ident.span());
                self.report(
                    rules::SWALLOWED_FAILURE,
                    span,
                    "swallowed failure: empty `Err(_)` arm".to_owned(),
                );
            }
        }
        syn::visit::visit_arm(self, arm);
    }

    fn visit_expr_if(&mut self, expr: &'ast syn::ExprIf) {
        if let syn::Expr::Let(condition) = &*expr.cond {
            if expr.else_branch.is_none()
                && expr.then_branch.stmts.is_empty()
                && is_ignored_err(&condition.pat)
            {
                self.report(
                    rules::SWALLOWED_FAILURE,
                    expr.if_token.span,
                    "swallowed failure: `if let Err(_) = .. {}` does nothing".to_owned(),
                );
            }
        }
        syn::visit::visit_expr_if(self, expr);
    }
}

impl Auditor<'_> {
    /// Remembers `rx` from `let (tx, rx) = oneshot::channel();`.
    fn note_oneshot(&mut self, pat: &syn::Pat, init: &syn::Expr) {
        let syn::Expr::Call(call) = init else { return };
        let syn::Expr::Path(func) = &*call.func else {
            return;
        };
        let segments = &func.path.segments;
        let is_oneshot = segments.last().is_some_and(|last| last.ident == "channel")
            && match self.aliases.resolve(&func.path) {
                Some(full) => full.len() >= 2 && full[full.len() - 2] == "oneshot",
                None => false,
            };
        if !is_oneshot {
            return;
        }
        if let syn::Pat::Tuple(tuple) = pat {
            if let Some(syn::Pat::Ident(receiver)) = tuple.elems.iter().nth(1) {
                self.oneshot_receivers.insert(receiver.ident.to_string());
            }
        }
    }

    /// Whether this walker treats the whole file as test code.
    pub fn file_is_test(&self) -> bool {
        self.file_is_test
    }
}
