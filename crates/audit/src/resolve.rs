//! Resolving paths through the file's `use` items, so aliases and renames are seen for what they are.
//!
//! Resolution is per file and ignores scoping: every `use` anywhere in the
//! file contributes. That is what "resolvable within the file" means for the
//! audit; paths through `crate::`, `self::` or `super::` stay unresolved and
//! never match a rule, which keeps precision high.

use std::collections::{HashMap, HashSet};

use crate::visitor::type_is_interior_mutable;

/// The `use` items of one file: local name to full path, and glob imports;
/// also the file's own types whose fields hold interior mutability.
#[derive(Debug, Default)]
pub struct Aliases {
    names: HashMap<String, Vec<String>>,
    globs: Vec<Vec<String>>,
    mutable_types: HashSet<String>,
}

impl Aliases {
    /// Collects every `use` in the file.
    pub fn collect(file: &syn::File) -> Aliases {
        let mut aliases = Aliases::default();
        aliases.add(file);
        aliases
    }

    /// Adds every `use` in one more piece of the file (a file parsed in pieces).
    pub fn add(&mut self, file: &syn::File) {
        let mut collector = Collector {
            aliases: std::mem::take(self),
        };
        collector.items(&file.items);
        *self = collector.aliases;
    }

    /// The canonical full path of `path`, or `None` when the path is rooted
    /// in the current crate. Leading `::`, `core` and `alloc` are folded into
    /// `std`, and `crossbeam::channel` / `futures_channel` into their usual names.
    pub fn resolve(&self, path: &syn::Path) -> Option<Vec<String>> {
        let segments: Vec<String> = path
            .segments
            .iter()
            .map(|segment| segment.ident.to_string())
            .collect();
        self.resolve_segments(segments, path.leading_colon.is_some())
    }

    fn resolve_segments(&self, segments: Vec<String>, absolute: bool) -> Option<Vec<String>> {
        let first = segments.first()?;
        if matches!(first.as_str(), "crate" | "self" | "super" | "Self") {
            return None;
        }
        let mut full = match self.names.get(first) {
            Some(target) if !absolute => {
                let mut full = target.clone();
                full.extend(segments[1..].iter().cloned());
                full
            }
            _ => segments,
        };
        if matches!(full[0].as_str(), "crate" | "self" | "super") {
            return None;
        }
        canonicalize(&mut full);
        Some(full)
    }

    /// For a single unresolved name, the paths the file's glob imports could give it.
    pub fn glob_candidates<'a>(&'a self, name: &'a str) -> impl Iterator<Item = Vec<String>> + 'a {
        self.globs.iter().filter_map(move |prefix| {
            let mut full = prefix.clone();
            full.push(name.to_owned());
            if matches!(full[0].as_str(), "crate" | "self" | "super") {
                return None;
            }
            canonicalize(&mut full);
            Some(full)
        })
    }

    /// Whether `name` is bound by a `use` in this file.
    pub fn binds(&self, name: &str) -> bool {
        self.names.contains_key(name)
    }

    /// Whether `name` is a struct or enum of this file with a field holding
    /// interior mutability (a `Mutex`, a `DashMap`), so a static of it is mutable state.
    pub fn is_mutable_type(&self, name: &str) -> bool {
        self.mutable_types.contains(name)
    }
}

fn canonicalize(full: &mut Vec<String>) {
    match full[0].as_str() {
        "core" | "alloc" => full[0] = "std".to_owned(),
        "futures_channel" | "futures_util" | "futures_executor" => {
            let crate_name = full[0].clone();
            full[0] = "futures".to_owned();
            full.insert(1, crate_name.trim_start_matches("futures_").to_owned());
        }
        "crossbeam" if full.get(1).is_some_and(|second| second == "channel") => {
            full.remove(0);
            full[0] = "crossbeam_channel".to_owned();
        }
        _ => {}
    }
    // `std::boxed::Box` is the prelude's `Box`.
    if full.len() > 2 && full[0] == "std" && full[1] == "boxed" {
        full.drain(..2);
    }
}

#[derive(Default)]
struct Collector {
    aliases: Aliases,
}

impl Collector {
    fn tree(&mut self, prefix: &mut Vec<String>, tree: &syn::UseTree) {
        match tree {
            syn::UseTree::Path(path) => {
                prefix.push(path.ident.to_string());
                self.tree(prefix, &path.tree);
                prefix.pop();
            }
            syn::UseTree::Name(name) => {
                let ident = name.ident.to_string();
                if ident == "self" {
                    if let Some(last) = prefix.last() {
                        self.aliases
                            .names
                            .entry(last.clone())
                            .or_insert_with(|| prefix.clone());
                    }
                } else {
                    let mut full = prefix.clone();
                    full.push(ident.clone());
                    self.aliases.names.entry(ident).or_insert(full);
                }
            }
            syn::UseTree::Rename(rename) => {
                let alias = rename.rename.to_string();
                if alias == "_" {
                    return;
                }
                let mut full = prefix.clone();
                if rename.ident != "self" {
                    full.push(rename.ident.to_string());
                }
                self.aliases.names.entry(alias).or_insert(full);
            }
            syn::UseTree::Glob(_) => self.aliases.globs.push(prefix.clone()),
            syn::UseTree::Group(group) => {
                for item in &group.items {
                    self.tree(prefix, item);
                }
            }
        }
    }

    /// Walks items, modules and the item statements of function bodies; it
    /// does not descend into expressions, which keeps this pass cheap.
    fn items(&mut self, items: &[syn::Item]) {
        for item in items {
            match item {
                syn::Item::Use(item) => {
                    let mut prefix = Vec::new();
                    self.tree(&mut prefix, &item.tree);
                }
                syn::Item::Mod(module) => {
                    if let Some((_, items)) = &module.content {
                        self.items(items);
                    }
                }
                syn::Item::Fn(function) => self.block(&function.block),
                syn::Item::Struct(item)
                    if item
                        .fields
                        .iter()
                        .any(|field| type_is_interior_mutable(&field.ty)) =>
                {
                    self.aliases.mutable_types.insert(item.ident.to_string());
                }
                syn::Item::Enum(item)
                    if item
                        .variants
                        .iter()
                        .flat_map(|variant| &variant.fields)
                        .any(|field| type_is_interior_mutable(&field.ty)) =>
                {
                    self.aliases.mutable_types.insert(item.ident.to_string());
                }
                syn::Item::Impl(block) => {
                    for item in &block.items {
                        if let syn::ImplItem::Fn(function) = item {
                            self.block(&function.block);
                        }
                    }
                }
                _ => {}
            }
        }
    }

    fn block(&mut self, block: &syn::Block) {
        for stmt in &block.stmts {
            if let syn::Stmt::Item(item) = stmt {
                self.items(std::slice::from_ref(item));
            }
        }
    }
}
