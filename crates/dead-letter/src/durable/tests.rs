//! Unit tests of durability: entries survive closing and reopening a redb file and an abort of the process; messages without a codec stay in memory.

use std::{process::Command, time::Duration};

use foundation_mailbox::Pid;
use foundation_persistence::{MemoryStore, RedbStore, StateStore, StoreError, Version};
use serde::{Deserialize, Serialize};

use crate::{
    AppendError, Config, DeadLetterQueue, Entry, Filter, FlushError, Letter, Message, Reason,
    ReasonClass, RedriveOptions, Status, Storage, Undelivered, typed,
};

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Order {
    number: u32,
    item: String,
}

fn order(number: u32) -> Letter {
    let order = Order {
        number,
        item: format!("item {number}"),
    };
    Letter::new(Pid::new(), order, Reason::Undeliverable("timed out".into()))
        .metadata("tag", "orders")
        .attempts(2)
}

fn config() -> Config {
    Config::default().codec::<Order>().max_attempts(10)
}

#[tokio::test]
async fn entries_with_a_codec_survive_closing_and_reopening_a_redb_store() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dead-letters.redb");

    let queue = DeadLetterQueue::open(config(), RedbStore::open(&path).unwrap())
        .await
        .unwrap();
    let kept = queue.append(order(1)).await.unwrap();
    // No codec for text: kept in memory only, and counted so.
    queue
        .append(Letter::new(Pid::new(), "text", Reason::Overflow))
        .await
        .unwrap();
    let stats = queue.stats();
    assert_eq!((stats.durable, stats.in_memory), (1, 1));
    // A failed redrive is part of the entry's stored history.
    let failing = |_: &Entry, message: Message| Err(Undelivered::new(message, "still down"));
    assert_eq!(
        queue.redrive(&failing, &RedriveOptions::default()).failed,
        2
    );
    let before = queue.get(kept).unwrap();
    queue.close().await.unwrap();
    drop(queue);

    let queue = DeadLetterQueue::open(config(), RedbStore::open(&path).unwrap())
        .await
        .unwrap();
    let listed = queue.list(&Filter::all(), 10);
    assert_eq!(listed, std::slice::from_ref(&before));
    assert_eq!(listed[0].storage, Storage::Durable);
    assert_eq!(listed[0].attempts, 3);
    assert_eq!(listed[0].history.len(), 2);
    let stats = queue.stats();
    assert_eq!((stats.durable, stats.in_memory), (1, 0));

    // Redriven after the restart: decoded from the store, delivered, deleted.
    let resolver = typed(|_: &Entry, order: Order| {
        assert_eq!(order.item, "item 1");
        Ok(())
    });
    assert_eq!(
        queue
            .redrive(&resolver, &RedriveOptions::default())
            .delivered,
        1
    );
    // A new entry never takes an id the store has used.
    assert!(queue.append(order(2)).await.unwrap() > kept);
    queue.purge(&Filter::all());
    queue.close().await.unwrap();
    drop(queue);

    let store = RedbStore::open(&path).unwrap();
    assert!(store.list("dead-letter/").await.unwrap().is_empty());
}

#[tokio::test]
async fn open_redb_opens_its_own_file_and_refuses_one_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("own.redb");
    let queue = DeadLetterQueue::open_redb(config(), &path).await.unwrap();
    queue.append(order(1)).await.unwrap();
    let error = DeadLetterQueue::open_redb(config(), &path)
        .await
        .unwrap_err();
    assert!(matches!(error, crate::OpenError::File(_)), "{error}");
    queue.close().await.unwrap();
    let queue = DeadLetterQueue::open_redb(config(), &path).await.unwrap();
    assert_eq!(queue.stats().durable, 1);
}

#[tokio::test]
async fn a_damaged_record_is_skipped_and_counted() {
    let store = MemoryStore::new();
    store
        .put(
            "dead-letter/default/00000000000000000007",
            b"not a record".to_vec(),
        )
        .await
        .unwrap();
    let queue = DeadLetterQueue::open(config(), store).await.unwrap();
    assert!(queue.is_empty());
    assert_eq!(queue.stats().corrupt, 1);
}

#[tokio::test]
async fn queues_with_other_names_share_a_store_apart() {
    let store = MemoryStore::new();
    let orders = DeadLetterQueue::open(config().name("orders"), store.clone())
        .await
        .unwrap();
    orders.append(order(1)).await.unwrap();
    let other = DeadLetterQueue::open(config().name("other"), store.clone())
        .await
        .unwrap();
    assert!(other.is_empty());
    let again = DeadLetterQueue::open(config().name("orders"), store)
        .await
        .unwrap();
    assert_eq!(
        again.list(&Filter::all().status(Status::Pending), 10).len(),
        1
    );
}

/// Set in the child process of the abort test: the path of its store.
const ABORT_CHILD: &str = "FOUNDATION_DEAD_LETTER_ABORT_CHILD";

