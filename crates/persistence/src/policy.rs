//! [`Persistence`]: where an actor's state is saved, under which key, and when ([`SavePolicy`]).

use std::{sync::Arc, time::Duration};

use foundation_mailbox::ActorOptions;

use crate::{MemoryStore, RedbStore, Store, saver::SaveGate};

/// When a persistent actor saves its state, and so what a crash can lose.
///
/// "Crash" here means anything that ends the actor without a normal stop
/// (a panic, a kill, an untrapped exit signal) or ends the whole program
/// (SIGKILL, power loss). A normal stop (`stop`, a supervisor's shutdown)
/// always saves, under every policy.
///
/// ```
/// use std::time::Duration;
/// use foundation_persistence::SavePolicy;
///
/// let policy = SavePolicy::Batched { every: 100, within: Duration::from_millis(50) };
/// assert!(policy.check().is_ok());
/// assert!(SavePolicy::Batched { every: 0, within: Duration::ZERO }.check().is_err());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SavePolicy {
    /// After every message that changed the state, the new state is
    /// durable (committed, fsynced) before the reply to the call that
    /// changed it is sent, and before the next message is handled.
    /// Loses nothing a caller was told about; costs one durable write per
    /// changing message (a message that leaves the encoded state as it was
    /// writes nothing).
    #[default]
    WriteThrough,
    /// Saves after `every` messages, or at most `within` after the first
    /// unsaved one (plus the time to handle what is queued ahead of the
    /// timer), and at a normal stop. The write runs in the background while
    /// the actor goes on. A crash loses the changes since the last
    /// completed write: up to `every` messages or `within` of them, plus
    /// those handled while a write is in flight.
    Batched {
        /// Messages between saves; at least 1.
        every: u32,
        /// The longest a change waits to be saved.
        within: Duration,
    },
    /// Saves only at a normal stop. A crash loses every change since the
    /// actor started (or since the last explicit
    /// [`save`](crate::PersistentRef::save)).
    OnTerminate,
}

impl SavePolicy {
    /// Checks the policy's numbers; `start` refuses a policy that fails.
    pub fn check(&self) -> Result<(), &'static str> {
        match self {
            Self::Batched { every: 0, .. } => {
                Err("a batched save policy needs `every` of at least 1")
            }
            _ => Ok(()),
        }
    }
}

/// What a failed write-through save does to the call that caused it.
///
/// Failed saves outside a call (after a cast, a batched or explicit save
/// in the background) crash the actor under both settings: there is no
/// caller to tell, and carrying on would hide the failure.
///
/// A version conflict is neither: it means another incarnation (a second
/// node, a forgotten process) wrote the key and owns the state now. Under
/// both settings the actor is *fenced off*: the call that hit it fails
/// with the conflict, and the actor stops with
/// `ExitReason::Shutdown("fenced: ..")`, writing nothing more, so a
/// transient child under a supervisor stays down instead of fighting the
/// owner.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum OnSaveFailure {
    /// The actor exits with the [`SaveError`](crate::SaveError) as its
    /// reason; the caller gets that reason; its supervisor restarts it from
    /// the last durable state (OTP's "let it crash"). The unsaved change is
    /// gone with the old incarnation.
    #[default]
    Crash,
    /// The call fails with [`PersistentCallError::Save`](crate::PersistentCallError::Save)
    /// and the actor goes on. The change stays in memory, unsaved: the
    /// next save retries it, and a crash before then loses it.
    FailCall,
}

/// Where and how an actor's state is persisted: the store, the key its
/// entry lives under, the [`SavePolicy`] and the [`OnSaveFailure`] setting,
/// and the actor's own [`ActorOptions`].
///
/// ```
/// use std::time::Duration;
/// use foundation_persistence::{MemoryStore, Persistence, SavePolicy};
///
/// let persistence = Persistence::new(MemoryStore::new(), "counters/visits")
///     .policy(SavePolicy::Batched { every: 100, within: Duration::from_millis(20) });
/// assert_eq!(persistence.key(), "counters/visits");
/// ```
#[derive(Clone, Debug)]
pub struct Persistence {
    pub(crate) store: Store,
    pub(crate) key: Arc<str>,
    pub(crate) policy: SavePolicy,
    pub(crate) on_failure: OnSaveFailure,
    pub(crate) options: ActorOptions,
    /// Shared by the clones a supervisor restarts the actor with, so each
    /// incarnation loads only after the previous one's last save landed.
    pub(crate) saves: SaveGate,
}

impl Persistence {
    /// State under `key` in `store`, written through (the default policy).
    pub fn new(store: impl Into<Store>, key: impl Into<Arc<str>>) -> Self {
        Self {
            store: store.into(),
            key: key.into(),
            policy: SavePolicy::default(),
            on_failure: OnSaveFailure::default(),
            options: ActorOptions::new(),
            saves: SaveGate::default(),
        }
    }

    /// When to save.
    pub fn policy(mut self, policy: SavePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// What a failed write-through save does to its call.
    pub fn on_save_failure(mut self, on_failure: OnSaveFailure) -> Self {
        self.on_failure = on_failure;
        self
    }

    /// The actor's mailbox and start options.
    pub fn actor_options(mut self, options: ActorOptions) -> Self {
        self.options = options;
        self
    }

    /// The key the state is saved under.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The save policy.
    pub fn save_policy(&self) -> SavePolicy {
        self.policy
    }
}

impl From<MemoryStore> for Store {
    fn from(store: MemoryStore) -> Self {
        Store::new(store)
    }
}

impl From<RedbStore> for Store {
    fn from(store: RedbStore) -> Self {
        Store::new(store)
    }
}

#[cfg(feature = "postgres")]
impl From<crate::PostgresStore> for Store {
    fn from(store: crate::PostgresStore) -> Self {
        Store::new(store)
    }
}
