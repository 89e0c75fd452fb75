//! Behaviour of persistent actors: recovery, save policies, surfaced failures, migrations.

mod persistent {
    pub(crate) mod support;

    mod dirty;
    mod failures;
    mod policies;
    mod recovery;
    mod restart;
}
