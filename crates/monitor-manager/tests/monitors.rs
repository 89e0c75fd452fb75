//! Monitors, links and the registry, against real actors.

mod monitors {
    pub(crate) mod support;

    mod dead_runtime;
    mod down;
    mod links;
    mod registry;
}
