//! Runs one process-core operation N times, for counting instructions
//! instead of timing them: `valgrind --tool=callgrind` gives the same count
//! on a busy machine, so a change's cost can be measured where wall-clock
//! benchmarks are too noisy. Run it at two values of N and divide the
//! difference by the difference in N to cancel the start-up cost:
//!
//! ```sh
//! cargo build --release -p foundation-benches --example instructions
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/examples/instructions call 20000
//! ```
//!
//! Operations: `cast` (N casts, then one call), `call` (N sequential calls),
//! `tokio-cast` and `tokio-call` (their floors, the `process` bench's
//! workloads),
//! `start-stop` (N actors started and stopped), `plain-start` and
//! `dynamic-start` (N actors started, by `start` or by a dynamic
//! supervisor's `start_child`, then all stopped: the `supervision` bench's
//! dynamic-start workload), `start-ratio` (N rounds of each of those
//! two, 10,000 starts a round, alternated in one process; prints the
//! median time per start of each and their ratio: the same comparison as
//! the bench, with both sides sharing one heap and one stretch of
//! machine time), `restart` (N supervised
//! restarts, the `supervision` bench's workload), `kameo-restart` (the
//! same through kameo's supervision), `panic` (N bare panics,
//! each caught by `catch_unwind`: the part of a restart no framework can
//! remove), `ring` (a token passed N
//! hops around a ring of 1,000 actors), `mixed-ring` (the same through
//! actors of two types taking turns) and `tokio-ring` (its floor, a ring
//! of tokio tasks), all on a one-thread runtime (two workers with
//! `FOUNDATION_FLAVOR=multi_thread` in the environment)
//! from a task, as the criterion benches drive them. A third argument,
//! `subscribed`, installs a subscriber at WARN first, which disables the
//! `foundation::actor` spans (INFO): the cost of spans nobody wants;
//! `timed` prints the operation's wall time in nanoseconds instead, for
//! timing builds against each other outside criterion (the least of many
//! runs is the figure a busy machine disturbs least).

use std::time::{Duration, Instant};

use foundation_benches::{
    foundation_counter::Counter, on_task, restarts, ring, runtime, workloads,
};
use foundation_mailbox::{ExitReason, start};

const PATIENCE: Duration = Duration::from_secs(30);

async fn run(operation: String, count: u64) {
    match operation.as_str() {
        "cast" => workloads::foundation_casts(count).await,
        "call" => workloads::foundation_round_trips(count).await,
        "tokio-cast" => workloads::tokio_casts(count).await,
        "tokio-call" => workloads::tokio_round_trips(count).await,
        "restart" => {
            let tree = restarts::start_tree().await;
            for _ in 0..count {
                restarts::restart(&tree).await;
            }
            tree.shutdown(PATIENCE).await.unwrap();
        }
        "kameo-restart" => {
            let (parent, child) = restarts::kameo::start().await;
            for _ in 0..count {
                restarts::kameo::restart(&child).await;
            }
            restarts::kameo::stop(parent).await;
        }
        "start-stop" => {
            for _ in 0..count {
                let (counter, _handle) = start::<Counter>(()).await.unwrap();
                counter.stop(ExitReason::Normal, PATIENCE).await.unwrap();
            }
        }
        "plain-start" => {
            restarts::plain_starts(count as usize).await;
        }
        "dynamic-start" => {
            restarts::dynamic_starts(count as usize).await;
        }
        "start-ratio" => {
            let (mut plain, mut dynamic) = (Vec::new(), Vec::new());
            for _ in 0..count.max(1) {
                plain.push(restarts::plain_starts(10_000).await.as_nanos() / 10_000);
                dynamic.push(restarts::dynamic_starts(10_000).await.as_nanos() / 10_000);
            }
            plain.sort();
            dynamic.sort();
            let (p, d) = (plain[plain.len() / 2], dynamic[dynamic.len() / 2]);
            println!(
                "plain {p} ns, dynamic {d} ns, ratio {:.2} (min {} / {})",
                d as f64 / p as f64,
                plain[0],
                dynamic[0]
            );
        }
        "ring" => {
            let ring = ring::foundation_ring::start(1000, 1024).await;
            ring::foundation_ring::lap(&ring, count).await;
        }
        "mixed-ring" => {
            let ring = ring::foundation_mixed_ring::start(1000, 1024).await;
            ring::foundation_mixed_ring::lap(&ring, count).await;
        }
        "panic" => {
            // The part of a restart that is not the framework's: one panic
            // caught by `catch_unwind`, as a crashing handler's is.
            for round in 0..count {
                let caught = std::panic::catch_unwind(|| crash(round));
                assert!(caught.is_err(), "the panic is caught");
            }
        }
        "tokio-ring" => {
            let first = ring::tokio_ring::start(1000, 1024);
            ring::tokio_ring::lap(&first, count).await;
        }
        other => panic!(
            "unknown operation {other}: cast, call, tokio-cast, tokio-call, start-stop, plain-start, dynamic-start, start-ratio, restart, kameo-restart, panic, ring, mixed-ring or tokio-ring"
        ),
    }
}

/// Panics, as the restart workload's child does; `round` keeps the call
/// from being folded away.
#[inline(never)]
fn crash(round: u64) -> u64 {
    if round < u64::MAX {
        panic!("crash on purpose");
    }
    round
}

fn main() {
    let mut args = std::env::args().skip(1);
    let operation = args.next().unwrap_or_else(|| "call".to_owned());
    let count: u64 = args.next().and_then(|n| n.parse().ok()).unwrap_or(10_000);
    let mode = args.next();
    if mode.as_deref() == Some("subscribed") {
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::WARN)
            .init();
    }
    // `FOUNDATION_FLAVOR=multi_thread` times the two-worker runtime instead.
    let flavor = std::env::var("FOUNDATION_FLAVOR").unwrap_or_else(|_| "current_thread".to_owned());
    let runtime = runtime(&flavor);
    // From a task, as the benches drive every contender.
    let began = Instant::now();
    // A panic message printed per restart would cost more than the restart.
    std::panic::set_hook(Box::new(|_| {}));
    on_task(&runtime, run(operation, count));
    if mode.as_deref() == Some("timed") {
        println!("{}", began.elapsed().as_nanos());
    }
}
