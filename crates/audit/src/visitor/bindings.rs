//! Following `let` bindings within a function: a builder bound to a name, or returned by a closure, is still that builder.
//!
//! `std::thread::Builder::new().spawn(f)` is one chain the rules see at once,
//! but code often names the builder first (`let builder =
//! thread::Builder::new().name(..); builder.spawn(f)`) or makes it in a
//! closure (`let make = || thread::Builder::new(); make().spawn(f)`). The
//! walk records such bindings per function and [`Auditor::chain_root`] looks
//! through them. Only bindings whose chain starts at a constructor a rule
//! knows are kept, so the table stays small.

use std::collections::HashMap;

use super::{Auditor, FS_BUILDER_TYPES, SPAWNER_TYPES, syntax::matches_any};

/// Names bound in the current function to a builder chain, or to a closure returning one.
#[derive(Debug, Default)]
pub(super) struct Builders {
    /// `let builder = thread::Builder::new()..;` or `handle: &Handle`: name to the resolved type.
    values: HashMap<String, Vec<String>>,
    /// `let make = || thread::Builder::new()..;`: name to the type its call returns.
    closures: HashMap<String, Vec<String>>,
}

impl Builders {
    fn is_empty(&self) -> bool {
        self.values.is_empty() && self.closures.is_empty()
    }
}

/// Whether a resolved type is one whose chains a rule follows.
fn is_builder(root: &[String]) -> bool {
    matches_any(root, SPAWNER_TYPES) || matches_any(root, FS_BUILDER_TYPES)
}

/// The return type of a closure parameter's type: `R` of `impl Fn(..) -> R`,
/// or of `F` where the signature bounds `F: FnMut(..) -> R`.
fn closure_output<'g>(ty: &'g syn::Type, generics: &'g syn::Generics) -> Option<&'g syn::Type> {
    let from_bounds =
        |bounds: &'g syn::punctuated::Punctuated<syn::TypeParamBound, syn::Token![+]>| {
            bounds.iter().find_map(|bound| {
                let syn::TypeParamBound::Trait(bound) = bound else {
                    return None;
                };
                let last = bound.path.segments.last()?;
                let syn::PathArguments::Parenthesized(arguments) = &last.arguments else {
                    return None;
                };
                match &arguments.output {
                    syn::ReturnType::Type(_, output) => Some(&**output),
                    syn::ReturnType::Default => None,
                }
            })
        };
    match ty {
        syn::Type::ImplTrait(bounds) => from_bounds(&bounds.bounds),
        syn::Type::Path(path) if path.qself.is_none() => {
            let ident = path.path.get_ident()?;
            let in_params = generics.type_params().find_map(|param| {
                (param.ident == *ident)
                    .then(|| from_bounds(&param.bounds))
                    .flatten()
            });
            let in_where = generics.where_clause.as_ref().and_then(|clause| {
                clause.predicates.iter().find_map(|predicate| {
                    let syn::WherePredicate::Type(predicate) = predicate else {
                        return None;
                    };
                    let bounded = type_path(&predicate.bounded_ty)?.get_ident()?;
                    (bounded == ident)
                        .then(|| from_bounds(&predicate.bounds))
                        .flatten()
                })
            });
            in_params.or(in_where)
        }
        _ => None,
    }
}

/// `T` in `T`, `&T`, `&mut T`, `(T)`: the path of a parameter's type.
fn type_path(ty: &syn::Type) -> Option<&syn::Path> {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => Some(&path.path),
        syn::Type::Reference(reference) => type_path(&reference.elem),
        syn::Type::Paren(inner) => type_path(&inner.elem),
        _ => None,
    }
}

/// The name a simple pattern binds: `b`, `mut b`, `b: Builder`.
fn bound_name(pat: &syn::Pat) -> Option<String> {
    match pat {
        syn::Pat::Ident(binding) if binding.subpat.is_none() => Some(binding.ident.to_string()),
        syn::Pat::Type(typed) => bound_name(&typed.pat),
        _ => None,
    }
}

/// The expression a closure body returns: the body itself, or a block's tail expression.
fn returned(body: &syn::Expr) -> Option<&syn::Expr> {
    match body {
        syn::Expr::Block(block) => match block.block.stmts.last() {
            Some(syn::Stmt::Expr(tail, None)) => returned(tail),
            _ => None,
        },
        other => Some(other),
    }
}

