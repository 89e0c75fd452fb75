//! Tour stop: a burst against an exact rate limiter admits exactly the limit.

use std::{
    sync::{
        Barrier,
        atomic::{AtomicUsize, Ordering},
    },
    thread,
    time::Duration,
};

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
    let admitted = AtomicUsize::new(0);
    // The scope ends when both threads have sent their 75 requests.
    thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                start.wait();
                let mine = (0..75)
                    .filter(|_| api.check("client-42").is_allowed())
                    .count();
                admitted.fetch_add(mine, Ordering::Relaxed);
            });
        }
    });
    let admitted = admitted.into_inner();
    println!(
        "  150 requests at once from 2 threads, limit 100 a minute: {admitted} admitted, {} denied",
        api.denied()
    );

    if let Decision::Denied { retry_after } = api.check("client-42") {
        // Rounded up to a tenth of a second, so the tour prints the same every run.
        let tenths = retry_after.as_millis().div_ceil(100);
        println!(
            "  the next request is denied, with when to retry: within {}.{} s",
            tenths / 10,
            tenths % 10
        );
    }
}
