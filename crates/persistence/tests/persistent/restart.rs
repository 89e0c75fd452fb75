//! A restart after a crash waits for the crashed incarnation's save still in flight, so it never loads an older version.

use std::sync::Arc;

use foundation_persistence::{
    Entry, Listed, MemoryStore, Persistence, SavePolicy, StateStore, Store, StoreError, Version,
    start,
};
use tokio::sync::{Semaphore, mpsc};

use super::support::{Call, Cast, Counter, CounterArgs, Msg, PATIENCE, ask, saved};

/// A memory store whose writes say when they begin and then wait for the
/// test to open the gate: a slow disk the test controls.
#[derive(Debug, Clone)]
struct SlowStore {
    inner: MemoryStore,
    began: mpsc::Sender<()>,
    gate: Arc<Semaphore>,
}

impl SlowStore {
    fn new() -> (Self, mpsc::Receiver<()>) {
        let (began, writes) = mpsc::channel(16);
        let store = Self {
            inner: MemoryStore::new(),
            began,
            gate: Arc::new(Semaphore::new(0)),
        };
        (store, writes)
    }

    async fn slowly(&self) {
        // A test that stopped listening has finished.
        let _unheard = self.began.try_send(());
        // The gate is never closed: acquiring fails only if it were.
        if let Ok(permit) = self.gate.acquire().await {
            permit.forget();
        }
    }
}

impl StateStore for SlowStore {
    async fn get(&self, key: &str) -> Result<Option<Entry>, StoreError> {
        self.inner.get(key).await
    }

    async fn put(&self, key: &str, value: Vec<u8>) -> Result<Version, StoreError> {
        self.slowly().await;
        self.inner.put(key, value).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        expected: Option<Version>,
        value: Vec<u8>,
    ) -> Result<Version, StoreError> {
        self.slowly().await;
        self.inner.compare_and_set(key, expected, value).await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.slowly().await;
        self.inner.delete(key).await
    }

    async fn list(&self, prefix: &str) -> Result<Vec<Listed>, StoreError> {
        self.inner.list(prefix).await
    }
}

#[derive(Debug, Clone, Copy)]
enum Crash {
    Kill,
    Panic,
}

#[tokio::test(start_paused = true)]
async fn a_restart_waits_for_the_crashed_incarnations_save_in_flight_before_it_loads() {
    for crash in [Crash::Kill, Crash::Panic] {
        let (store, mut began) = SlowStore::new();
        // One `Persistence`, cloned for each start, as a supervisor's child
        // spec does.
        let persistence = Persistence::new(Store::new(store.clone()), Arc::<str>::from("counter"))
            .policy(SavePolicy::Batched {
                every: 1,
                within: PATIENCE,
            });
        let (args, _probe) = CounterArgs::new(0, "slow");
        let (counter, _handle) = start::<Counter>(args.clone(), persistence.clone())
            .await
            .unwrap();
        // A batch of one: the change is saved in the background.
        assert_eq!(
            counter.call(ask(Call::Add(1)), PATIENCE).await.unwrap().0,
            1
        );
        tokio::time::timeout(PATIENCE, began.recv())
            .await
            .expect("the background save began")
            .unwrap();
        match crash {
            Crash::Kill => assert!(counter.kill()),
            Crash::Panic => counter.cast(Msg::from(Cast::Panic)).await.unwrap(),
        }
        counter.wait_for_exit(PATIENCE).await.unwrap();
        assert_eq!(
            saved(&store.inner, "counter").await,
            None,
            "{crash:?}: the save is still in flight when the restart begins"
        );

        // The disk gets going again while the restart starts: a restart
        // that does not wait for the save in flight loads before it lands.
        store.gate.add_permits(Semaphore::MAX_PERMITS / 2);
        let (restarted, _handle) = start::<Counter>(args, persistence.clone()).await.unwrap();
        assert_eq!(
            restarted.call(ask(Call::Get), PATIENCE).await.unwrap().0,
            1,
            "{crash:?}: the restart loaded the state the crashed incarnation was saving"
        );
        // And its own first save is not a version conflict.
        assert_eq!(
            restarted.call(ask(Call::Add(1)), PATIENCE).await.unwrap().0,
            2
        );
        restarted.save(PATIENCE).await.unwrap();
        assert_eq!(
            saved(&store.inner, "counter").await,
            Some((2, "slow".to_owned()))
        );
    }
}
