//! The syntax-tree walk that finds rules FND001 to FND010 and FND012 in one parsed file.
//!
//! The walk carries the context rules need: inside test code, inside async
//! code, inside a `timeout(..)`, inside `fn main`, and the oneshot receivers
//! bound in the current function. Paths are resolved through the file's `use`
//! items ([`Aliases`]) before they are compared with the patterns in `visitor/patterns.rs`.

use std::collections::HashSet;

use proc_macro2::Span;

use self::{patterns::*, syntax::*};
use super::{Finding, config::Config, resolve::Aliases, rules};

mod bindings;
mod macros;
mod patterns;
mod syntax;
mod walk;

/// Whether attributes hold `#[cfg(test)]` (for a module or impl walked in pieces).
pub(crate) fn attrs_are_cfg_test(attrs: &[syn::Attribute]) -> bool {
    is_cfg_test(attrs)
}

/// Whether a type names an interior-mutable type at any depth (`LazyLock<Mutex<_>>`).
pub(crate) fn type_is_interior_mutable(ty: &syn::Type) -> bool {
    mentions_interior_mutability(ty.to_token_stream_cheap())
}

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
    /// Names bound to the result of a `try_*` call in the current function.
    try_results: HashSet<String>,
    /// Builders bound by `let` in the current function: name to the resolved
    /// constructor at the root of its chain (`std::thread::Builder::new`).
    builders: bindings::Builders,
    /// Method calls whose future is driven by an `.await`, `block_on` or a
    /// future combinator, found before the walk reaches them.
    awaited: Vec<*const syn::ExprMethodCall>,
    /// Lines before the piece of the file being walked: a large file is
    /// parsed in pieces, and a piece's spans count lines from its own start.
    pub line_offset: usize,
    /// Findings so far.
    pub findings: Vec<Finding>,
    /// Findings in test code that the rule's `exempt_tests` hides, kept
    /// apart so the report can say how many were not shown.
    pub exempt_in_tests: Vec<Finding>,
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
            try_results: HashSet::new(),
            builders: bindings::Builders::default(),
            awaited: Vec::new(),
            line_offset: 0,
            findings: Vec::new(),
            exempt_in_tests: Vec::new(),
        }
    }

    fn report(&mut self, rule: usize, span: Span, message: String) {
        let settings = &self.config.rules[rule];
        if settings.level == rules::Level::Allow {
            return;
        }
        let exempt = self.in_test && settings.exempt_tests;
        let start = span.start();
        let line = start.line + self.line_offset;
        let source_line = self.lines.get(line.wrapping_sub(1)).copied().unwrap_or("");
        let finding = Finding {
            rule,
            line,
            column: start.column + 1,
            message,
            source_line: source_line.to_owned(),
        };
        if exempt {
            self.exempt_in_tests.push(finding);
        } else {
            self.findings.push(finding);
        }
    }

    /// Resolves a called path when its last segment is one the rules care
    /// about: the path the rules know (after re-exports) and how to show it.
    fn resolve_call(&self, path: &syn::Path) -> Option<(Vec<String>, String)> {
        let last = path.segments.last()?;
        let single = path.segments.len() == 1;
        let name = last.ident.to_string();
        let renamed = single && self.aliases.binds(&name);
        if !INTERESTING.contains(&name.as_str())
            && !self.in_async
            && !renamed
            && !self.config.reexports.names(&name)
        {
            return None;
        }
        let resolved = self.aliases.resolve(path)?;
        let (written, full) = if single && !renamed {
            // A bare name no `use` binds: a local function, unless a glob import names it.
            self.aliases
                .glob_candidates(&resolved[0])
                .map(|written| {
                    let full = self.reexported(&written);
                    (written, full)
                })
                .find(|(_, full)| known(full))?
        } else {
            let full = self.reexported(&resolved);
            (resolved, full)
        };
        // Shown inside backticks: "`actix_rt::spawn` = `tokio::task::spawn_local`".
        let shown = if written == full {
            full.join("::")
        } else {
            format!("{}` = `{}", written.join("::"), full.join("::"))
        };
        Some((full, shown))
    }

    /// `full` after the re-export table: `actix_rt::time::sleep` is `tokio::time::sleep`.
    pub(super) fn reexported(&self, full: &[String]) -> Vec<String> {
        self.config
            .reexports
            .apply(full)
            .unwrap_or_else(|| full.to_vec())
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
        if FUTURE_DRIVERS.iter().any(|name| last == *name) {
            for arg in &call.args {
                self.mark_awaited(Some(arg));
            }
        }
        if last == "unbounded_channel" {
            self.report(
                rules::UNBOUNDED_QUEUE,
                span,
                "unbounded queue: `unbounded_channel()`".to_owned(),
            );
            return;
        }
        if self.in_test && SLEEP_NAMES.contains(&last.as_str()) {
            // Any function named `sleep` called in a test sleeps: tokio's,
            // std's, or a crate's own shim (`crate::concurrency::sleep`).
            self.report(
                rules::SLEEP_IN_TEST,
                span,
                format!("sleep in test: `{}`", path_text(path)),
            );
        }
        if last == "drop" && call.args.len() == 1 {
            self.check_discarded(&call.args[0], span, "`drop(..)`");
        }
        let Some((full, shown)) = self.resolve_call(path) else {
            self.unbounded_by_name(&last, path, span);
            return;
        };
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
            // A sleep renamed by `use .. as`; one named `sleep` was reported above.
            if self.in_test && !SLEEP_NAMES.contains(&last.as_str()) {
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
        } else if self.in_async
            && full.len() > 2
            && full[0] == "std"
            && full[1] == "fs"
            && !matches_any(&full, FS_BUILDERS)
        {
            self.report(
                rules::BLOCKING_IN_ASYNC,
                span,
                format!("blocking `{shown}` inside async code"),
            );
        } else {
            self.unbounded_by_name(&last, path, span);
        }
    }

    /// A call to a function named like an unbounded queue's constructor that
    /// no known path explains: a crate's own shim (`crate::concurrency::mpsc_unbounded()`)
    /// or a local function.
    fn unbounded_by_name(&mut self, last: &str, path: &syn::Path, span: Span) {
        let segments = path.segments.len();
        let module = (segments >= 2).then(|| path.segments[segments - 2].ident.to_string());
        let queue_module = module.is_some_and(|module| QUEUE_MODULES.contains(&module.as_str()));
        if last == "mpsc_unbounded" || (last == "unbounded" && queue_module) {
            self.report(
                rules::UNBOUNDED_QUEUE,
                span,
                format!("unbounded queue: `{}()`", path_text(path)),
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
        let this = call as *const syn::ExprMethodCall;
        let awaited = match self.awaited.iter().position(|seen| *seen == this) {
            Some(index) => {
                self.awaited.swap_remove(index);
                true
            }
            None => false,
        };
        let method = &call.method;
        let span = method.span();
        let arity = call.args.len();
        let on_self =
            matches!(&*call.receiver, syn::Expr::Path(path) if path.path.is_ident("self"));
        // `group.delim_span().join()` / `mac.delimiter.span().join()`: a span, not a thread.
        let on_span = matches!(&*call.receiver, syn::Expr::MethodCall(inner)
            if inner.method.to_string().ends_with("span"));
        if !awaited && !on_self && !on_span {
            let blocking =
                arity == 0 && (method == "recv" || method == "blocking_recv" || method == "join");
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
        // `runtime.block_on(f)`, and `LocalSet::block_on(&runtime, f)`.
        if method == "block_on" && (arity == 1 || arity == 2) {
            self.untimed_block_on(span);
            self.mark_awaited(call.args.last());
        }
        // Builder chains: `std::fs::OpenOptions::new()..open(p)` in async code, and
        // `std::thread::Builder::new()..spawn(f)` anywhere.
        let opens = self.in_async && (method == "open" || method == "create") && arity == 1;
        let spawns = arity == 1 && SPAWN_METHODS.iter().any(|name| method == name);
        let root = if opens || spawns {
            self.chain_root(&call.receiver)
        } else {
            None
        };
        if let Some(root) = root
            .as_ref()
            .filter(|root| opens && matches_any(root, FS_BUILDER_TYPES))
        {
            let shown = root.join("::");
            self.report(
                rules::BLOCKING_IN_ASYNC,
                span,
                format!("blocking `.{method}(..)` on a `{shown}` inside async code"),
            );
        } else if let Some(root) = root
            .as_ref()
            .filter(|root| spawns && matches_any(root, SPAWNER_TYPES))
        {
            let shown = root.join("::");
            self.report(
                rules::UNSUPERVISED_SPAWN,
                span,
                format!("unsupervised spawn: `.{method}(..)` on a `{shown}`"),
            );
        }
        if method == "unwrap_or" && arity == 1 && is_unit(&call.args[0]) {
            self.check_discarded(&call.receiver, span, "`.unwrap_or(())`");
        }
    }

    /// A future handed to `block_on`, `timeout` or a combinator is driven by it, like an `.await`.
    /// The whole chain counts: in `rx.recv().fuse()` the `.recv()` is a future too.
    pub(super) fn mark_awaited(&mut self, future: Option<&syn::Expr>) {
        let mut next = future.map(strip_reference);
        while let Some(syn::Expr::MethodCall(call)) = next {
            self.awaited.push(call as *const _);
            next = Some(&*call.receiver);
        }
    }

    /// Reports `expr` when it is a send or a `catch_unwind` whose result `how` throws away.
    fn check_discarded(&mut self, expr: &syn::Expr, span: Span, how: &str) {
        let expr = strip_await(expr);
        if let Some(method) = send_method(expr) {
            let shown = if method.ends_with('!') {
                format!("{method}(..)")
            } else {
                format!(".{method}(..)")
            };
            self.report(
                rules::IGNORED_SEND_RESULT,
                span,
                format!("ignored send result: `{shown}` thrown away by {how}"),
            );
        } else if self.is_catch_unwind(expr) {
            self.report(
                rules::SWALLOWED_FAILURE,
                span,
                format!("swallowed failure: `catch_unwind` result thrown away by {how}"),
            );
        }
    }

    /// Whether `call` is one of [`SPAWN_FNS`] (after `use` items and re-exports).
    pub(super) fn is_detached_spawn(&self, call: &syn::ExprCall) -> bool {
        let syn::Expr::Path(func) = &*call.func else {
            return false;
        };
        self.resolve_call(&func.path)
            .is_some_and(|(full, _)| matches_any(&full, SPAWN_FNS))
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
        } else if type_is_interior_mutable(&item.ty) {
            self.report(
                rules::GLOBAL_MUTABLE_STATE,
                span,
                format!(
                    "global mutable state: static `{}` holds interior mutability",
                    item.ident
                ),
            );
        } else {
            // `static STATE: OnceCell<State>` where this file's `struct State` holds a `Mutex`.
            let mut local = None;
            scan_idents(item.ty.to_token_stream_cheap(), &mut |ident| {
                if local.is_none() && self.aliases.is_mutable_type(&ident.to_string()) {
                    local = Some(ident.to_string());
                }
            });
            if let Some(local) = local {
                self.report(
                    rules::GLOBAL_MUTABLE_STATE,
                    span,
                    format!(
                        "global mutable state: static `{}` holds `{local}`, whose fields hold interior mutability",
                        item.ident
                    ),
                );
            }
        }
    }

    fn check_length(&mut self, ident: &syn::Ident, block: &syn::Block) {
        let first = ident.span().start().line + self.line_offset;
        let last = block.brace_token.span.close().end().line + self.line_offset;
        let count = count_code(self.code, first, last);
        if count > self.config.fn_code_lines {
            let limit = self.config.fn_code_lines;
            self.report(
                rules::GOD_FUNCTION,
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
            std::mem::take(&mut self.try_results),
            std::mem::take(&mut self.builders),
        );
        self.in_test = self.in_test || is_test_fn(attrs);
        self.in_async = sig.asyncness.is_some();
        self.in_main = sig.ident == "main";
        self.check_length(&sig.ident, block);
        self.note_parameters(sig);
        visit(self);
        (
            self.in_test,
            self.in_async,
            self.in_main,
            self.oneshot_receivers,
            self.try_results,
            self.builders,
        ) = saved;
    }

    /// Whether an `Err` of `scrutinee` means "not ready" rather than failure:
    /// a `try_*` or `*_timeout` / `*_deadline` call (`try_recv`, `try_lock`,
    /// `select_timeout`) or a name bound to one. Ignoring that `Err` is ordinary polling, not a swallowed failure.
    pub(super) fn is_try_result(&self, scrutinee: &syn::Expr) -> bool {
        match strip_await(scrutinee) {
            syn::Expr::MethodCall(call) => is_try_name(&call.method.to_string()),
            syn::Expr::Path(path) => path
                .path
                .get_ident()
                .is_some_and(|ident| self.try_results.contains(&ident.to_string())),
            _ => false,
        }
    }

    /// Remembers `x` from `let x = y.try_something(..);`.
    pub(super) fn note_try_result(&mut self, pat: &syn::Pat, init: &syn::Expr) {
        match (pat, strip_await(init)) {
            (syn::Pat::Ident(binding), syn::Expr::MethodCall(call))
                if is_try_name(&call.method.to_string()) =>
            {
                self.try_results.insert(binding.ident.to_string());
            }
            _ => {}
        }
    }
}

/// `try_recv`, `try_lock`, `recv_timeout`, `select_deadline`: calls whose `Err` usually means "not now".
fn is_try_name(name: &str) -> bool {
    name.starts_with("try_")
        || name.ends_with("_timeout")
        || name.ends_with("_deadline")
        // An atomic's `Err` is the value another thread put there: a lost race, not a failure.
        || name.starts_with("compare_exchange")
        || name == "fetch_update"
}

/// `&mut x` or `&x` to `x`: `timeout(d, &mut rx.recv())`.
fn strip_reference(expr: &syn::Expr) -> &syn::Expr {
    match expr {
        syn::Expr::Reference(reference) => &reference.expr,
        other => other,
    }
}
