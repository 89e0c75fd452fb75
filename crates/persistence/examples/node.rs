//! One node of the two-node test, to run by hand: write-through persistent counters under a supervisor, on PostgreSQL or redb, driven line by line on stdin.
//!
//! ```sh
//! export FOUNDATION_NODE_STORE=postgres:$(bash .ci/postgres)   # or redb:/tmp/node.redb
//! FOUNDATION_NODE_NAME=node-a cargo run -p foundation-persistence --example node
//! inc 0      # -> ack 0 1, once durable
//! get 1      # -> value 1 0
//! ```
//!
//! Start a second one in another terminal (`FOUNDATION_NODE_NAME=node-b`):
//! it recovers the same counters. Increment a counter on the second, then
//! on the first: the first one's save loses the compare-and-set
//! (`fenced 0 stopped`) and its supervisor stops that counter. The
//! protocol is in `tests/support/node.rs`, the code both share.

// The tests' half of the node (settings passed to child processes) is not
// used here.
#[allow(dead_code)]
#[path = "../tests/support/node.rs"]
mod node;

fn main() {
    let Some(settings) = node::Settings::from_env() else {
        eprintln!(
            "set {}=postgres:<url> (schema in {}, default `foundation`) or redb:<path>; {} counters by default 4",
            node::STORE_VAR,
            node::SCHEMA_VAR,
            node::COUNTERS_VAR
        );
        std::process::exit(2);
    };
    node::run(&settings);
}
