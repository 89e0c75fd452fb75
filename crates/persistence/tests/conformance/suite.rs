//! The cases: versions, conflicts, deletes, listing, keys, races and restarts, each written once for every backend.

use std::sync::Arc;

use foundation_persistence::{MAX_KEY_LEN, StateStore, Store, StoreError, Version};

use super::backends::Backend;

fn keys(listed: Vec<foundation_persistence::Listed>) -> Vec<String> {
    listed.into_iter().map(|listed| listed.key).collect()
}

pub(crate) async fn a_missing_key_reads_as_none<B: Backend>(backend: &mut B) {
    let store = backend.store();
    assert_eq!(store.get("nobody").await.unwrap(), None);
    assert!(!store.delete("nobody").await.unwrap());
    assert!(store.list("nobody").await.unwrap().is_empty());
}

pub(crate) async fn put_then_get_returns_the_value_and_its_version<B: Backend>(backend: &mut B) {
    let store = backend.store();
    let first = store.put("k", b"one".to_vec()).await.unwrap();
    let entry = store.get("k").await.unwrap().unwrap();
    assert_eq!(
        (entry.version, entry.value.as_slice()),
        (first, &b"one"[..])
    );
    // `put` overwrites whatever is there, with a new version.
    let second = store.put("k", b"two".to_vec()).await.unwrap();
    assert!(second > first, "{second} after {first}");
    let entry = store.get("k").await.unwrap().unwrap();
    assert_eq!(
        (entry.version, entry.value.as_slice()),
        (second, &b"two"[..])
    );
}

pub(crate) async fn versions_grow_and_are_never_reused_across_delete_and_reopen<B: Backend>(
    backend: &mut B,
) {
    let store = backend.store();
    let first = store.compare_and_set("k", None, vec![1]).await.unwrap();
    let second = store
        .compare_and_set("k", Some(first), vec![2])
        .await
        .unwrap();
    assert!(second > first);
    // Versions are per store, not per key.
    let other = store.put("other", vec![0]).await.unwrap();
    assert!(other > second);
    assert!(store.delete("k").await.unwrap());
    assert!(!store.delete("k").await.unwrap());
    drop(store);
    backend.reopen().await;
    let store = backend.store();
    let third = store.compare_and_set("k", None, vec![3]).await.unwrap();
    assert!(third > other, "{third} after {other}");
    let stale = store
        .compare_and_set("k", Some(second), vec![4])
        .await
        .unwrap_err();
    assert!(
        matches!(&stale, StoreError::Conflict { expected, found, .. } if *expected == Some(second) && *found == Some(third)),
        "{stale}"
    );
    assert_eq!(store.get("k").await.unwrap().unwrap().value, [3]);
}

pub(crate) async fn a_stale_compare_and_set_is_a_conflict_naming_the_version_found<B: Backend>(
    backend: &mut B,
) {
    let store = backend.store();
    let written = store.compare_and_set("k", None, vec![1]).await.unwrap();
    // Expecting no entry where there is one.
    let error = store.compare_and_set("k", None, vec![2]).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict { key, expected: None, found } if key == "k" && *found == Some(written)),
        "{error}"
    );
    // Expecting a version the entry no longer has.
    let newer = store.put("k", vec![3]).await.unwrap();
    let error = store
        .compare_and_set("k", Some(written), vec![4])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict { expected, found, .. } if *expected == Some(written) && *found == Some(newer)),
        "{error}"
    );
    assert!(
        error.to_string().contains("version conflict on key `k`"),
        "{error}"
    );
    // Expecting an entry that was deleted.
    assert!(store.delete("k").await.unwrap());
    let error = store
        .compare_and_set("k", Some(newer), vec![5])
        .await
        .unwrap_err();
    assert!(
        matches!(&error, StoreError::Conflict { found: None, .. }),
        "{error}"
    );
    // A version that no store hands out matches nothing either.
    store.put("k", vec![6]).await.unwrap();
    let error = store
        .compare_and_set("k", Some(Version::new(u64::MAX)), vec![7])
        .await
        .unwrap_err();
    assert!(error.is_conflict(), "{error}");
    // Nothing a failed compare-and-set wrote is visible.
    assert_eq!(store.get("k").await.unwrap().unwrap().value, [6]);
}

pub(crate) async fn delete_says_whether_there_was_an_entry<B: Backend>(backend: &mut B) {
    let store = backend.store();
    store.put("a", vec![1]).await.unwrap();
    store.put("b", vec![2]).await.unwrap();
    assert!(store.delete("a").await.unwrap());
    assert!(!store.delete("a").await.unwrap());
    assert_eq!(store.get("a").await.unwrap(), None);
    assert_eq!(keys(store.list("").await.unwrap()), ["b"]);
}

