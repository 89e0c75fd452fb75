//! Behaviour of event-sourced actors: replay, snapshots and compaction, atomic appends, corrupt events, migrations, fencing.

mod journaled {
    pub(crate) mod support;

    mod failures;
    mod recovery;
    mod snapshots;
}
