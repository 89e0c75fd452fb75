//! A restart after a crash waits for the crashed incarnation's save still in flight, so it never loads an older version.

use std::{sync::Arc, time::Duration};

use foundation_persistence::{
    Entry, Listed, MemoryStore, Persistence, SavePolicy, StateStore, Store, StoreError, Version,
    start,
};
use tokio::sync::mpsc;

use super::support::{Call, Cast, Counter, CounterArgs, PATIENCE, saved};

/// How long a slow write takes, in paused time.
const SLOW_WRITE: Duration = Duration::from_secs(1);

/// A memory store whose writes take [`SLOW_WRITE`] and say when they begin.
#[derive(Debug, Clone)]
struct SlowStore {
    inner: MemoryStore,
    began: mpsc::Sender<()>,
}

impl SlowStore {
    fn new() -> (Self, mpsc::Receiver<()>) {
        let (began, writes) = mpsc::channel(16);
        let store = Self {
            inner: MemoryStore::new(),
            began,
        };
        (store, writes)
    }

    async fn slowly(&self) {
        // A test that stopped listening has finished.
        let _unheard = self.began.try_send(());
        // audit:allow(FND006) a slow disk, in paused time: the write ends only once every other task is idle, so nothing waits on it by accident
        tokio::time::sleep(SLOW_WRITE).await;
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
        assert_eq!(counter.call(Call::Add(1), PATIENCE).await.unwrap().0, 1);
        tokio::time::timeout(PATIENCE, began.recv())
            .await
            .expect("the background save began")
            .unwrap();
        match crash {
            Crash::Kill => assert!(counter.kill()),
            Crash::Panic => counter.cast(Cast::Panic).await.unwrap(),
        }
        counter.wait_for_exit(PATIENCE).await.unwrap();
        assert_eq!(
            saved(&store.inner, "counter").await,
            None,
            "{crash:?}: the save is still in flight when the restart begins"
        );

        let (restarted, _handle) = start::<Counter>(args, persistence.clone()).await.unwrap();
        assert_eq!(
            restarted.call(Call::Get, PATIENCE).await.unwrap().0,
            1,
            "{crash:?}: the restart loaded the state the crashed incarnation was saving"
        );
        // And its own first save is not a version conflict.
        assert_eq!(restarted.call(Call::Add(1), PATIENCE).await.unwrap().0, 2);
        restarted.save(PATIENCE).await.unwrap();
        assert_eq!(
            saved(&store.inner, "counter").await,
            Some((2, "slow".to_owned()))
        );
    }
}
