//! Loom models of the in-memory store: every interleaving of racing compare-and-sets.
//!
//! Run with `cargo xtask loom`. The durable store's compare-and-set runs
//! inside one redb write transaction, which redb serializes; the in-memory
//! store's is ours, so it is the one checked here.

use loom::{sync::Arc, thread};

use crate::{MemoryStore, StoreError, Version};

/// Two writers that read the same version race a compare-and-set on the
/// same key: exactly one wins, the other sees a conflict naming the
/// winner's version, and the entry holds the winner's bytes.
#[test]
fn racing_compare_and_sets_have_exactly_one_winner() {
    loom::model(|| {
        let store = Arc::new(MemoryStore::new());
        let base = store
            .compare_and_set_now("k", Some(None), vec![0])
            .expect("the first write finds no entry");
        let writers: Vec<_> = [1_u8, 2]
            .into_iter()
            .map(|value| {
                let store = Arc::clone(&store);
                thread::spawn(move || store.compare_and_set_now("k", Some(Some(base)), vec![value]))
            })
            .collect();
        let outcomes: Vec<Result<Version, StoreError>> = writers
            .into_iter()
            .map(|writer| writer.join().expect("writer panicked"))
            .collect();
        let winners: Vec<(usize, Version)> = outcomes
            .iter()
            .enumerate()
            .filter_map(|(index, outcome)| outcome.as_ref().ok().map(|version| (index, *version)))
            .collect();
        assert_eq!(winners.len(), 1, "exactly one writer wins: {outcomes:?}");
        let (winner, version) = winners[0];
        let loser = &outcomes[1 - winner];
        match loser {
            Err(StoreError::Conflict {
                found, expected, ..
            }) => {
                assert_eq!(*expected, Some(base));
                assert_eq!(*found, Some(version));
            }
            other => panic!("the loser must see a conflict, saw {other:?}"),
        }
        let entry = store
            .get_now("k")
            .expect("valid key")
            .expect("entry exists");
        assert_eq!(entry.version, version);
        assert_eq!(entry.value, vec![u8::try_from(winner + 1).expect("small")]);
    });
}

/// Two creators race to create the same key (`expected: None`): exactly
/// one creates it; versions handed out are distinct.
#[test]
fn racing_creates_have_exactly_one_winner() {
    loom::model(|| {
        let store = Arc::new(MemoryStore::new());
        let creators: Vec<_> = (0..2_u8)
            .map(|value| {
                let store = Arc::clone(&store);
                thread::spawn(move || store.compare_and_set_now("k", Some(None), vec![value]))
            })
            .collect();
        let created = creators
            .into_iter()
            .map(|creator| creator.join().expect("creator panicked"))
            .filter(Result::is_ok)
            .count();
        assert_eq!(created, 1);
        // A later unconditional write gets a version above every earlier one.
        let after = store
            .compare_and_set_now("k", None, vec![9])
            .expect("unconditional write");
        assert_eq!(after, Version::new(2));
    });
}
