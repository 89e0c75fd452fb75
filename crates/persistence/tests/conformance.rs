//! One conformance suite, every backend: what a `StateStore` and a `Journal` promise, checked the same way on the memory store, redb and PostgreSQL.
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
    pub(crate) mod journal;
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
            conformance!(@journal $backend;
                appends_are_numbered_from_one_without_gaps,
                a_stale_append_is_a_conflict_naming_the_head,
                racing_appends_on_one_id_have_exactly_one_winner,
                a_snapshot_compacts_and_recovery_is_snapshot_plus_tail,
                journals_survive_reopening,
                many_recoveries_at_once_each_get_their_own,
                a_bulk_recovery_of_any_order_and_spacing_equals_each_recovery,
                bad_ids_are_typed_errors,
                concurrent_appends_to_many_journals_land_in_order,
                an_actor_replays_snapshot_and_events_after_a_kill,
                a_corrupt_event_is_a_typed_error_that_loses_nothing_before_it,
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
    (@journal $backend:ty; $($case:ident),* $(,)?) => {
        mod journal {
            use super::*;

            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $case() {
                    let test = concat!(module_path!(), "::", stringify!($case));
                    let Some(mut backend) = <$backend>::open(test).await else {
                        return;
                    };
                    conformance::journal::$case(&mut backend).await;
                    backend.finish().await;
                }
            )*
        }
    };
}

conformance!(memory, MemoryBackend);
conformance!(redb, RedbBackend);
conformance!(postgres, PostgresBackend);
