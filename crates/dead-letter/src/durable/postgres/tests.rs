//! Unit tests of the queue on PostgreSQL: entries survive reopening, two nodes never deliver the same entry, failed claims are recorded, ids never collide, and a letter from one node wakes another's periodic redrive.
//!
//! They need `FOUNDATION_TEST_POSTGRES_URL` and skip, saying how to run
//! them, without it. Each "node" is a queue on a pool of its own (its own
//! sessions, so its own row locks), and in the claim test a thread with a
//! runtime of its own.

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex, mpsc},
    time::Duration,
};

use foundation_mailbox::Pid;
use foundation_persistence::postgres::{Postgres, testing::TestSchema};
use serde::{Deserialize, Serialize};

use crate::{
    ClaimError, Config, DeadLetterQueue, Entry, Filter, Letter, Reason, RedriveOptions, Status,
    Storage, Undelivered, typed,
};

const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Order(u32);

fn order(number: u32) -> Letter {
    Letter::new(
        Pid::new(),
        Order(number),
        Reason::Undeliverable("down".into()),
    )
}

fn config() -> Config {
    Config::default()
        .codec::<Order>()
        .name("orders")
        .max_attempts(3)
}

/// A queue on a pool of its own: one node.
async fn node(schema: &TestSchema) -> DeadLetterQueue {
    let database = Postgres::connect(schema.config()).await.unwrap();
    DeadLetterQueue::open_postgres(config(), database)
        .await
        .unwrap()
}

/// The rows of the test's dead-letter table: (id, pending).
async fn rows(schema: &TestSchema) -> Vec<(i64, bool)> {
    let database = Postgres::connect(schema.config()).await.unwrap();
    let client = database.client("rows").await.unwrap();
    client
        .query(
            &format!(
                "SELECT id, pending FROM {}.foundation_dead_letters ORDER BY id",
                database.quoted_schema()
            ),
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect()
}

#[tokio::test]
async fn entries_survive_closing_and_reopening_a_postgres_queue() {
    let Some(schema) = TestSchema::create("dead_letter::postgres::reopen") else {
        return;
    };
    let queue = node(&schema).await;
    let kept = queue.append(order(1)).await.unwrap();
    // No codec for text: kept in memory only.
    queue
        .append(Letter::new(Pid::new(), "text", Reason::Overflow))
        .await
        .unwrap();
    let before = queue.get(kept).unwrap();
    queue.close().await.unwrap();
    drop(queue);

    let queue = node(&schema).await;
    let listed = queue.list(&Filter::all(), 10);
    assert_eq!(listed, std::slice::from_ref(&before));
    assert_eq!(listed[0].storage, Storage::Durable);
    // A new node's ids are above every stored one.
    assert!(queue.append(order(2)).await.unwrap() > kept);
    let error = DeadLetterQueue::new(config())
        .unwrap()
        .redrive_claimed(&typed(|_, _: Order| Ok(())), &RedriveOptions::default())
        .await
        .unwrap_err();
    assert!(matches!(error, ClaimError::NotShared), "{error}");
    drop(queue);
    schema.drop_schema().await;
}

#[tokio::test]
async fn ids_from_two_nodes_never_collide() {
    let Some(schema) = TestSchema::create("dead_letter::postgres::ids") else {
        return;
    };
    let (first, second) = (node(&schema).await, node(&schema).await);
    let mut ids = BTreeSet::new();
    for number in 0..5 {
        ids.insert(first.append(order(number)).await.unwrap());
        ids.insert(second.append(order(number)).await.unwrap());
    }
    assert_eq!(ids.len(), 10);
    assert_eq!(rows(&schema).await.len(), 10);
    // A third node loads every node's entries.
    assert_eq!(node(&schema).await.stats().durable, 10);
    drop((first, second));
    schema.drop_schema().await;
}

/// The claim test's side of one node: claims until nothing is left, and
/// reports what it delivered. Its first delivery waits (up to PATIENCE) for
/// the other node to be delivering too, so both hold claims at once.
fn claiming_node(
    schema: &TestSchema,
    here: mpsc::SyncSender<()>,
    there: mpsc::Receiver<()>,
    delivered: Arc<Mutex<Vec<u32>>>,
) -> impl FnOnce() -> bool + Send + 'static {
    let connection = schema.config();
    move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let met = Arc::new(Mutex::new(None));
        let resolver = {
            let met = Arc::clone(&met);
            let there = Mutex::new(there);
            typed(move |_: &Entry, Order(number)| {
                let mut met = met.lock().unwrap();
                if met.is_none() {
                    // Both may already be waiting: the signal is buffered.
                    let _ = here.try_send(());
                    *met = Some(there.lock().unwrap().recv_timeout(PATIENCE).is_ok());
                }
                delivered.lock().unwrap().push(number);
                Ok(())
            })
        };
        runtime.block_on(async {
            let database = Postgres::connect(connection).await.unwrap();
            let queue = DeadLetterQueue::open_postgres(config(), database)
                .await
                .unwrap();
            let options = RedriveOptions::default().batch(5);
            while queue
                .redrive_claimed(&resolver, &options)
                .await
                .unwrap()
                .delivered
                > 0
            {}
        });
        met.lock().unwrap().unwrap_or(false)
    }
}