pub(crate) async fn lists_by_prefix_in_byte_order<B: Backend>(backend: &mut B) {
    let store = backend.store();
    let mut versions = Vec::new();
    for key in [
        "b/2",
        "a/1",
        "b/1",
        "c",
        "b",
        "B",
        "b\u{e9}",
        "bz",
        "b\u{10FFFF}",
    ] {
        versions.push((key, store.put(key, key.as_bytes().to_vec()).await.unwrap()));
    }
    let listed = store.list("b").await.unwrap();
    // Byte order, not a locale's: "B" sorts before "a", "é" after "z".
    assert_eq!(
        keys(listed.clone()),
        ["b", "b/1", "b/2", "bz", "b\u{e9}", "b\u{10FFFF}"]
    );
    for listed in &listed {
        let written = versions.iter().find(|(key, _)| *key == listed.key).unwrap();
        assert_eq!(listed.version, written.1, "{}", listed.key);
    }
    assert_eq!(keys(store.list("b/").await.unwrap()), ["b/1", "b/2"]);
    assert_eq!(keys(store.list("b\u{e9}").await.unwrap()), ["b\u{e9}"]);
    assert_eq!(
        keys(store.list("").await.unwrap()),
        [
            "B",
            "a/1",
            "b",
            "b/1",
            "b/2",
            "bz",
            "b\u{e9}",
            "b\u{10FFFF}",
            "c"
        ]
    );
    assert!(store.list("z").await.unwrap().is_empty());
    assert!(store.list("b/3").await.unwrap().is_empty());
}

pub(crate) async fn bad_keys_are_typed_errors<B: Backend>(backend: &mut B) {
    let store = backend.store();
    let long = "x".repeat(MAX_KEY_LEN + 1);
    for key in ["", long.as_str()] {
        let invalid = |error: StoreError| matches!(error, StoreError::InvalidKey { .. });
        assert!(invalid(store.get(key).await.unwrap_err()));
        assert!(invalid(store.put(key, vec![]).await.unwrap_err()));
        assert!(invalid(
            store.compare_and_set(key, None, vec![]).await.unwrap_err()
        ));
        assert!(invalid(store.delete(key).await.unwrap_err()));
    }
    // The longest key allowed is fine.
    let longest = "y".repeat(MAX_KEY_LEN);
    store.put(&longest, vec![1]).await.unwrap();
    assert_eq!(store.get(&longest).await.unwrap().unwrap().value, [1]);
}

pub(crate) async fn keys_and_values_round_trip_exactly<B: Backend>(backend: &mut B) {
    let store = backend.store();
    let large: Vec<u8> = (0..(1 << 20)).map(|index: u32| index as u8).collect();
    let cases: [(&str, Vec<u8>); 5] = [
        ("empty value", Vec::new()),
        ("nul\u{0}inside", vec![0, 0, 0]),
        ("ünï/çødé/🦀", vec![0xFF, 0x00, 0x7F]),
        ("'; DROP TABLE foundation_state; --", b"quotes".to_vec()),
        ("large", large),
    ];
    for (key, value) in &cases {
        store.put(key, value.clone()).await.unwrap();
    }
    for (key, value) in &cases {
        let entry = store.get(key).await.unwrap().unwrap();
        assert_eq!(&entry.value, value, "{key}");
    }
    assert_eq!(store.list("").await.unwrap().len(), cases.len());
}

pub(crate) async fn racing_compare_and_sets_have_exactly_one_winner<B: Backend>(backend: &mut B) {
    const WRITERS: u8 = 8;
    let store = backend.store();
    for expected in [None, Some(store.put("taken", vec![0]).await.unwrap())] {
        let key = if expected.is_none() { "fresh" } else { "taken" };
        let barrier = Arc::new(tokio::sync::Barrier::new(usize::from(WRITERS)));
        let writers: Vec<_> = (1..=WRITERS)
            .map(|value| {
                let store = store.clone();
                let barrier = Arc::clone(&barrier);
                // audit:allow(FND001) a test's writer, joined right below
                tokio::spawn(async move {
                    barrier.wait().await;
                    (
                        value,
                        store.compare_and_set(key, expected, vec![value]).await,
                    )
                })
            })
            .collect();
        let mut winners = Vec::new();
        let mut losers = Vec::new();
        for writer in writers {
            match writer.await.unwrap() {
                (value, Ok(version)) => winners.push((value, version)),
                (_, Err(error)) => losers.push(error),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "{key}: exactly one winner: {winners:?} {losers:?}"
        );
        let (value, version) = winners[0];
        for loser in &losers {
            assert!(
                matches!(loser, StoreError::Conflict { found, .. } if *found == Some(version)),
                "{key}: a loser names the winner's version: {loser}"
            );
        }
        let entry = store.get(key).await.unwrap().unwrap();
        assert_eq!((entry.version, entry.value), (version, vec![value]));
    }
}

pub(crate) async fn entries_survive_reopening<B: Backend>(backend: &mut B) {
    let store = backend.store();
    let mut written = Vec::new();
    for index in 0..20_u8 {
        let key = format!("entry/{index:02}");
        written.push((key.clone(), store.put(&key, vec![index; 10]).await.unwrap()));
    }
    drop(store);
    backend.reopen().await;
    let store = backend.store();
    for (index, (key, version)) in written.iter().enumerate() {
        let entry = store.get(key).await.unwrap().unwrap();
        assert_eq!(
            (entry.version, entry.value),
            (*version, vec![index as u8; 10])
        );
    }
    let listed = store.list("entry/").await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|listed| (listed.key.clone(), listed.version))
            .collect::<Vec<_>>(),
        written
    );
}

pub(crate) async fn the_erased_store_behaves_the_same<B: Backend>(backend: &mut B) {
    let store = Store::new(backend.store());
    let first = store.compare_and_set("k", None, vec![1]).await.unwrap();
    let error = store.compare_and_set("k", None, vec![2]).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict { found, .. } if found == Some(first)));
    assert_eq!(keys(store.list("k").await.unwrap()), ["k"]);
    assert!(store.delete("k").await.unwrap());
    assert!(format!("{store:?}").starts_with("Store("));
}
