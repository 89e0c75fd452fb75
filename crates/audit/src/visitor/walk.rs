//! The [`Visit`] walk: keeps the context (test, async, timeout, `main`) and hands nodes to the checks.

use proc_macro2::Span;
use syn::visit::Visit;

use super::{Auditor, macros::Position, rules, syntax::*};

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

    fn visit_item_macro(&mut self, item: &'ast syn::ItemMacro) {
        // `macro_rules! name { .. }` defines a macro: its body is a template.
        if item.ident.is_none() {
            self.check_macro(&item.mac);
            self.macro_body(&item.mac, Position::Item);
        }
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        self.check_macro(mac);
        self.macro_body(mac, Position::Expr);
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
            syn::Expr::MethodCall(_) => self.mark_awaited(Some(&expr.base)),
            syn::Expr::Path(path) if self.timeout_depth == 0 => {
                let receiver = path
                    .path
                    .get_ident()
                    .filter(|ident| self.oneshot_receivers.contains(&ident.to_string()));
                if let Some(ident) = receiver {
                    self.report(
                        rules::UNTIMED_WAIT,
                        ident.span(),
                        format!("untimed wait: awaiting oneshot reply `{ident}` with no timeout"),
                    );
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
            self.note_try_result(&local.pat, &init.expr);
            self.note_binding(&local.pat, &init.expr);
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
                // A bare `x.send(v);` that compiles without an `unused_must_use`
                // warning returns `()` (a permit, an internal queue; actix's
                // `Addr::do_send`), so only awaited sends and the always-`Result`
                // variants count here. A bare cast or `send_message` is left to
                // rustc: where it returns a `Result`, `unused_must_use` warns.
                syn::Expr::MethodCall(call)
                    if send_method(inner).is_some()
                        && (matches!(
                            call.method.to_string().as_str(),
                            "try_send" | "blocking_send" | "send_timeout" | "send_async"
                        ) || (call.method == "send"
                            && matches!(expr, syn::Expr::Await(_)))) =>
                {
                    self.check_discarded(inner, call.method.span(), "a bare statement");
                }
                // `_ = tx.send(v);`: an assignment to the wildcard throws the result away.
                syn::Expr::Assign(assign) if matches!(&*assign.left, syn::Expr::Infer(_)) => {
                    self.check_discarded(&assign.right, assign.eq_token.span, "`_ =`");
                }
                // `tokio::spawn(async { tx.send(v) });`: the send result is the
                // output of a task whose handle is dropped, so nobody reads it.
                syn::Expr::Call(call) if self.is_detached_spawn(call) => {
                    if let Some(syn::Expr::Async(task)) = call.args.first()
                        && let Some(syn::Stmt::Expr(tail, None)) = task.block.stmts.last()
                    {
                        let tail = strip_await(tail);
                        if let syn::Expr::MethodCall(send) = tail
                            && send_method(tail).is_some()
                        {
                            self.check_discarded(
                                tail,
                                send.method.span(),
                                "a detached task whose output nobody reads",
                            );
                        }
                    }
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

    fn visit_expr_match(&mut self, expr: &'ast syn::ExprMatch) {
        // When another arm panics, the match asserts that the error is the
        // expected outcome (`Err(_) => {}, Ok(_) => panic!()`): nothing is swallowed.
        // A match on a borrowed result (`match &res`) only inspects it: the
        // result itself is still there to be handled, as it usually is after.
        let inspects = matches!(&*expr.expr, syn::Expr::Reference(_));
        let asserts = inspects
            || expr.arms.iter().any(|arm| panics(&arm.body))
            || self.is_try_result(&expr.expr);
        for arm in &expr.arms {
            let syn::Pat::TupleStruct(pat) = &arm.pat else {
                continue;
            };
            if !asserts
                && arm.guard.is_none()
                && is_ignored_err(&arm.pat)
                && is_empty_body(&arm.body)
            {
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
        syn::visit::visit_expr_match(self, expr);
    }

    fn visit_expr_if(&mut self, expr: &'ast syn::ExprIf) {
        let swallowed = match &*expr.cond {
            syn::Expr::Let(condition) => {
                expr.else_branch.is_none()
                    && expr.then_branch.stmts.is_empty()
                    && is_ignored_err(&condition.pat)
                    && !self.is_try_result(&condition.expr)
            }
            _ => false,
        };
        if swallowed {
            self.report(
                rules::SWALLOWED_FAILURE,
                expr.if_token.span,
                "swallowed failure: `if let Err(_) = .. {}` does nothing".to_owned(),
            );
        }
        syn::visit::visit_expr_if(self, expr);
    }
}

impl Auditor<'_> {
    /// FND002's macros: `thread_local!` and `lazy_static!` holding interior mutability.
    fn check_macro(&mut self, mac: &syn::Macro) {
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

    /// Remembers `rx` from `let (tx, rx) = oneshot::channel();`.
    fn note_oneshot(&mut self, pat: &syn::Pat, init: &syn::Expr) {
        let syn::Expr::Call(call) = init else { return };
        let syn::Expr::Path(func) = &*call.func else {
            return;
        };
        let segments = &func.path.segments;
        // `oneshot::channel()`, or a constructor named `oneshot()` (ractor's
        // `concurrency::oneshot()`, a crate's own shim).
        let named_oneshot = segments.last().is_some_and(|last| last.ident == "oneshot");
        let is_oneshot = named_oneshot
            || segments.last().is_some_and(|last| last.ident == "channel")
                && match self.aliases.resolve(&func.path) {
                    Some(full) => full.len() >= 2 && full[full.len() - 2] == "oneshot",
                    None => false,
                };
        if !is_oneshot {
            return;
        }
        let syn::Pat::Tuple(tuple) = pat else { return };
        if let Some(syn::Pat::Ident(receiver)) = tuple.elems.iter().nth(1) {
            self.oneshot_receivers.insert(receiver.ident.to_string());
        }
    }

    /// Sets whether the walk is in test code; returns the previous value (to restore).
    pub(crate) fn set_in_test(&mut self, in_test: bool) -> bool {
        std::mem::replace(&mut self.in_test, in_test)
    }

    /// Whether the walk is in test code.
    pub(crate) fn in_test(&self) -> bool {
        self.in_test
    }

    /// Whether this walker treats the whole file as test code.
    pub fn file_is_test(&self) -> bool {
        self.file_is_test
    }
}