impl Auditor<'_> {
    /// Remembers `name` from `let name = <builder chain>;` or `let name = || <builder chain>;`.
    pub(super) fn note_binding(&mut self, pat: &syn::Pat, init: &syn::Expr) {
        let Some(name) = bound_name(pat) else {
            return;
        };
        let (root, closure) = match init {
            syn::Expr::Closure(closure) => (
                returned(&closure.body).and_then(|body| self.chain_root(body)),
                true,
            ),
            other => (self.chain_root(other), false),
        };
        // A later `let` of the same name shadows the earlier one, builder or not.
        self.builders.values.remove(&name);
        self.builders.closures.remove(&name);
        if let Some(root) = root.filter(|root| is_builder(root)) {
            let table = if closure {
                &mut self.builders.closures
            } else {
                &mut self.builders.values
            };
            table.insert(name, root);
        }
    }

    /// Remembers parameters typed as a builder or spawner (`handle:
    /// &tokio::runtime::Handle`), or as a closure returning one (`make: impl
    /// Fn() -> thread::Builder`, or `make: F` with `F: FnMut() -> thread::Builder`).
    pub(super) fn note_parameters(&mut self, sig: &syn::Signature) {
        for input in &sig.inputs {
            let syn::FnArg::Typed(typed) = input else {
                continue;
            };
            let Some(name) = bound_name(&typed.pat) else {
                continue;
            };
            if let Some(ty) = self.builder_type(&typed.ty) {
                self.builders.values.insert(name, ty);
            } else if let Some(ty) = closure_output(&typed.ty, &sig.generics)
                .and_then(|output| self.builder_type(output))
            {
                self.builders.closures.insert(name, ty);
            }
        }
    }

    /// The resolved type when `ty` names a builder or spawner type.
    fn builder_type(&self, ty: &syn::Type) -> Option<Vec<String>> {
        let path = type_path(ty)?;
        let full = self.resolve_type(path)?;
        is_builder(&full).then_some(full)
    }

    /// A type's path resolved through `use` items, glob imports and re-exports.
    fn resolve_type(&self, path: &syn::Path) -> Option<Vec<String>> {
        let full = self.reexported(&self.aliases.resolve(path)?);
        if is_builder(&full) {
            return Some(full);
        }
        self.through_globs(path).or(Some(full))
    }

    /// `Arbiter::new` under `use actix::prelude::*`: the first path whose
    /// first segment a glob import supplies and that names a known type or function.
    fn through_globs(&self, path: &syn::Path) -> Option<Vec<String>> {
        let first = path.segments.first()?.ident.to_string();
        if path.leading_colon.is_some() || self.aliases.binds(&first) {
            return None;
        }
        let rest: Vec<String> = path
            .segments
            .iter()
            .skip(1)
            .map(|segment| segment.ident.to_string())
            .collect();
        self.aliases.glob_candidates(&first).find_map(|mut full| {
            full.extend(rest.iter().cloned());
            let full = self.reexported(&full);
            let mut ty = full.clone();
            ty.pop();
            (is_builder(&full) || is_builder(&ty)).then_some(full)
        })
    }

    /// The resolved type at the root of a method chain: `a::B` for `a::B::new()`
    /// in `a::B::new().c()?.d()`, seen through names bound to builder chains,
    /// parameters typed as one and closures returning one.
    pub(super) fn chain_root(&self, mut expr: &syn::Expr) -> Option<Vec<String>> {
        loop {
            match expr {
                syn::Expr::MethodCall(call) => expr = &call.receiver,
                syn::Expr::Try(inner) => expr = &inner.expr,
                syn::Expr::Paren(inner) => expr = &inner.expr,
                syn::Expr::Reference(inner) => expr = &inner.expr,
                syn::Expr::Path(path) => {
                    let ident = path.path.get_ident()?;
                    if self.builders.is_empty() {
                        return None;
                    }
                    return self.builders.values.get(&ident.to_string()).cloned();
                }
                syn::Expr::Call(call) => {
                    let syn::Expr::Path(func) = &*call.func else {
                        return None;
                    };
                    if let Some(ident) = func.path.get_ident()
                        && let Some(root) = self.builders.closures.get(&ident.to_string())
                    {
                        return Some(root.clone());
                    }
                    let mut full = self.resolve_type(&func.path)?;
                    // The type of an associated function: `a::B` for `a::B::new`.
                    full.pop();
                    return (full.len() >= 2).then_some(full);
                }
                _ => return None,
            }
        }
    }
}
