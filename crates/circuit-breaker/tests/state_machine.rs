//! Random sequences of every event a breaker sees, with its invariants
//! checked after each one: above all, the breaker never sits closed (or
//! disabled) with a buffer it will not drain, and messages come out in the
//! order they went in (the origin system's bug was a reset to closed that
//! left its buffer stuck).

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use foundation_circuit_breaker::{
    CircuitBreaker, Config, Drain, ManualClock, Permit, State, Window,
};

/// xorshift64: the test's own seeded generator, so a failing seed replays.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

const DRAIN_INTERVAL: Duration = Duration::from_millis(10);

fn config(seed: u64) -> Config {
    Config {
        window: if seed.is_multiple_of(2) {
            Window::Count(5)
        } else {
            Window::Time(Duration::from_secs(1))
        },
        minimum_calls: 3,
        failure_rate: 0.5,
        slow_call_rate: 0.5,
        slow_call_threshold: Duration::from_millis(100),
        half_open_probes: 2,
        open_base: Duration::from_millis(200),
        open_multiplier: 2,
        open_max: Duration::from_secs(2),
        jitter: 0.1,
        jitter_seed: seed,
        buffer_capacity: 4,
        drain_interval: DRAIN_INTERVAL,
    }
}

/// What the model saw leave the breaker, to check order and conservation.
#[derive(Default)]
struct Ledger {
    offered: u64,
    delivered: Vec<u64>,
    refused: u64,
    dropped: Arc<Mutex<Vec<u64>>>,
}

fn run(seed: u64, steps: usize, seen: &mut HashSet<(State, State)>) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let clock = ManualClock::new();
    let ledger = &mut Ledger::default();
    let drop_oldest = seed.is_multiple_of(3);
    let mut breaker = CircuitBreaker::<u64>::new(config(seed))
        .unwrap()
        .with_clock(clock.clone());
    if drop_oldest {
        let dropped = Arc::clone(&ledger.dropped);
        breaker = breaker.drop_oldest(move |message| dropped.lock().unwrap().push(message));
    }
    let mut changes = breaker.subscribe();
    let mut permits: Vec<Permit<'_, u64>> = Vec::new();
    let mut before = breaker.state();

    for step in 0..steps {
        let event = rng.below(100);
        match event {
            // A call starts.
            0..=24 => {
                if let Ok(permit) = breaker.try_acquire() {
                    permits.push(permit);
                }
            }
            // A call ends: success, failure, slow success.
            25..=44 if !permits.is_empty() => {
                let permit = permits.swap_remove(rng.below(permits.len() as u64) as usize);
                match rng.below(3) {
                    0 => permit.success(),
                    1 => permit.failure(),
                    _ => {
                        clock.advance(Duration::from_millis(150));
                        permit.success();
                    }
                }
            }
            // A call is cancelled.
            45..=47 if !permits.is_empty() => {
                drop(permits.swap_remove(rng.below(permits.len() as u64) as usize));
            }
            // Time passes.
            48..=59 => clock.advance(Duration::from_millis(rng.below(400))),
            // A message is offered.
            60..=74 => {
                let message = ledger.offered;
                ledger.offered += 1;
                match breaker.offer(message) {
                    Ok(Some(now)) => ledger.delivered.push(now),
                    Ok(None) => {}
                    Err(full) => {
                        assert!(
                            !drop_oldest,
                            "seed {seed} step {step}: drop-oldest never refuses"
                        );
                        assert_eq!(full.into_inner(), message);
                        ledger.refused += 1;
                    }
                }
            }
            // The drainer asks.
            75..=89 => {
                if let Drain::Ready(message) = breaker.poll_drain() {
                    ledger.delivered.push(message);
                }
            }
            // Operators.
            90..=92 => breaker.force_open(),
            93..=94 => breaker.disable(),
            95..=97 => breaker.reset(),
            _ => breaker.trip(),
        }

        let after = breaker.state();
        seen.insert((before, after));
        check(seed, step, &breaker, &mut changes, ledger, after);
        before = after;
    }
    drop(permits);
}

fn check(
    seed: u64,
    step: usize,
    breaker: &CircuitBreaker<u64>,
    changes: &mut tokio::sync::watch::Receiver<State>,
    ledger: &mut Ledger,
    state: State,
) {
    let at = format!("seed {seed} step {step} state {state}");
    let buffered = breaker.buffered();
    assert!(buffered <= 4, "{at}: buffer over capacity ({buffered})");

    // Subscribers see the state the breaker is in.
    assert_eq!(
        *changes.borrow_and_update(),
        state,
        "{at}: subscription lags"
    );

    // The invariant: draining states drain. A non-empty buffer in a
    // draining state has a message ready now or within one interval.
    if state.drains() && buffered > 0 {
        match breaker.poll_drain() {
            Drain::Ready(message) => ledger.delivered.push(message),
            Drain::Wait(wait) => {
                assert!(wait <= DRAIN_INTERVAL, "{at}: drain deferred {wait:?}")
            }
            other => panic!("{at}: closed with {buffered} buffered, drain says {other:?}"),
        }
    }
    if !state.drains() && buffered > 0 {
        assert_eq!(breaker.poll_drain(), Drain::Held(state), "{at}");
    }

    // In order, nothing lost, nothing twice.
    assert!(
        ledger.delivered.windows(2).all(|pair| pair[0] < pair[1]),
        "{at}: out of order: {:?}",
        ledger.delivered
    );
    let dropped = ledger.dropped.lock().unwrap().len() as u64;
    let accounted =
        ledger.delivered.len() as u64 + ledger.refused + dropped + breaker.buffered() as u64;
    assert_eq!(
        accounted, ledger.offered,
        "{at}: messages lost or duplicated"
    );
    let stats = breaker.stats();
    assert_eq!(stats.dropped, dropped, "{at}");
    assert_eq!(stats.refused, ledger.refused, "{at}");
}

#[test]
fn random_event_sequences_keep_every_invariant() {
    let mut seen = HashSet::new();
    for seed in 1..=300 {
        run(seed, 400, &mut seen);
    }
    // Every transition the breaker can make was exercised.
    use State::*;
    let expected = [
        (Closed, Open),
        (Open, HalfOpen),
        (HalfOpen, Closed),
        (HalfOpen, Open),
        (Closed, ForcedOpen),
        (Open, ForcedOpen),
        (HalfOpen, ForcedOpen),
        (ForcedOpen, Closed),
        (ForcedOpen, Disabled),
        (ForcedOpen, Open),
        (Disabled, Closed),
        (Disabled, ForcedOpen),
        (Disabled, Open),
        (Closed, Disabled),
        (Open, Disabled),
        (HalfOpen, Disabled),
        (Open, Closed),
        (HalfOpen, HalfOpen),
    ];
    let missing: Vec<_> = expected
        .iter()
        .filter(|pair| !seen.contains(pair))
        .collect();
    assert!(
        missing.is_empty(),
        "transitions never exercised: {missing:?}"
    );
}
