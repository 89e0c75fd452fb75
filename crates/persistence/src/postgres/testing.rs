//! For tests that need a PostgreSQL server: the server's URL from the environment, a schema of its own per test, and a clear skip when there is none.
//!
//! A test asks [`TestSchema::create`] for a schema in the database named
//! by `FOUNDATION_TEST_POSTGRES_URL`. Without that variable it gets `None`
//! and returns early; the skip is written to the terminal (past the test
//! harness's capture) with the one command that runs it for real:
//! `bash .ci/postgres cargo test ...`, which starts a local server.
//! With `FOUNDATION_REQUIRE_POSTGRES=1` (set by that script and by CI) a
//! missing URL fails the test instead, so a CI run cannot pass by
//! skipping.

use std::{
    io::Write,
    sync::{
        OnceLock,
        atomic::{AtomicU32, Ordering},
    },
};

use super::{Postgres, PostgresConfig};

/// The variable that holds the test database's URL.
pub const URL_VAR: &str = "FOUNDATION_TEST_POSTGRES_URL";
/// The variable that turns a missing URL into a failure.
pub const REQUIRE_VAR: &str = "FOUNDATION_REQUIRE_POSTGRES";

/// The test database's URL, or `None` after saying that `test` is skipped.
///
/// # Panics
///
/// When there is no URL but `FOUNDATION_REQUIRE_POSTGRES` is set: the
/// run asked for PostgreSQL tests, so a skip would be a silent pass.
pub fn url(test: &str) -> Option<String> {
    if let Some(url) = std::env::var(URL_VAR).ok().filter(|url| !url.is_empty()) {
        return Some(url);
    }
    let required = std::env::var(REQUIRE_VAR).is_ok_and(|value| !value.is_empty() && value != "0");
    assert!(
        !required,
        "{test} needs PostgreSQL: {REQUIRE_VAR} is set but {URL_VAR} is not (run the tests through `bash .ci/postgres cargo test ...`)"
    );
    static EXPLAINED: OnceLock<()> = OnceLock::new();
    // Straight to the terminal: the harness captures `eprintln!` of
    // passing tests, and a skip must be seen.
    let mut stderr = std::io::stderr().lock();
    EXPLAINED.get_or_init(|| {
        let _unseen = writeln!(
            stderr,
            "note: PostgreSQL tests are skipped: {URL_VAR} is not set. To run them, with a local server started for you:\n      bash .ci/postgres cargo test -p foundation-persistence -p foundation-dead-letter"
        );
    });
    let _unseen = writeln!(stderr, "skipped (no PostgreSQL): {test}");
    None
}

/// A schema of its own for one test, in the test database: tests run in
/// parallel, and in later runs, without seeing each other's tables.
#[derive(Debug)]
pub struct TestSchema {
    config: PostgresConfig,
}

impl TestSchema {
    /// A fresh schema name for `test` (nothing is created until a store
    /// opens on it), or `None` if PostgreSQL tests are skipped (see
    /// [`url`]).
    ///
    /// # Panics
    ///
    /// If the URL does not parse, or, as [`url`], when PostgreSQL is
    /// required but not configured.
    pub fn create(test: &str) -> Option<Self> {
        let url = url(test)?;
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let short: String = test
            .rsplit("::")
            .next()
            .unwrap_or(test)
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() {
                    c.to_ascii_lowercase()
                } else {
                    '_'
                }
            })
            .take(32)
            .collect();
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.subsec_nanos());
        let name = format!(
            "t_{short}_{}_{}_{nanos}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let config = PostgresConfig::new(&url)
            .unwrap_or_else(|error| panic!("{URL_VAR}: {error}"))
            .schema(name.chars().take(63).collect::<String>());
        Some(Self { config })
    }

    /// The configuration of the test's schema.
    pub fn config(&self) -> PostgresConfig {
        self.config.clone()
    }

    /// Drops the schema and everything in it. A test that fails before
    /// this leaves its schema behind, to look at.
    ///
    /// # Panics
    ///
    /// If the server cannot be reached or refuses.
    pub async fn drop_schema(self) {
        let database = Postgres::connect(self.config.clone())
            .await
            .unwrap_or_else(|error| panic!("dropping the test schema: {error}"));
        let client = database
            .client("drop schema")
            .await
            .unwrap_or_else(|error| panic!("dropping the test schema: {error}"));
        client
            .batch_execute(&format!(
                "DROP SCHEMA IF EXISTS {} CASCADE",
                database.quoted_schema()
            ))
            .await
            .unwrap_or_else(|error| panic!("dropping the test schema: {error}"));
    }
}
