//! Behaviour of the process core: mailbox, calls, lifecycle, dead letters.

mod process {
    pub(crate) mod chains;
    pub(crate) mod support;

    mod called;
    mod calls;
    mod dead_letters;
    mod exit_handoff;
    mod exit_hooks;
    mod handoff;
    mod kills;
    mod lifecycle;
    mod mailbox;
    mod ordering;
    mod pipeline;
    mod recipients;
    mod replies;
    mod runtimes;
}
