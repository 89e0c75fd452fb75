//! Unit tests of what is PostgreSQL's own: configuration errors, migrations (a newer schema refused), a cut network, and timeouts.
//!
//! What every store promises is in the conformance suite
//! (`tests/conformance.rs`). Tests that need a server skip without
//! `FOUNDATION_TEST_POSTGRES_URL`; the configuration tests need none.

use std::time::Duration;

use tokio_postgres::config::Host;

use self::proxy::Proxy;
use super::{testing::TestSchema, *};
use crate::{StateStore, StoreError};

mod proxy;

#[test]
fn a_bad_url_is_a_typed_error_that_does_not_repeat_the_url() {
    let error = PostgresConfig::new("postgres://app:s3cret@host:notaport/db").unwrap_err();
    assert!(
        matches!(&error, PostgresOpenError::InvalidUrl { .. }),
        "{error}"
    );
    assert!(!error.to_string().contains("s3cret"), "{error}");
}

#[tokio::test]
async fn a_bad_schema_name_is_refused_before_connecting() {
    for (name, why) in [
        ("", "empty"),
        ("Orders", "lowercase"),
        ("9lives", "digit"),
        ("a\"; DROP SCHEMA public; --", "lowercase"),
        ("pg_catalog", "reserved"),
    ] {
        let config = PostgresConfig::new("postgres://nobody@127.0.0.1:1/none")
            .unwrap()
            .schema(name);
        let error = Postgres::connect(config).await.unwrap_err();
        assert!(
            matches!(&error, PostgresOpenError::InvalidSchema { .. })
                && error.to_string().contains(why),
            "{name}: {error}"
        );
    }
}

#[tokio::test]
async fn a_server_that_is_not_there_is_unavailable_at_open() {
    // A port nobody listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = PostgresConfig::new(&format!("postgres://nobody@127.0.0.1:{port}/none"))
        .unwrap()
        .timeout(Duration::from_secs(5));
    let error = PostgresStore::open(config).await.unwrap_err();
    assert!(
        matches!(&error, PostgresOpenError::Unavailable { .. }),
        "{error}"
    );
}

#[tokio::test]
async fn a_fresh_schema_is_migrated_once_even_by_nodes_opening_at_once() {
    let Some(schema) = TestSchema::create("postgres::tests::migrated_once") else {
        return;
    };
    let (first, second) = tokio::join!(
        PostgresStore::open(schema.config()),
        PostgresStore::open(schema.config())
    );
    let (first, second) = (first.unwrap(), second.unwrap());
    first.put("k", vec![1]).await.unwrap();
    assert_eq!(second.get("k").await.unwrap().unwrap().value, [1]);
    let client = first.database().client("check").await.unwrap();
    let rows = client
        .query(
            &format!(
                "SELECT component, version FROM {}.foundation_schema ORDER BY component",
                first.database().quoted_schema()
            ),
            &[],
        )
        .await
        .unwrap();
    let recorded: Vec<(String, i32)> = rows.iter().map(|row| (row.get(0), row.get(1))).collect();
    assert_eq!(
        recorded,
        [
            ("journal".to_owned(), 1),
            ("state".to_owned(), PostgresStore::schema_version() as i32)
        ]
    );
    drop((client, first, second));
    schema.drop_schema().await;
}

