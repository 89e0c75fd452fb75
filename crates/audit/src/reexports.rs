//! Well-known re-exports and wrappers: `actix_rt::time::sleep` is `tokio::time::sleep` by another name.
//!
//! Paths are resolved through a file's `use` items only, so a function that
//! another crate re-exports or wraps would never match a rule. This table
//! maps such a path (or a module prefix of it) to the path the rules know;
//! `audit.toml`'s `[reexports]` table adds a project's own wrappers.

/// `(path or module prefix, what it is)`, built in; `audit.toml` adds more.
pub const WELL_KNOWN: &[(&str, &str)] = &[
    // actix-rt runs tokio: its time module and spawns are tokio's.
    ("actix_rt::time", "tokio::time"),
    ("actix_rt::spawn", "tokio::task::spawn_local"),
    (
        "actix_rt::task::spawn_blocking",
        "tokio::task::spawn_blocking",
    ),
    ("actix::clock", "tokio::time"),
    ("actix::spawn", "tokio::task::spawn_local"),
    ("actix::Arbiter", "actix_rt::Arbiter"),
    ("actix::ArbiterHandle", "actix_rt::ArbiterHandle"),
    ("actix::System", "actix_rt::System"),
    ("actix::prelude::Arbiter", "actix_rt::Arbiter"),
    ("actix::prelude::ArbiterHandle", "actix_rt::ArbiterHandle"),
    ("actix::prelude::System", "actix_rt::System"),
    // tokio_with_wasm is tokio's API for the browser; `alias` is its `tokio`.
    ("tokio_with_wasm::alias", "tokio"),
    ("tokio_with_wasm", "tokio"),
    ("tokio_with_wasm::spawn_local", "tokio::task::spawn_local"),
    (
        "tokio_with_wasm::spawn_blocking",
        "tokio::task::spawn_blocking",
    ),
    // ractor's runtime shims: tokio's spawns, sleep and unbounded channel by other names.
    ("ractor::concurrency::spawn", "tokio::task::spawn"),
    ("ractor::concurrency::spawn_named", "tokio::task::spawn"),
    (
        "ractor::concurrency::spawn_local",
        "tokio::task::spawn_local",
    ),
    ("ractor::concurrency::sleep", "tokio::time::sleep"),
    (
        "ractor::concurrency::mpsc_unbounded",
        "tokio::sync::mpsc::unbounded_channel",
    ),
    // async-std's and smol's channels are async-channel's.
    ("async_std::channel", "async_channel"),
    ("smol::channel", "async_channel"),
    ("async_std::task::spawn_local", "async_std::task::spawn"),
    ("async_std::task::spawn_blocking", "async_std::task::spawn"),
    ("async_global_executor::spawn", "smol::spawn"),
    // futures re-exports its sub-crates under modules of the same names.
    ("futures::channel", "futures::channel"),
    (
        "futures_util::future::block_on",
        "futures::executor::block_on",
    ),
    // Other unbounded channels with flume's shape.
    ("kanal::unbounded", "flume::unbounded"),
    ("kanal::unbounded_async", "flume::unbounded"),
    ("loole::unbounded", "flume::unbounded"),
];

/// Parses `a::b::c` into its segments; `None` when a segment is empty.
pub fn segments(path: &str) -> Option<Vec<String>> {
    let parts: Vec<String> = path
        .trim()
        .trim_start_matches("::")
        .split("::")
        .map(|part| part.trim().to_owned())
        .collect();
    parts
        .iter()
        .all(|part| !part.is_empty() && !part.contains(char::is_whitespace))
        .then_some(parts)
}

/// The table in use: the built-in entries, then the project's (which win).
#[derive(Debug, Clone)]
pub struct Reexports {
    entries: Vec<(Vec<String>, Vec<String>)>,
}

impl Default for Reexports {
    fn default() -> Self {
        Reexports {
            entries: WELL_KNOWN
                .iter()
                .filter_map(|(from, to)| Some((segments(from)?, segments(to)?)))
                .collect(),
        }
    }
}

impl Reexports {
    /// Adds `from = to` (a project's wrapper); later entries win over earlier ones.
    pub fn add(&mut self, from: &str, to: &str) -> Result<(), String> {
        match (segments(from), segments(to)) {
            (Some(from), Some(to)) => {
                self.entries.push((from, to));
                Ok(())
            }
            _ => Err(format!(
                "re-export `{from}` = `{to}` is not a pair of paths"
            )),
        }
    }

    /// Whether some entry ends in `name`: a call whose last segment is `name` is worth resolving.
    pub fn names(&self, name: &str) -> bool {
        self.entries
            .iter()
            .any(|(from, _)| from.last().is_some_and(|last| last == name))
    }

    /// `full` with the longest matching prefix replaced by what it re-exports
    /// (the latest entry among equally long ones), or `None` when no entry matches.
    pub fn apply(&self, full: &[String]) -> Option<Vec<String>> {
        let (from, to) = self
            .entries
            .iter()
            .rev()
            .filter(|(from, _)| full.starts_with(from))
            .max_by_key(|(from, _)| from.len())?;
        let mut mapped = to.clone();
        mapped.extend(full[from.len()..].iter().cloned());
        Some(mapped).filter(|mapped| mapped != full)
    }
}
