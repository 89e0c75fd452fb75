//! The supervisor against OTP's rules, one test per rule: each records the
//! order children start and stop in, and waits on events, exits and
//! replies, never on time.

mod supervisor {
    pub(crate) mod support;

    mod child_ref;
    mod dynamic;
    mod escalation;
    mod leaks;
    mod lifecycle;
    mod operations;
    mod restart_types;
    mod retries;
    mod root;
    mod start_failures;
    mod start_outcomes;
    mod strategies;
}