#[tokio::test]
async fn appended_entries_survive_an_abort_of_the_process() {
    if let Some(path) = std::env::var_os(ABORT_CHILD) {
        // The child: append, then die without unwinding, flushing or closing.
        let queue = DeadLetterQueue::open(config(), RedbStore::open(&path).unwrap())
            .await
            .unwrap();
        for number in 1..=3 {
            queue.append(order(number)).await.unwrap();
        }
        std::process::abort();
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dead-letters.redb");
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "durable::tests::appended_entries_survive_an_abort_of_the_process",
            "--test-threads=1",
            "--nocapture",
        ])
        .env(ABORT_CHILD, &path)
        .status()
        .unwrap();
    assert!(!status.success(), "the child must die by abort: {status}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(6), "SIGABRT");
    }

    let queue = DeadLetterQueue::open(config(), RedbStore::open(&path).unwrap())
        .await
        .unwrap();
    let numbers: Vec<u32> = {
        let mut numbers = Vec::new();
        while let Some(entry) = queue.list(&Filter::all(), 1).pop() {
            let (entry, message) = queue.take(entry.id).unwrap();
            assert_eq!(entry.metadata["tag"], "orders");
            numbers.push(message.downcast::<Order>().unwrap().number);
        }
        numbers
    };
    assert_eq!(numbers, [1, 2, 3]);
}

/// A store whose writes fail, or never finish.
#[derive(Clone, Debug)]
struct BrokenStore {
    hang: bool,
}

impl BrokenStore {
    async fn fail<T>(&self, key: &str) -> Result<T, StoreError> {
        if self.hang {
            std::future::pending::<()>().await;
        }
        Err(StoreError::backend(key, "disk full"))
    }
}

impl StateStore for BrokenStore {
    async fn get(&self, _: &str) -> Result<Option<foundation_persistence::Entry>, StoreError> {
        Ok(None)
    }

    async fn put(&self, key: &str, _: Vec<u8>) -> Result<Version, StoreError> {
        self.fail(key).await
    }

    async fn compare_and_set(
        &self,
        key: &str,
        _: Option<Version>,
        _: Vec<u8>,
    ) -> Result<Version, StoreError> {
        self.fail(key).await
    }

    async fn delete(&self, key: &str) -> Result<bool, StoreError> {
        self.fail(key).await
    }

    async fn list(&self, _: &str) -> Result<Vec<foundation_persistence::Listed>, StoreError> {
        Ok(Vec::new())
    }
}

#[tokio::test]
async fn a_failed_store_write_keeps_the_entry_in_memory_and_says_so() {
    let queue = DeadLetterQueue::open(config(), BrokenStore { hang: false })
        .await
        .unwrap();
    let error = queue.append(order(1)).await.unwrap_err();
    let AppendError::NotDurable { id, .. } = error else {
        panic!("expected NotDurable, got {error:?}");
    };
    let entry = queue.get(id).unwrap();
    assert_eq!(entry.storage, Storage::Memory);
    let stats = queue.stats();
    assert_eq!(
        (stats.store_errors, stats.in_memory, stats.durable),
        (1, 1, 0)
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_store_fails_the_append_after_the_timeout_and_refuses_writes_beyond_the_bound() {
    let config = config()
        .store_timeout(Duration::from_secs(2))
        .write_queue(1);
    let queue = DeadLetterQueue::open(config, BrokenStore { hang: true })
        .await
        .unwrap();
    // The writer takes the first write and hangs on it; the second waits in
    // the queue; the third finds it full and stays in memory at once.
    let first = queue.try_append(order(1)).unwrap();
    tokio::task::yield_now().await;
    let second = queue.try_append(order(2)).unwrap();
    let third = queue.try_append(order(3)).unwrap();
    assert_eq!(queue.get(first).unwrap().storage, Storage::Durable);
    assert_eq!(queue.get(second).unwrap().storage, Storage::Durable);
    assert_eq!(queue.get(third).unwrap().storage, Storage::Memory);
    assert_eq!(queue.stats().store_errors, 1);
    // The flush cannot even be queued: it gives up after the timeout.
    let error = queue.flush().await.unwrap_err();
    assert!(matches!(error, FlushError::Timeout(_)), "{error}");
}

#[tokio::test]
async fn letters_from_the_mailbox_sink_are_durable_after_a_flush() {
    use foundation_mailbox::{Actor, ActorOptions, Context, start_with};

    /// Crashes on its first order.
    #[derive(Debug)]
    struct Shop;

    impl Actor for Shop {
        type Args = ();
        type Msg = Order;
        type Error = std::convert::Infallible;

        async fn init((): (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
            Ok(Shop)
        }

        async fn handle(&mut self, _: Order, _: &mut Context<Self>) -> Result<(), Self::Error> {
            panic!("the shop crashed");
        }
    }

    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dead-letters.redb");
    let queue = DeadLetterQueue::open(config(), RedbStore::open(&path).unwrap())
        .await
        .unwrap();
    let options = ActorOptions::new().dead_letters(queue.sink());
    let (shop, _handle) = start_with::<Shop>((), options).await.unwrap();
    for number in 1..=3 {
        shop.try_cast(Order {
            number,
            item: String::new(),
        })
        .unwrap();
    }
    shop.wait_for_exit(Duration::from_secs(5)).await.unwrap();
    queue.flush().await.unwrap();
    queue.close().await.unwrap();
    drop(queue);

    let queue = DeadLetterQueue::open(config(), RedbStore::open(&path).unwrap())
        .await
        .unwrap();
    let entries = queue.list(&Filter::all(), 10);
    assert_eq!(entries.len(), 2);
    assert!(
        entries
            .iter()
            .all(|entry| entry.reason.class() == ReasonClass::Exited)
    );
    assert_eq!(entries[0].recipient, Some(shop.pid().as_u64()));
}
