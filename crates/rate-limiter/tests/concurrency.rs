//! The origin system's test, made harsher: 200 concurrent requests against a
//! limit of 100 admit exactly 100, on OS threads and on a tokio runtime,
//! 1,000 times over, for both algorithms.

use std::{
    sync::{Arc, Barrier},
    time::Duration,
};

use foundation_rate_limiter::{Config, DirectLimiter, RateLimiter};

const LIMIT: u32 = 100;
const REQUESTS: usize = 200;
const ROUNDS: u64 = 1_000;

fn configs() -> [Config; 2] {
    [
        Config::fixed_window(LIMIT, Duration::from_secs(60)),
        Config::gcra(LIMIT, Duration::from_secs(60)),
    ]
}

/// Two OS threads, started together each round, each send half the requests
/// for the round's fresh key.
fn two_threads(limiter: &RateLimiter<u64>) {
    let start = Barrier::new(2);
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..2)
            .map(|_| {
                scope.spawn(|| {
                    let mut admitted = Vec::with_capacity(ROUNDS as usize);
                    for round in 0..ROUNDS {
                        start.wait();
                        admitted.push(
                            (0..REQUESTS / 2)
                                .filter(|_| limiter.check(&round).is_allowed())
                                .count(),
                        );
                    }
                    admitted
                })
            })
            .collect();
        let per_thread: Vec<Vec<usize>> = workers.into_iter().map(|w| w.join().unwrap()).collect();
        for (round, (first, second)) in per_thread[0].iter().zip(&per_thread[1]).enumerate() {
            assert_eq!(first + second, LIMIT as usize, "round {round}");
        }
    });
    assert_eq!(
        limiter.denied(),
        ROUNDS * (REQUESTS as u64 - u64::from(LIMIT))
    );
}

#[test]
fn two_os_threads_admit_exactly_the_limit_a_thousand_times() {
    for config in configs() {
        two_threads(&RateLimiter::new(config).unwrap());
    }
}

#[test]
fn two_os_threads_on_a_direct_limiter_admit_exactly_the_limit() {
    for config in configs() {
        // A fresh limiter per round; the same two threads for every round.
        let limiters: Vec<DirectLimiter> = (0..ROUNDS)
            .map(|_| DirectLimiter::new(config).unwrap())
            .collect();
        let start = Barrier::new(2);
        let admitted: Vec<Vec<usize>> = std::thread::scope(|scope| {
            let workers: Vec<_> = (0..2)
                .map(|_| {
                    scope.spawn(|| {
                        limiters
                            .iter()
                            .map(|limiter| {
                                start.wait();
                                (0..REQUESTS / 2)
                                    .filter(|_| limiter.check().is_allowed())
                                    .count()
                            })
                            .collect()
                    })
                })
                .collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        for (round, limiter) in limiters.iter().enumerate() {
            assert_eq!(
                admitted[0][round] + admitted[1][round],
                LIMIT as usize,
                "round {round}"
            );
            assert_eq!(limiter.denied(), REQUESTS as u64 - u64::from(LIMIT));
        }
    }
}

#[test]
fn two_hundred_tokio_tasks_admit_exactly_the_limit_a_thousand_times() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap();
    for config in configs() {
        let limiter = Arc::new(RateLimiter::<u64>::new(config).unwrap());
        runtime.block_on(async {
            for round in 0..ROUNDS {
                let mut tasks = tokio::task::JoinSet::new();
                for _ in 0..REQUESTS {
                    let limiter = Arc::clone(&limiter);
                    tasks.spawn(async move { limiter.check(&round).is_allowed() });
                }
                let admitted = tasks.join_all().await.into_iter().filter(|a| *a).count();
                assert_eq!(admitted, LIMIT as usize, "round {round}");
            }
        });
        assert_eq!(
            limiter.denied(),
            ROUNDS * (REQUESTS as u64 - u64::from(LIMIT))
        );
    }
}
