//! The deduplication window: duplicates, stale numbers, bounded memory.

use foundation_mailbox::Reply;

use super::*;

fn acked(producer: u64, seq: u64) -> (Acked<u64>, foundation_mailbox::ReplyReceiver<Receipt>) {
    let (port, answer) = Reply::pair();
    (
        Acked {
            message: seq,
            id: DeliveryId { producer, seq },
            port,
        },
        answer,
    )
}

#[tokio::test]
async fn a_second_copy_is_a_duplicate_and_is_not_handled() {
    let mut seen = Dedup::new(4, 2);
    let (first, answer) = acked(1, 1);
    let handled = seen.admit(first).expect("new");
    assert_eq!(*handled, 1);
    drop(handled);
    assert_eq!(answer.await, Ok(Receipt::Handled));
    let (again, answer) = acked(1, 1);
    assert!(seen.admit(again).is_none());
    assert_eq!(answer.await, Ok(Receipt::Duplicate));
}

#[tokio::test]
async fn numbers_arrive_in_any_order_and_memory_stays_bounded() {
    let mut seen = Dedup::new(4, 2);
    for seq in [3, 1, 2, 5, 4] {
        let (message, _answer) = acked(1, seq);
        assert!(seen.admit(message).is_some(), "{seq} is new");
    }
    assert_eq!(seen.len(), 4, "the window holds 4");
    // 3 came first, so it was forgotten first: a copy of it is stale, not
    // handled again.
    let (old, answer) = acked(1, 3);
    assert!(seen.admit(old).is_none());
    assert_eq!(answer.await, Ok(Receipt::Stale));
    // 1 and 2 came later and are still remembered.
    let (one, answer) = acked(1, 1);
    assert!(seen.admit(one).is_none());
    assert_eq!(answer.await, Ok(Receipt::Duplicate));
    // 6 is new; admitting it forgets 1, and everything up to 3 stays stale.
    let (six, _answer) = acked(1, 6);
    assert!(seen.admit(six).is_some());
    assert_eq!(seen.len(), 4);
}

#[tokio::test]
async fn the_producer_heard_from_longest_ago_is_forgotten() {
    let mut seen = Dedup::new(4, 2);
    for producer in [1, 2, 3] {
        let (message, _answer) = acked(producer, 1);
        assert!(seen.admit(message).is_some());
    }
    assert_eq!(seen.producers.len(), 2);
    assert!(!seen.producers.contains_key(&1));
}

#[test]
fn producers_number_their_messages_from_one() {
    let producer = Producer::new();
    assert_eq!(producer.next_id().seq, 1);
    assert_eq!(producer.next_id().seq, 2);
    assert_eq!(producer.next_id().producer, producer.id());
}
