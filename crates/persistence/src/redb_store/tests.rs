//! Unit tests of the redb store: versions, conflicts, listing, and damaged files at open.

use std::io::{Seek, SeekFrom, Write};

use super::*;

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("state.redb");
    (dir, path)
}

#[tokio::test]
async fn versions_grow_and_are_never_reused_across_delete_and_reopen() {
    let (_dir, path) = temp();
    let store = RedbStore::open(&path).unwrap();
    let first = store.compare_and_set("k", None, vec![1]).await.unwrap();
    let second = store
        .compare_and_set("k", Some(first), vec![2])
        .await
        .unwrap();
    assert!(second > first);
    assert!(store.delete("k").await.unwrap());
    assert!(!store.delete("k").await.unwrap());
    drop(store);
    let store = RedbStore::open(&path).unwrap();
    let third = store.compare_and_set("k", None, vec![3]).await.unwrap();
    assert!(third > second, "{third} after {second}");
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

#[tokio::test]
async fn lists_by_prefix_in_key_order() {
    let (_dir, path) = temp();
    let store = RedbStore::open(&path).unwrap();
    for key in ["b/2", "a/1", "b/1", "c", "b"] {
        store.put(key, key.as_bytes().to_vec()).await.unwrap();
    }
    let keys: Vec<String> = store
        .list("b")
        .await
        .unwrap()
        .into_iter()
        .map(|listed| listed.key)
        .collect();
    assert_eq!(keys, ["b", "b/1", "b/2"]);
    assert_eq!(store.list("").await.unwrap().len(), 5);
    assert!(store.list("z").await.unwrap().is_empty());
}

#[tokio::test]
async fn bad_keys_are_typed_errors() {
    let (_dir, path) = temp();
    let store = RedbStore::open(&path).unwrap();
    let error = store.put("", vec![]).await.unwrap_err();
    assert!(matches!(error, StoreError::InvalidKey { .. }));
    let long = "x".repeat(crate::MAX_KEY_LEN + 1);
    assert!(matches!(
        store.get(&long).await,
        Err(StoreError::InvalidKey { .. })
    ));
}

#[test]
fn a_second_open_of_the_same_file_is_in_use() {
    let (_dir, path) = temp();
    let _store = RedbStore::open(&path).unwrap();
    assert!(matches!(
        RedbStore::open(&path),
        Err(OpenError::InUse { .. })
    ));
}

/// Writes a store with a few entries and closes it; returns the file's bytes.
fn written_store(path: &Path) -> Vec<u8> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    runtime.block_on(async {
        let store = RedbStore::open(path).unwrap();
        for index in 0..50_u32 {
            store
                .put(&format!("key/{index}"), vec![index as u8; 100])
                .await
                .unwrap();
        }
    });
    std::fs::read(path).unwrap()
}

#[test]
fn a_truncated_file_is_a_clear_error_at_open() {
    let (_dir, path) = temp();
    let bytes = written_store(&path);
    for len in [0, 1, 17, 100, 511, 4096, bytes.len() / 2, bytes.len() - 1] {
        std::fs::write(&path, &bytes[..len]).unwrap();
        match RedbStore::open(&path) {
            Err(OpenError::Corrupt { path: reported, .. }) => assert_eq!(reported, path),
            // An empty file is a new store: nothing was in it to lose.
            Ok(_) if len == 0 => {}
            other => panic!("truncated to {len} bytes: {other:?}"),
        }
    }
}

#[test]
fn a_file_of_garbage_is_a_clear_error_at_open() {
    let (_dir, path) = temp();
    let len = written_store(&path).len();
    std::fs::write(&path, vec![0xA5; len]).unwrap();
    let error = RedbStore::open(&path).unwrap_err();
    assert!(matches!(error, OpenError::Corrupt { .. }), "{error}");
    assert!(error.to_string().contains("state.redb"), "{error}");
}

#[test]
fn a_damaged_header_is_a_clear_error_at_open() {
    let (_dir, path) = temp();
    written_store(&path);
    let mut file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.seek(SeekFrom::Start(0)).unwrap();
    file.write_all(&[0xFF; 64]).unwrap();
    drop(file);
    let error = RedbStore::open(&path).unwrap_err();
    assert!(matches!(error, OpenError::Corrupt { .. }), "{error}");
}
