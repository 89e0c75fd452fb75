//! Tour stop: a burst against an exact rate limiter admits exactly the limit.

use std::{sync::Barrier, thread, time::Duration};

use foundation::rate_limiter::{Config, Decision, Registry};

/// 150 requests from 2 threads against a limit of 100 per minute: exactly 100
/// get through, and a denied one says when to retry.
pub(crate) fn run() {
    println!("== Rate limiter: exact under any concurrency, never 101 out of 100");
    let limiters = Registry::<String>::new();
    let api = limiters
        .register("api", Config::gcra(100, Duration::from_secs(60)))
        .expect("a limit of 100 per minute is a valid configuration");

    let start = Barrier::new(2);
    let admitted: usize = thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    start.wait();
                    (0..75)
                        .filter(|_| api.check("client-42").is_allowed())
                        .count()
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|worker| worker.join().expect("a tour thread panicked"))
            .sum()
    });
    println!(
        "  150 requests at once from 2 threads, limit 100 a minute: {admitted} admitted, {} denied",
        api.denied()
    );

    if let Decision::Denied { retry_after } = api.check("client-42") {
        println!("  the next request is denied, with when to retry: after {retry_after:?}");
    }
}