#[tokio::test]
async fn a_schema_from_a_newer_build_is_refused_and_left_alone() {
    let Some(schema) = TestSchema::create("postgres::tests::newer_schema") else {
        return;
    };
    let store = PostgresStore::open(schema.config()).await.unwrap();
    store.put("kept", vec![7]).await.unwrap();
    let newer = PostgresStore::schema_version() + 1;
    let client = store.database().client("bump").await.unwrap();
    client
        .execute(
            &format!(
                "UPDATE {}.foundation_schema SET version = $1 WHERE component = 'state'",
                store.database().quoted_schema()
            ),
            &[&(newer as i32)],
        )
        .await
        .unwrap();

    let error = PostgresStore::open(schema.config()).await.unwrap_err();
    assert!(
        matches!(&error, PostgresOpenError::NewerSchema { component, found, supported, .. }
            if component == "state" && *found == newer && *supported == PostgresStore::schema_version()),
        "{error}"
    );
    let message = error.to_string();
    assert!(
        message.contains(schema.config().schema_name()) && message.contains("upgrade"),
        "{message}"
    );
    // Left alone: the version and the data are as they were.
    let version: i32 = client
        .query_one(
            &format!(
                "SELECT version FROM {}.foundation_schema WHERE component = 'state'",
                store.database().quoted_schema()
            ),
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(version as u32, newer);
    assert_eq!(store.get("kept").await.unwrap().unwrap().value, [7]);
    drop((client, store));
    schema.drop_schema().await;
}

/// The test database's settings, reached through `proxy` instead.
fn through(proxy: &Proxy, schema: &TestSchema) -> PostgresConfig {
    let direct = schema.config().connection();
    let mut connection = tokio_postgres::Config::new();
    connection
        .host("127.0.0.1")
        .port(proxy.port())
        .dbname(direct.get_dbname().unwrap_or("postgres"));
    if let Some(user) = direct.get_user() {
        connection.user(user);
    }
    if let Some(password) = direct.get_password() {
        connection.password(password);
    }
    PostgresConfig::from_connection(connection)
        .schema(schema.config().schema_name())
        .timeout(Duration::from_secs(5))
}

/// The test database's address.
fn upstream(schema: &TestSchema) -> String {
    let connection = schema.config().connection();
    let host = match connection.get_hosts().first() {
        Some(Host::Tcp(host)) => host.clone(),
        other => panic!("the test database must be reached over TCP, not {other:?}"),
    };
    let port = connection.get_ports().first().copied().unwrap_or(5432);
    format!("{host}:{port}")
}

#[tokio::test]
async fn a_cut_connection_is_unavailable_and_the_store_recovers_when_the_network_is_back() {
    let Some(schema) = TestSchema::create("postgres::tests::cut") else {
        return;
    };
    let proxy = Proxy::start(upstream(&schema)).await;
    let store = PostgresStore::open(through(&proxy, &schema).pool_size(2))
        .await
        .unwrap();
    let version = store.put("k", vec![1]).await.unwrap();

    proxy.cut();
    for _ in 0..3 {
        let error = store.get("k").await.unwrap_err();
        assert!(
            matches!(&error, StoreError::Unavailable { key, .. } if key == "k"),
            "{error:?}"
        );
        assert!(error.is_transient());
        let error = store
            .compare_and_set("k", Some(version), vec![2])
            .await
            .unwrap_err();
        assert!(
            matches!(&error, StoreError::Unavailable { .. }),
            "{error:?}"
        );
    }

    proxy.resume().await;
    let written = store
        .compare_and_set("k", Some(version), vec![3])
        .await
        .unwrap();
    assert_eq!(store.get("k").await.unwrap().unwrap().version, written);
    drop(store);
    proxy.cut();
    schema.drop_schema().await;
}

#[tokio::test]
async fn an_operation_that_waits_too_long_is_a_timeout_naming_the_key() {
    let Some(schema) = TestSchema::create("postgres::tests::timeout") else {
        return;
    };
    // Long enough that opening the store and its first statements never
    // run out of it on a loaded 2-core CI machine (300 ms did, once, while
    // the whole workspace's tests ran beside it); only the put that waits
    // on the held row lock is meant to reach it.
    let timeout = Duration::from_secs(2);
    // Set up through a store with the default timeout.
    let other = PostgresStore::open(schema.config()).await.unwrap();
    other.put("locked", vec![1]).await.unwrap();
    let store = PostgresStore::open(schema.config().timeout(timeout).pool_size(1))
        .await
        .unwrap();
    // Another session holds the row's lock in an open transaction.
    let mut holder = other.database().client("holder").await.unwrap();
    let transaction = holder.transaction().await.unwrap();
    transaction
        .execute(
            &format!(
                "SELECT 1 FROM {}.foundation_state WHERE key = $1 FOR UPDATE",
                other.database().quoted_schema()
            ),
            &[&b"locked".as_slice()],
        )
        .await
        .unwrap();

    let error = store.put("locked", vec![2]).await.unwrap_err();
    assert!(
        matches!(&error, StoreError::Timeout { key, after } if key == "locked" && *after == timeout),
        "{error:?}"
    );
    assert!(error.is_transient());
    transaction.rollback().await.unwrap();
    // Nothing was written, and the store goes on once the lock is gone.
    assert_eq!(store.get("locked").await.unwrap().unwrap().value, [1]);
    store.put("locked", vec![3]).await.unwrap();
    drop((holder, other, store));
    schema.drop_schema().await;
}
