//! [`Registry`]: processes by unique name, found without a message to anyone.
//!
//! A registry is a value the program creates and hands to whoever needs it
//! (as Elixir starts a `Registry` under a supervisor), not a global: two
//! subsystems, or two tests, each have their own. It is a sharded map from
//! key to process, so a lookup takes one short lock on one shard, and an
//! exit hook on each registered process removes its names when it exits.
//!
//! # When a name goes
//!
//! A name is removed by its process's exit hook, which runs before the
//! exit is published (before `wait_for_exit` returns, before a supervisor
//! or monitor hears of it). Earlier still, from the moment the process's
//! mailbox closes (the first instant anyone could see it gone: a send
//! failing with "no process"), lookups skip it and the name is free to be
//! registered again. A lookup never returns a process that has exited.
//!
//! # Racing an exit
//!
//! `register` inserts the name (under the shard lock, only if the process
//! is still open) and adds the exit hook second. If the process's exit is
//! published before the hook is added, adding it fails and `register`
//! removes the name itself and fails with [`RegisterError::NoProcess`];
//! otherwise the hook runs and removes it. Either way no name outlives its
//! process. `names/loom_models.rs` checks every interleaving, and fails
//! with either half taken out (the removal on failure; the open check
//! together with the insert-before-hook order).

use std::{fmt, hash::Hash, sync::Arc, time::Duration};

use crate::{Actor, ActorRef, ExitHookId, Pid, ProcessRef, Reply};

mod error;
mod shards;

#[cfg(all(test, foundation_loom))]
mod loom_models;

pub(crate) use self::shards::Shards;
pub use self::{
    error::{JoinError, LookupError, NamedCallError, NamedSendError, RegisterError},
    shards::KeyRef,
};

/// A registered name: who holds it, and the exit hook that will remove it.
struct Entry {
    process: ProcessRef,
    hook: Option<ExitHookId>,
}

type Table<K> = Shards<K, Entry>;

/// Processes by unique name: Elixir's `Registry` with unique keys, or
/// OTP's registered names, held as a value.
///
/// Cloning a registry gives another handle on the same names. A registered
/// process is reachable by name, so the registry keeps its cell alive
/// until it exits or is unregistered.
///
/// ```
/// use std::time::Duration;
/// use foundation::mailbox::{Actor, Context, LookupError, Registry, Reply, start};
///
/// #[derive(Debug)]
/// struct Counter(u64);
///
/// #[derive(Debug)]
/// enum Msg {
///     Add(u64),
///     Get(Reply<u64>),
/// }
///
/// impl Actor for Counter {
///     type Args = ();
///     type Msg = Msg;
///     type Error = std::convert::Infallible;
///
///     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
///         Ok(Counter(0))
///     }
///     async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
///         match msg {
///             Msg::Add(n) => self.0 += n,
///             Msg::Get(reply) => reply.send(self.0).unwrap_or_default(),
///         }
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let names: Registry<&'static str> = Registry::new();
/// let (counter, _handle) = start::<Counter>(()).await.unwrap();
/// names.register("counter", &counter).unwrap();
///
/// // Cast and call by name, typed, with no round trip to find it.
/// names.cast::<Counter>("counter", Msg::Add(2)).await.unwrap();
/// let total = names.call::<Counter, _>("counter", Msg::Get, Duration::from_secs(1)).await.unwrap();
/// assert_eq!(total, 2);
///
/// // The name goes with the process.
/// counter.stop(foundation::mailbox::ExitReason::Normal, Duration::from_secs(1)).await.unwrap();
/// assert_eq!(names.lookup::<Counter>("counter"), Err(LookupError::NotRegistered));
/// assert!(names.is_empty());
/// # }
/// ```
pub struct Registry<K> {
    table: Arc<Table<K>>,
}

impl<K> Clone for Registry<K> {
    fn clone(&self) -> Self {
        Self {
            table: Arc::clone(&self.table),
        }
    }
}

