//! The signal router's behaviour, one file per feature (support.rs holds the test actors).

mod router {
    mod concurrency;
    mod lifecycle;
    mod matching;
    mod overflow;
    mod queue;
    mod restart;
    mod route_sync;
    mod support;
}
