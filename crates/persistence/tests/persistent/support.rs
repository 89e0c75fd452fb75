//! A persistent test counter, and a store that can be told to fail and reports its writes.

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicUsize, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::{Context, Reply};
use foundation_persistence::{
    Entry, Listed, MemoryStore, Persistent, PersistentActor, StateStore, StoreError, Tracked,
    Version,
};
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;

/// Long enough never to fire in a passing test.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
#[error("counter failed on purpose")]
pub(crate) struct CounterFailed;

/// What the counter's hooks report, shared with the test.
#[derive(Debug, Clone, Default)]
pub(crate) struct Probe {
    pub(crate) inits: Arc<AtomicUsize>,
    pub(crate) loads: Arc<AtomicUsize>,
    pub(crate) before_saves: Arc<AtomicUsize>,
}

impl Probe {
    pub(crate) fn inits(&self) -> usize {
        self.inits.load(Ordering::SeqCst)
    }
    pub(crate) fn loads(&self) -> usize {
        self.loads.load(Ordering::SeqCst)
    }
    pub(crate) fn before_saves(&self) -> usize {
        self.before_saves.load(Ordering::SeqCst)
    }
}

#[derive(Debug, Clone)]
pub(crate) struct CounterArgs {
    pub(crate) start: u64,
    pub(crate) label: &'static str,
    pub(crate) probe: Probe,
}

impl CounterArgs {
    pub(crate) fn new(start: u64, label: &'static str) -> (Self, Probe) {
        let probe = Probe::default();
        (
            Self {
                start,
                label,
                probe: probe.clone(),
            },
            probe,
        )
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Counter {
    pub(crate) count: u64,
    pub(crate) label: String,
    /// Not saved: rebuilt from the arguments after a load.
    #[serde(skip)]
    pub(crate) probe: Probe,
}

#[derive(Debug)]
pub(crate) enum Cast {
    Add(u64),
    Panic,
    /// Changes the state, then panics before any save can run.
    AddThenPanic(u64),
}

#[derive(Debug)]
pub(crate) enum Call {
    Get,
    Add(u64),
    Label(&'static str),
    Fail,
}

/// The counter's one message type: a cast, or a call and its reply port.
#[derive(Debug)]
pub(crate) enum Msg {
    Cast(Cast),
    Call(Call, Reply<(u64, String)>),
}

impl From<Cast> for Msg {
    fn from(cast: Cast) -> Self {
        Msg::Cast(cast)
    }
}

/// The request for `call`: `counter.call(ask(Call::Get), timeout)`.
pub(crate) fn ask(request: Call) -> impl FnOnce(Reply<(u64, String)>) -> Msg {
    move |reply| Msg::Call(request, reply)
}

impl PersistentActor for Counter {
    type Args = CounterArgs;
    type Msg = Msg;
    type Error = CounterFailed;

    async fn init(
        args: CounterArgs,
        _: &mut Context<Persistent<Self>>,
    ) -> Result<Self, CounterFailed> {
        args.probe.inits.fetch_add(1, Ordering::SeqCst);
        Ok(Counter {
            count: args.start,
            label: args.label.to_owned(),
            probe: args.probe,
        })
    }

    async fn after_load(
        &mut self,
        args: CounterArgs,
        _: &mut Context<Persistent<Self>>,
    ) -> Result<(), CounterFailed> {
        args.probe.loads.fetch_add(1, Ordering::SeqCst);
        self.probe = args.probe;
        Ok(())
    }

    fn before_save(&mut self) {
        self.probe.before_saves.fetch_add(1, Ordering::SeqCst);
    }

    async fn handle(
        state: &mut Tracked<'_, Self>,
        message: Msg,
        _: &mut Context<Persistent<Self>>,
    ) -> Result<(), CounterFailed> {
        let (request, reply) = match message {
            Msg::Cast(Cast::Add(add)) => {
                state.count += add;
                return Ok(());
            }
            Msg::Cast(Cast::Panic) => panic!("counter panicked on purpose"),
            Msg::Cast(Cast::AddThenPanic(add)) => {
                state.count += add;
                panic!("counter panicked on purpose after a change")
            }
            Msg::Call(request, reply) => (request, reply),
        };
        match request {
            Call::Get => {}
            Call::Add(add) => state.count += add,
            Call::Label(label) => state.label = label.to_owned(),
            Call::Fail => return Err(CounterFailed),
        }
        reply
            .send((state.count, state.label.clone()))
            .unwrap_or_default();
        Ok(())
    }
}

/// A memory store that fails writes on demand and reports each completed write.
#[derive(Debug, Clone)]
pub(crate) struct ObservedStore {
    pub(crate) inner: MemoryStore,
    pub(crate) fail_writes: Arc<AtomicBool>,
    /// Every write asked of the store, failed ones included.
    attempts: Arc<AtomicUsize>,
    writes: mpsc::Sender<(String, Version)>,
}

impl ObservedStore {
    pub(crate) fn new() -> (Self, mpsc::Receiver<(String, Version)>) {
        let (writes, observed) = mpsc::channel(1024);
        (
            Self {
                inner: MemoryStore::new(),
                fail_writes: Arc::new(AtomicBool::new(false)),
                attempts: Arc::new(AtomicUsize::new(0)),
                writes,
            },
            observed,
        )
    }

    pub(crate) fn fail_writes(&self, fail: bool) {
        self.fail_writes.store(fail, Ordering::SeqCst);
    }

    async fn written(
        &self,
        key: &str,
        outcome: Result<Version, StoreError>,
    ) -> Result<Version, StoreError> {
        if let Ok(version) = &outcome {
            // A test that stopped listening has finished.
            let _unheard = self.writes.send((key.to_owned(), *version)).await;
        }
        outcome
    }

    /// How many writes were asked of the store so far, failed ones included.
    pub(crate) fn attempts(&self) -> usize {
        self.attempts.load(Ordering::SeqCst)
    }

    fn refuse(&self, key: &str) -> Result<(), StoreError> {
        self.attempts.fetch_add(1, Ordering::SeqCst);
        if self.fail_writes.load(Ordering::SeqCst) {
            return Err(StoreError::backend(key, "disk full (simulated)"));
        }
        Ok(())
    }
}

impl StateStore for ObservedStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        self.inner.get(key).await
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<Version, StoreError> {
        self.refuse(key)?;
        let outcome = self.inner.put(key, value).await;
        self.written(key, outcome).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<Version>,
        value: Vec<u8>,
    ) -> Result<Version, StoreError> {
        self.refuse(key)?;
        let outcome = self.inner.compare_and_set(key, expected, value).await;
        self.written(key, outcome).await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.refuse(key)?;
        self.inner.delete(key).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        self.inner.list(prefix).await
    }
}

/// The next completed write, failing the test rather than hanging.
pub(crate) async fn next_write(
    writes: &mut mpsc::Receiver<(String, Version)>,
) -> (String, Version) {
    match tokio::time::timeout(PATIENCE, writes.recv()).await {
        Ok(Some(write)) => write,
        Ok(None) => panic!("the store's write channel closed"),
        Err(_) => panic!("no write within {PATIENCE:?}"),
    }
}

/// The saved counter under `key`, decoded.
pub(crate) async fn saved(store: &MemoryStore, key: &str) -> Option<(u64, String)> {
    let entry = store.get(key).await.unwrap()?;
    let counter: Counter = foundation_persistence::codec::decode(key, &entry.value, 1).unwrap();
    Some((counter.count, counter.label))
}
