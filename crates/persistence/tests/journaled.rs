//! Behaviour of event-sourced actors: replay, snapshots and compaction, atomic appends, corrupt events, migrations, fencing, preloaded recoveries.

mod journaled {
    pub(crate) mod support;

    mod failures;
    mod recovery;
    mod snapshots;
}
