//! Behaviour of the task supervisor: spawn, async_nolink, async_stream, and
//! no orphans when it stops.

mod task {
    pub(crate) mod support;

    mod nolink;
    mod orphans;
    mod spawn;
    mod stream;
}