#[tokio::test]
async fn two_nodes_claiming_at_once_never_deliver_the_same_entry() {
    let Some(schema) = TestSchema::create("dead_letter::postgres::claims") else {
        return;
    };
    let producer = node(&schema).await;
    for number in 1..=40 {
        producer.append(order(number)).await.unwrap();
    }
    let delivered = Arc::new(Mutex::new(Vec::new()));
    let (to_b, from_a) = mpsc::sync_channel(1);
    let (to_a, from_b) = mpsc::sync_channel(1);
    let a = std::thread::spawn(claiming_node(&schema, to_b, from_b, Arc::clone(&delivered)));
    let b = std::thread::spawn(claiming_node(&schema, to_a, from_a, Arc::clone(&delivered)));
    let (a_met, b_met) =
        tokio::task::spawn_blocking(move || (a.join().unwrap(), b.join().unwrap()))
            .await
            .unwrap();
    assert!(
        a_met && b_met,
        "both nodes held claims at the same moment: {a_met} {b_met}"
    );
    let mut delivered = delivered.lock().unwrap().clone();
    delivered.sort_unstable();
    assert_eq!(
        delivered,
        (1..=40).collect::<Vec<u32>>(),
        "each entry delivered exactly once"
    );
    assert!(rows(&schema).await.is_empty());
    // The producer's memory follows the table at its own next claim.
    let report = producer
        .redrive_claimed(&typed(|_, _: Order| Ok(())), &RedriveOptions::default())
        .await
        .unwrap();
    assert_eq!(report.delivered, 0);
    assert!(producer.is_empty());
    drop(producer);
    schema.drop_schema().await;
}

#[tokio::test]
async fn a_failed_claimed_delivery_is_recorded_and_an_exhausted_entry_is_not_claimed_again() {
    let Some(schema) = TestSchema::create("dead_letter::postgres::failures") else {
        return;
    };
    let queue = node(&schema).await;
    let id = queue.append(order(7)).await.unwrap();
    let other = node(&schema).await;
    let failing = typed(|_, order: Order| Err(Undelivered::new(order, "still down")));
    let options = RedriveOptions::default();
    let first = other.redrive_claimed(&failing, &options).await.unwrap();
    assert_eq!((first.delivered, first.failed, first.exhausted), (0, 1, 0));
    // The attempt is in the table: the producer's node sees it when it claims.
    let second = queue.redrive_claimed(&failing, &options).await.unwrap();
    assert_eq!((second.failed, second.exhausted), (1, 1));
    let entry = queue.get(id).unwrap();
    assert_eq!(entry.status, Status::Exhausted);
    // The producer's failed delivery, then two redrives.
    assert_eq!(entry.attempts, 3);
    assert_eq!(entry.history.last().unwrap().error, "still down");
    assert_eq!(rows(&schema).await, [(id.get() as i64, false)]);
    let third = other.redrive_claimed(&failing, &options).await.unwrap();
    assert_eq!((third.delivered, third.failed), (0, 0));
    // Durable entries are claimed, never redriven from memory.
    assert_eq!(queue.redrive(&failing, &options).failed, 0);
    drop((queue, other));
    schema.drop_schema().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_from_one_node_wakes_the_periodic_redrive_of_another() {
    let Some(schema) = TestSchema::create("dead_letter::postgres::wakeup") else {
        return;
    };
    let sleeper = node(&schema).await;
    let (delivered, heard) = tokio::sync::mpsc::channel(8);
    let resolver = typed(move |_: &Entry, Order(number)| {
        delivered
            .try_send(number)
            .map_err(|_| Undelivered::new(Order(number), "the test stopped listening"))
    });
    // An hour between runs: only a wakeup can deliver within the test.
    let task = sleeper.spawn_redrive(
        resolver,
        RedriveOptions::default().interval(Duration::from_secs(3600)),
    );
    assert!(
        task.listening().await,
        "the redrive listens for other nodes"
    );

    let producer = node(&schema).await;
    producer.append(order(42)).await.unwrap();
    let number = tokio::time::timeout(PATIENCE, async {
        let mut heard = heard;
        heard.recv().await
    })
    .await
    .expect("woken by the other node's letter");
    assert_eq!(number, Some(42));
    task.cancel();
    assert!(
        !DeadLetterQueue::new(config())
            .unwrap()
            .spawn_redrive(typed(|_, _: Order| Ok(())), RedriveOptions::default())
            .listening()
            .await
    );
    drop((sleeper, producer));
    schema.drop_schema().await;
}
