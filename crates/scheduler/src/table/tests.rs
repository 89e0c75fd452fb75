//! Unit tests of the table (stale heap entries, slot reuse) and of the
//! misfire rule, tick by tick.

use std::{str::FromStr, sync::Arc};

use super::{Firing, Slot, Table, fire};
use crate::{Misfire, Overlap, job::Compiled};

const S: u64 = 1_000_000_000;

fn slot(key: &str, due: u64) -> Slot<()> {
    Slot {
        key: Arc::from(key),
        message: (),
        compiled: Compiled::FixedRate(S),
        next_due: Some(due),
        misfire: Misfire::FireOnce,
        overlap: Overlap::Skip,
        version: None,
        running: 0,
        buffered: false,
        gate: None,
    }
}

#[test]
fn a_removed_job_leaves_only_stale_entries_that_never_fire() {
    let mut table = Table::default();
    table.insert(slot("a", 5 * S));
    table.insert(slot("b", 7 * S));
    assert!(table.remove("a").is_some());
    // Its slot is reused by a new job with a later due time.
    let c = table.insert(slot("c", 9 * S));
    assert_eq!(c.slot, 0, "the freed slot is reused");
    assert_eq!(table.earliest(), Some(7 * S), "a's entry is stale");
    let (first, due) = table.pop_due(10 * S).unwrap();
    assert_eq!(due, 7 * S);
    assert_ne!(first, c);
    assert_eq!(table.pop_due(10 * S), Some((c, 9 * S)));
    assert_eq!(table.pop_due(10 * S), None);
}

#[test]
fn on_time_ticks_fire_and_the_grid_goes_on() {
    let firing = fire(&Compiled::FixedRate(S), Misfire::Skip, 5 * S, 5 * S + 10, S);
    assert_eq!(
        firing,
        Firing {
            deliveries: 1,
            skipped: 0,
            misfired: false,
            next: Some(6 * S),
        }
    );
}

#[test]
fn each_misfire_policy_counts_ten_missed_ticks_its_own_way() {
    // Ticks due at 1 s … 10 s, found at 10.5 s with a 100 ms threshold.
    let now = 10 * S + S / 2;
    let threshold = S / 10;
    let rate = Compiled::FixedRate(S);
    let once = fire(&rate, Misfire::FireOnce, S, now, threshold);
    assert_eq!(
        (once.deliveries, once.skipped, once.next),
        (1, 9, Some(11 * S))
    );
    let all = fire(&rate, Misfire::FireAll { cap: 4 }, S, now, threshold);
    assert_eq!((all.deliveries, all.skipped), (4, 6));
    let all_under_cap = fire(&rate, Misfire::FireAll { cap: 100 }, S, now, threshold);
    assert_eq!((all_under_cap.deliveries, all_under_cap.skipped), (10, 0));
    let skip = fire(&rate, Misfire::Skip, S, now, threshold);
    assert_eq!(
        (skip.deliveries, skip.skipped, skip.misfired),
        (0, 10, true)
    );
}

#[test]
fn skip_still_delivers_the_tick_that_is_on_time() {
    // Ticks at 1 s … 10 s found at 10.05 s: the one at 10 s is on time.
    let firing = fire(
        &Compiled::FixedRate(S),
        Misfire::Skip,
        S,
        10 * S + S / 20,
        S / 10,
    );
    assert_eq!((firing.deliveries, firing.skipped), (1, 9));
}

#[test]
fn a_cron_job_counts_its_missed_matches() {
    let cron = Compiled::Cron(Box::new(croner::Cron::from_str("*/10 * * * * *").unwrap()));
    // Matches at 10 s … 60 s, found at 65 s.
    let firing = fire(&cron, Misfire::FireAll { cap: 100 }, 10 * S, 65 * S, S);
    assert_eq!((firing.deliveries, firing.next), (6, Some(70 * S)));
}

#[test]
fn a_fixed_delay_job_that_skips_its_misfire_is_armed_one_delay_from_now() {
    let firing = fire(&Compiled::FixedDelay(3 * S), Misfire::Skip, S, 100 * S, S);
    assert_eq!((firing.deliveries, firing.next), (0, Some(103 * S)));
    let fired = fire(
        &Compiled::FixedDelay(3 * S),
        Misfire::FireOnce,
        S,
        100 * S,
        S,
    );
    assert_eq!(
        (fired.deliveries, fired.next),
        (1, None),
        "armed when its delivery ends"
    );
}