impl<K> fmt::Debug for Registry<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry").finish_non_exhaustive()
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> Default for Registry<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Hash + Eq + Clone + Send + Sync + 'static> Registry<K> {
    /// An empty registry.
    pub fn new() -> Self {
        Self {
            table: Arc::new(Shards::new()),
        }
    }

    /// Registers `process` under `key`, until it exits or the name is
    /// unregistered.
    ///
    /// Fails with [`RegisterError::Taken`], naming the holder, if a live
    /// process holds the name (the same process included), and with
    /// [`RegisterError::NoProcess`] if `process` has exited or is exiting.
    /// A name whose holder is exiting counts as free.
    pub fn register(&self, key: K, process: impl Into<ProcessRef>) -> Result<(), RegisterError<K>> {
        let process = process.into();
        let pid = process.pid();
        let replaced = {
            let mut shard = self.table.lock(&key);
            if let Some(entry) = shard.get(&key)
                && entry.process.is_alive()
            {
                return Err(RegisterError::Taken {
                    key,
                    holder: entry.process.pid(),
                });
            }
            // Checked under the shard lock: a process seen alive here has
            // not closed, so its exit hooks, which take this lock, run
            // after the name is in.
            if !process.is_alive() {
                return Err(RegisterError::NoProcess(key));
            }
            shard.insert(
                key.clone(),
                Entry {
                    process: process.clone(),
                    hook: None,
                },
            )
        };
        // A replaced holder is exiting: its own hook finds the name taken
        // by someone else and leaves it. Dropped outside the shard lock,
        // since dropping the last reference to a process can run its exit
        // hooks, and those lock shards.
        drop(replaced);
        // The name is in before the hook: a hook added first could run
        // (the process exiting) before the name went in, and leave it
        // behind forever.
        let table = Arc::downgrade(&self.table);
        let name = key.clone();
        let hook = process.on_exit(move |_| {
            if let Some(table) = table.upgrade() {
                remove_held(&table, &name, pid);
            }
        });
        match hook {
            Ok(hook) => {
                let mut shard = self.table.lock(&key);
                // Gone already if the hook ran meanwhile: nothing to record.
                if let Some(entry) = shard.get_mut(&key)
                    && entry.process.pid() == pid
                {
                    entry.hook = Some(hook);
                }
                Ok(())
            }
            Err(_exited) => {
                remove_held(&self.table, &key, pid);
                Err(RegisterError::NoProcess(key))
            }
        }
    }

    /// Removes the name, whoever holds it, and returns its holder.
    pub fn unregister(&self, key: &(impl KeyRef<K> + ?Sized)) -> Option<ProcessRef> {
        let entry = key.remove_from(&mut self.table.lock(key))?;
        if let Some(hook) = entry.hook {
            // `false` if the hook is running: the process is exiting, and
            // the hook will find the name gone.
            entry.process.cancel_exit_hook(hook);
        }
        Some(entry.process)
    }

    /// The live process holding the name, of any actor type.
    pub fn whereis(&self, key: &(impl KeyRef<K> + ?Sized)) -> Option<ProcessRef> {
        let process = key
            .get_in(&self.table.lock(key))
            .map(|entry| entry.process.clone())?;
        process.is_alive().then_some(process)
    }

    /// The live actor holding the name, as a typed reference: what casts
    /// and calls by name go through.
    pub fn lookup<A: Actor>(
        &self,
        key: &(impl KeyRef<K> + ?Sized),
    ) -> Result<ActorRef<A>, LookupError> {
        let process = self.whereis(key).ok_or(LookupError::NotRegistered)?;
        process.downcast::<A>().ok_or(LookupError::WrongType {
            pid: process.pid(),
            expected: std::any::type_name::<A>(),
        })
    }

    /// Casts to the actor holding the name, waiting for room in its
    /// mailbox as [`ActorRef::cast`] does.
    pub async fn cast<A: Actor>(
        &self,
        key: &(impl KeyRef<K> + ?Sized),
        message: A::Msg,
    ) -> Result<(), NamedSendError<A::Msg>> {
        match self.lookup::<A>(key) {
            Ok(actor) => actor.cast(message).await.map_err(NamedSendError::Send),
            Err(error) => Err(NamedSendError::Lookup(error, message)),
        }
    }

    /// Casts to the actor holding the name without waiting, as
    /// [`ActorRef::try_cast`] does.
    pub fn try_cast<A: Actor>(
        &self,
        key: &(impl KeyRef<K> + ?Sized),
        message: A::Msg,
    ) -> Result<(), NamedSendError<A::Msg>> {
        match self.lookup::<A>(key) {
            Ok(actor) => actor.try_cast(message).map_err(NamedSendError::Send),
            Err(error) => Err(NamedSendError::Lookup(error, message)),
        }
    }

    /// Calls the actor holding the name, with a timeout, as
    /// [`ActorRef::call`] does. When the name does not resolve, the request
    /// is built anyway and given back, so nothing in it is lost.
    pub async fn call<A: Actor, R: Send + 'static>(
        &self,
        key: &(impl KeyRef<K> + ?Sized),
        request: impl FnOnce(Reply<R>) -> A::Msg,
        timeout: Duration,
    ) -> Result<R, NamedCallError<A::Msg>> {
        match self.lookup::<A>(key) {
            Ok(actor) => actor
                .call(request, timeout)
                .await
                .map_err(NamedCallError::Call),
            Err(error) => Err(NamedCallError::Lookup(error, request(Reply::pair().0))),
        }
    }

    /// How many names are registered, counting those of a process that is
    /// exiting right now and whose exit hook has not yet removed them.
    pub fn len(&self) -> usize {
        let mut count = 0;
        self.table.for_each_shard(|shard| count += shard.len());
        count
    }

    /// Whether no name is registered (see [`len`](Self::len)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Removes `key` if `pid` still holds it: what a process's exit hook does.
/// A name another process took meanwhile (registered while this one was
/// exiting) stays.
fn remove_held<K: Hash + Eq>(table: &Table<K>, key: &K, pid: Pid) {
    let removed = {
        let mut shard = table.lock(key);
        match shard.get(key) {
            Some(entry) if entry.process.pid() == pid => shard.remove(key),
            _ => None,
        }
    };
    // Outside the shard lock, as in `register`.
    drop(removed);
}

impl<A: Actor> From<&ActorRef<A>> for ProcessRef {
    fn from(actor: &ActorRef<A>) -> Self {
        actor.process_ref()
    }
}

impl<A: Actor> From<ActorRef<A>> for ProcessRef {
    /// The same process, type-erased: the reference is moved, not counted
    /// up and down again.
    fn from(actor: ActorRef<A>) -> Self {
        ProcessRef(actor.process)
    }
}

impl From<&ProcessRef> for ProcessRef {
    fn from(process: &ProcessRef) -> Self {
        process.clone()
    }
}
