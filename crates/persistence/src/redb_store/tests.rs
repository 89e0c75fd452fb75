//! Unit tests of what is redb's own: damaged and empty files, a file in use, failed writes, and where reads run.
//!
//! What every store promises (versions, conflicts, listing, keys) is in
//! the conformance suite, `tests/conformance.rs`, run on every backend.

use std::{
    io::{Seek, SeekFrom, Write},
    sync::Arc,
};

use super::{faulty::Faults, *};

fn temp() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nested").join("state.redb");
    (dir, path)
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

#[test]
fn an_empty_file_is_refused_as_truncated_not_opened_as_a_new_store() {
    let (_dir, path) = temp();
    written_store(&path);
    std::fs::write(&path, []).unwrap();
    let error = RedbStore::open(&path).unwrap_err();
    assert!(
        matches!(&error, OpenError::Corrupt { path: reported, detail } if *reported == path && detail.contains("empty")),
        "{error}"
    );
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0, "left as it was");
}

#[test]
fn a_store_whose_creation_fails_leaves_no_file_behind() {
    let (_dir, path) = temp();
    let faults = Arc::new(Faults::default());
    faults.fail_writes(true);
    let error = RedbStore::open_with(&path, Backing::Faulty(Arc::clone(&faults))).unwrap_err();
    assert!(matches!(error, OpenError::Io { .. }), "{error}");
    let left: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert!(left.is_empty(), "a failed creation left {left:?}");
    // Once the disk has room, the store is created as if nothing happened.
    faults.fail_writes(false);
    RedbStore::open_with(&path, Backing::Faulty(faults)).unwrap();
}

#[tokio::test]
async fn a_failed_write_is_recovered_from_on_every_clone_once_the_disk_has_room() {
    let (_dir, path) = temp();
    let faults = Arc::new(Faults::default());
    let store = RedbStore::open_with(&path, Backing::Faulty(Arc::clone(&faults))).unwrap();
    let clone = store.clone();
    let first = store.put("k", vec![1]).await.unwrap();

    faults.fail_writes(true);
    let error = store.put("k", vec![2]).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::Backend { key, .. } if key == "k"),
        "{error}"
    );
    assert!(error.to_string().contains("no space left"), "{error}");

    faults.fail_writes(false);
    let entry = clone.get("k").await.unwrap().unwrap();
    assert_eq!(
        (entry.version, entry.value),
        (first, vec![1]),
        "the failed write left nothing"
    );
    let second = clone
        .compare_and_set("k", Some(first), vec![3])
        .await
        .unwrap();
    assert!(second > first);
    assert_eq!(store.get("k").await.unwrap().unwrap().value, [3]);
    assert_eq!(store.list("").await.unwrap().len(), 1);
    drop((store, clone));

    // The file is free again (not `InUse`) and holds the write that succeeded.
    let reopened = RedbStore::open(&path).unwrap();
    assert_eq!(reopened.get("k").await.unwrap().unwrap().version, second);
}

#[tokio::test]
async fn a_write_that_still_fails_keeps_failing_until_the_cause_is_gone() {
    let (_dir, path) = temp();
    let faults = Arc::new(Faults::default());
    let store = RedbStore::open_with(&path, Backing::Faulty(Arc::clone(&faults))).unwrap();
    store.put("k", vec![1]).await.unwrap();
    faults.fail_writes(true);
    for _ in 0..3 {
        let error = store.put("k", vec![2]).await.unwrap_err();
        assert!(matches!(error, StoreError::Backend { .. }), "{error}");
    }
    faults.fail_writes(false);
    store.put("k", vec![3]).await.unwrap();
    assert_eq!(store.get("k").await.unwrap().unwrap().value, [3]);
}

/// Overwrites the start of the page that holds `key`, where redb keeps the
/// page's type and entry count.
fn damage_page_holding(path: &Path, key: &str) {
    let bytes = std::fs::read(path).unwrap();
    let at = bytes
        .windows(key.len())
        .position(|window| window == key.as_bytes())
        .expect("the key is in the file");
    let page = at / 4096 * 4096;
    let mut file = std::fs::OpenOptions::new().write(true).open(path).unwrap();
    file.seek(SeekFrom::Start(page as u64)).unwrap();
    file.write_all(&[0xFF; 64]).unwrap();
}

/// A current-thread runtime, for tests that first write a store with
/// [`written_store`] (which runs its own).
fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

#[test]
fn a_damaged_page_is_a_corrupt_error_on_read_not_a_panic() {
    let (_dir, path) = temp();
    written_store(&path);
    damage_page_holding(&path, "key/42");
    // redb does not read the damaged page at open.
    let store = RedbStore::open(&path).unwrap();
    current_thread().block_on(async {
        for _ in 0..2 {
            let error = store.get("key/42").await.unwrap_err();
            assert!(
                matches!(&error, StoreError::Corrupt { key, .. } if key == "key/42"),
                "{error}"
            );
            let error = store.list("key/").await.unwrap_err();
            assert!(
                matches!(&error, StoreError::Corrupt { key, .. } if key == "key/"),
                "{error}"
            );
        }
    });
}

#[test]
fn reads_run_off_the_async_worker_thread() {
    let (_dir, path) = temp();
    written_store(&path);
    let faults = Arc::new(Faults::default());
    let store = RedbStore::open_with(&path, Backing::Faulty(Arc::clone(&faults))).unwrap();
    faults.take_read_threads();
    // The runtime is current-thread: this thread is its only worker.
    let worker = std::thread::current().id();
    current_thread().block_on(async {
        assert!(store.get("key/42").await.unwrap().is_some());
        assert_eq!(store.list("key/").await.unwrap().len(), 50);
    });
    let readers = faults.take_read_threads();
    assert!(
        !readers.is_empty(),
        "the reads missed redb's cache, so they read the file"
    );
    assert!(
        readers.iter().all(|reader| *reader != worker),
        "a read ran on the async worker thread"
    );
}
