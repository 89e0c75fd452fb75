//! One conformance suite, every backend: what a `StateStore` promises, checked the same way on the memory store, redb and PostgreSQL.
//!
//! Each case in `conformance/suite.rs` is written once against the
//! [`Backend`](conformance::backends::Backend) trait; the macro below runs
//! every case on every backend. The PostgreSQL cases need
//! `FOUNDATION_TEST_POSTGRES_URL` (each gets a schema of its own) and say
//! so when it is missing; `bash .ci/postgres cargo test -p
//! foundation-persistence --test conformance` runs them against a local
//! server.

mod conformance {
    pub(crate) mod backends;
    pub(crate) mod suite;
}

use conformance::backends::{Backend, MemoryBackend, PostgresBackend, RedbBackend};

/// Runs every case of the suite on one backend, as a module of tests.
macro_rules! conformance {
    ($module:ident, $backend:ty) => {
        mod $module {
            use super::*;

            conformance!(@cases $backend;
                a_missing_key_reads_as_none,
                put_then_get_returns_the_value_and_its_version,
                versions_grow_and_are_never_reused_across_delete_and_reopen,
                a_stale_compare_and_set_is_a_conflict_naming_the_version_found,
                delete_says_whether_there_was_an_entry,
                lists_by_prefix_in_byte_order,
                bad_keys_are_typed_errors,
                keys_and_values_round_trip_exactly,
                racing_compare_and_sets_have_exactly_one_winner,
                entries_survive_reopening,
                the_erased_store_behaves_the_same,
            );
        }
    };
    (@cases $backend:ty; $($case:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let test = concat!(module_path!(), "::", stringify!($case));
                let Some(mut backend) = <$backend>::open(test).await else {
                    return;
                };
                conformance::suite::$case(&mut backend).await;
                backend.finish().await;
            }
        )*
    };
}

conformance!(memory, MemoryBackend);
conformance!(redb, RedbBackend);
conformance!(postgres, PostgresBackend);
