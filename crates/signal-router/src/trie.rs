//! The segment trie: subscriptions stored by pattern, found by walking a topic's segments once.
//!
//! Each node branches on literal segments (a hash map), on `*` (one child)
//! and keeps the values whose pattern ends there (`here`) or ends with `>`
//! there (`rest`). Matching a topic of `n` segments visits at most the
//! literal branch and the `*` branch at each level, so its cost grows with
//! the topic's segments and the wildcard branches that really exist, not
//! with the number of subscriptions. The layout follows NATS's sublist
//! (tokens, `pwc`, `fwc`), without its result cache.

use std::collections::HashMap;

use ahash::RandomState;

use crate::Pattern;

/// Values stored by [`Pattern`], matched by topic.
#[derive(Debug)]
pub(crate) struct Trie<T> {
    root: Node<T>,
    len: usize,
}

#[derive(Debug)]
struct Node<T> {
    literal: HashMap<Box<str>, Node<T>, RandomState>,
    one: Option<Box<Node<T>>>,
    here: Vec<T>,
    rest: Vec<T>,
}

impl<T> Default for Node<T> {
    fn default() -> Self {
        Self {
            literal: HashMap::default(),
            one: None,
            here: Vec::new(),
            rest: Vec::new(),
        }
    }
}

impl<T> Node<T> {
    fn is_empty(&self) -> bool {
        self.literal.is_empty()
            && self.one.is_none()
            && self.here.is_empty()
            && self.rest.is_empty()
    }
}

impl<T> Default for Trie<T> {
    fn default() -> Self {
        Self {
            root: Node::default(),
            len: 0,
        }
    }
}

impl<T> Trie<T> {
    /// How many values it holds.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Stores `value` under `pattern`.
    pub(crate) fn insert(&mut self, pattern: &Pattern, value: T) {
        let mut node = &mut self.root;
        let mut segments = pattern.segments().peekable();
        while let Some(segment) = segments.next() {
            match segment {
                ">" => {
                    // Validation put `>` last.
                    node.rest.push(value);
                    self.len += 1;
                    return;
                }
                "*" => node = node.one.get_or_insert_with(Box::default),
                literal => node = node.literal.entry(literal.into()).or_default(),
            }
            if segments.peek().is_none() {
                break;
            }
        }
        node.here.push(value);
        self.len += 1;
    }

    /// Takes out the first value under `pattern` that `is_it` picks, and
    /// prunes the nodes left empty.
    pub(crate) fn remove(&mut self, pattern: &Pattern, is_it: impl Fn(&T) -> bool) -> Option<T> {
        let segments: Vec<&str> = pattern.segments().collect();
        let removed = remove_at(&mut self.root, &segments, &is_it);
        if removed.is_some() {
            self.len -= 1;
        }
        removed
    }

    /// Whether no node is left below the root (removal pruned them all).
    #[cfg(test)]
    pub(crate) fn is_empty_root(&self) -> bool {
        self.root.is_empty()
    }

    /// Calls `found` with every value whose pattern matches `topic` (a
    /// validated topic's text), `here` before `rest` at each node, literal
    /// branches before `*`.
    pub(crate) fn for_each_match<'a>(&'a self, topic: &str, found: &mut impl FnMut(&'a T)) {
        let system = topic.starts_with('$');
        walk(&self.root, topic, !system, found);
    }
}

/// Matches `rest` (what is left of the topic) from `node`. `wildcards` is
/// false only at the root of a `$` topic, where neither `*` nor `>` match.
fn walk<'a, T>(node: &'a Node<T>, rest: &str, wildcards: bool, found: &mut impl FnMut(&'a T)) {
    let (segment, tail) = match rest.split_once('.') {
        Some((segment, tail)) => (segment, Some(tail)),
        None => (rest, None),
    };
    if wildcards {
        node.rest.iter().for_each(&mut *found);
    }
    if let Some(child) = node.literal.get(segment) {
        visit(child, tail, found);
    }
    if wildcards && let Some(one) = &node.one {
        visit(one, tail, found);
    }
}

/// At `node`, having consumed a segment: the values ending here if the
/// topic ended, else the walk goes on.
fn visit<'a, T>(node: &'a Node<T>, tail: Option<&str>, found: &mut impl FnMut(&'a T)) {
    match tail {
        None => node.here.iter().for_each(found),
        Some(tail) => walk(node, tail, true, found),
    }
}

fn remove_at<T>(node: &mut Node<T>, segments: &[&str], is_it: &impl Fn(&T) -> bool) -> Option<T> {
    let Some((&segment, tail)) = segments.split_first() else {
        return take(&mut node.here, is_it);
    };
    match segment {
        ">" => take(&mut node.rest, is_it),
        "*" => {
            let child = node.one.as_deref_mut()?;
            let removed = remove_at(child, tail, is_it);
            if child.is_empty() {
                node.one = None;
            }
            removed
        }
        literal => {
            let child = node.literal.get_mut(literal)?;
            let removed = remove_at(child, tail, is_it);
            if child.is_empty() {
                node.literal.remove(literal);
            }
            removed
        }
    }
}

fn take<T>(values: &mut Vec<T>, is_it: &impl Fn(&T) -> bool) -> Option<T> {
    let index = values.iter().position(is_it)?;
    // Order is kept: queue groups pick members by position.
    Some(values.remove(index))
}

#[cfg(test)]
mod tests;
