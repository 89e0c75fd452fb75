//! The paths, names and types the rules look for: spawns, spawners, queues, sleeps, leaks, interior mutability.

/// Functions that start a detached task or thread.
pub(super) const SPAWN_FNS: &[&[&str]] = &[
    &["tokio", "spawn"],
    &["tokio", "task", "spawn"],
    &["tokio", "task", "spawn_blocking"],
    &["tokio", "task", "spawn_local"],
    &["std", "thread", "spawn"],
    &["async_std", "task", "spawn"],
    &["smol", "spawn"],
];
/// Types whose `.spawn(..)` (or `spawn_local`, `spawn_blocking`, actix's
/// `spawn_fn`) starts a detached task or thread: a chain rooted in one of
/// their associated functions (`Handle::current()`, `Builder::new()`), or a
/// name bound to one or typed as one.
pub(super) const SPAWNER_TYPES: &[&[&str]] = &[
    &["std", "thread", "Builder"],
    &["tokio", "task", "Builder"],
    &["tokio", "runtime", "Handle"],
    &["tokio", "runtime", "Runtime"],
    &["tokio", "runtime", "Builder"],
    &["async_std", "task", "Builder"],
    &["actix_rt", "Arbiter"],
    &["actix_rt", "ArbiterHandle"],
    &["actix_rt", "System"],
    &["actix_rt", "Runtime"],
];
/// Methods of [`SPAWNER_TYPES`] that start a detached task or thread.
pub(super) const SPAWN_METHODS: &[&str] = &["spawn", "spawn_local", "spawn_blocking", "spawn_fn"];
/// `std::fs` builders: constructing one does no I/O, their `.open(..)` / `.create(..)` does.
pub(super) const FS_BUILDERS: &[&[&str]] = &[
    &["std", "fs", "OpenOptions", "new"],
    &["std", "fs", "DirBuilder", "new"],
];
/// The types of [`FS_BUILDERS`].
pub(super) const FS_BUILDER_TYPES: &[&[&str]] =
    &[&["std", "fs", "OpenOptions"], &["std", "fs", "DirBuilder"]];
/// Functions that take futures and drive them: a `.recv()` handed to them is not a blocking receive.
pub(super) const FUTURE_DRIVERS: &[&str] = &[
    "block_on",
    "timeout",
    "timeout_at",
    "select",
    "join",
    "try_join",
    "race",
    "spawn",
    "pin",
];
/// Constructors of unbounded queues.
pub(super) const UNBOUNDED_FNS: &[&[&str]] = &[
    &["tokio", "sync", "mpsc", "unbounded_channel"],
    &["crossbeam_channel", "unbounded"],
    &["std", "sync", "mpsc", "channel"],
    &["flume", "unbounded"],
    &["futures", "channel", "mpsc", "unbounded"],
    &["async_channel", "unbounded"],
];
/// Sleeps.
pub(super) const SLEEP_FNS: &[&[&str]] = &[
    &["std", "thread", "sleep"],
    &["tokio", "time", "sleep"],
    &["tokio", "time", "sleep_until"],
    &["async_std", "task", "sleep"],
];
/// Names that are a sleep whatever path they are called through.
pub(super) const SLEEP_NAMES: &[&str] = &["sleep", "sleep_until"];
/// Modules whose `unbounded()` is a queue's constructor even when no known
/// path explains the call (`mpsc::unbounded()` through a crate's re-export).
pub(super) const QUEUE_MODULES: &[&str] = &["mpsc", "channel", "mailbox", "queue"];
/// Leaks.
pub(super) const LEAK_FNS: &[&[&str]] = &[&["std", "mem", "forget"], &["Box", "leak"]];
/// Last path segments worth resolving; every other call is skipped cheaply.
pub(super) const INTERESTING: &[&str] = &[
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
pub(super) const INTERIOR_MUTABLE: &[&str] = &[
    "Mutex",
    "RwLock",
    "RefCell",
    "Cell",
    "UnsafeCell",
    "SyncUnsafeCell",
    "ReentrantMutex",
    // Concurrent maps: a static one is a process-wide mutable registry.
    "DashMap",
    "DashSet",
];
