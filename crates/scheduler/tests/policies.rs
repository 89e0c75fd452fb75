//! The misfire policies after a restart on the same store, and the overlap
//! policies while a delivery is still going. Paused time throughout: the
//! "downtime" is tokio's clock moved while no scheduler runs.

#[path = "support/recorder.rs"]
mod support;

use std::time::Duration;

use foundation_persistence::{MemoryStore, Store};
use foundation_scheduler::{Config, Job, Misfire, Overlap, Scheduler, TokioClock};
use foundation_supervised_send::SendOptions;
use support::{
    Hold, Msg, acked_target, advance_by, arrivals, recorder, settle, stop_scheduler, target,
};

const STEP: Duration = Duration::from_millis(100);

/// Schedules a one-second fixed-rate job with `misfire`, stops the
/// scheduler half a second in, keeps it down for ten seconds (ticks 1 to
/// 10 missed), starts another on the same store and returns the arrival
/// times (ms) of everything delivered by 12.6 s, and the new scheduler's
/// stats.
async fn down_for_ten_ticks(misfire: Misfire) -> (Vec<u128>, foundation_scheduler::Stats) {
    let inbox = recorder(Hold::No).await;
    let store = Store::new(MemoryStore::new());
    let clock = TokioClock::new();
    let config = Config::new(target(&inbox))
        .store(store, "jobs/")
        .clock(clock)
        .misfire_threshold(Duration::from_millis(100));
    let (first, _actor) = Scheduler::start(config.clone()).await.unwrap();
    first
        .schedule(
            Job::fixed_rate("beat", Duration::from_secs(1), "beat".to_string()).misfire(misfire),
        )
        .await
        .unwrap();
    advance_by(Duration::from_millis(500), STEP).await;
    stop_scheduler(&first).await;

    tokio::time::advance(Duration::from_secs(10)).await; // down: 0.5 s to 10.5 s
    let (second, _actor) = Scheduler::start(config).await.unwrap();
    settle().await;
    advance_by(Duration::from_millis(2_100), STEP).await;
    (arrivals(&inbox).await, second.stats().await.unwrap())
}

#[tokio::test(start_paused = true)]
async fn fire_once_delivers_one_message_for_all_missed_ticks_then_keeps_the_grid() {
    let (arrivals, stats) = down_for_ten_ticks(Misfire::FireOnce).await;
    assert_eq!(arrivals, [10_500, 11_000, 12_000]);
    assert_eq!((stats.loaded, stats.misfired, stats.skipped), (1, 1, 9));
}

#[tokio::test(start_paused = true)]
async fn fire_all_delivers_each_missed_tick_up_to_its_cap() {
    let (arrivals, stats) = down_for_ten_ticks(Misfire::FireAll { cap: 4 }).await;
    assert_eq!(arrivals, [10_500, 10_500, 10_500, 10_500, 11_000, 12_000]);
    assert_eq!(stats.skipped, 6, "ten missed, four delivered");
}

#[tokio::test(start_paused = true)]
async fn skip_delivers_nothing_for_missed_ticks_and_waits_for_the_next() {
    let (arrivals, stats) = down_for_ten_ticks(Misfire::Skip).await;
    assert_eq!(arrivals, [11_000, 12_000]);
    assert_eq!(stats.skipped, 10);
}

#[tokio::test(start_paused = true)]
async fn a_one_shot_job_that_misfires_under_skip_is_dropped_and_under_fire_once_fires() {
    let inbox = recorder(Hold::No).await;
    let store = Store::new(MemoryStore::new());
    let config = Config::new(target(&inbox))
        .store(store, "jobs/")
        .clock(TokioClock::new());
    let (first, _actor) = Scheduler::start(config.clone()).await.unwrap();
    let once = |key: &str, misfire| {
        Job::after(key, Duration::from_secs(1), key.to_string()).misfire(misfire)
    };
    first
        .schedule(once("skipped", Misfire::Skip))
        .await
        .unwrap();
    first
        .schedule(once("fired", Misfire::FireOnce))
        .await
        .unwrap();
    stop_scheduler(&first).await;

    tokio::time::advance(Duration::from_secs(60)).await;
    let (second, _actor) = Scheduler::start(config).await.unwrap();
    settle().await;
    let seen: Vec<String> = support::seen(&inbox)
        .await
        .into_iter()
        .map(|(_, key)| key)
        .collect();
    assert_eq!(seen, ["fired"]);
    assert!(
        second.keys().await.unwrap().is_empty(),
        "both one-shot jobs are done"
    );
}

/// A one-second fixed-rate job whose first delivery is acknowledged only
/// at 3.5 s; returns the arrival times (ms) by 4.5 s.
async fn first_delivery_held_until_3500(overlap: Overlap) -> Vec<u128> {
    let inbox = recorder(Hold::FirstUntilReleased).await;
    let config = Config::acked(acked_target(&inbox))
        .send_options(SendOptions::new().timeout(Duration::from_secs(30)))
        .clock(TokioClock::new());
    let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
    scheduler
        .schedule(
            Job::fixed_rate("beat", Duration::from_secs(1), "beat".to_string()).overlap(overlap),
        )
        .await
        .unwrap();
    advance_by(Duration::from_millis(3_500), STEP).await;
    inbox.cast(Msg::Release).await.unwrap();
    settle().await;
    advance_by(Duration::from_secs(1), STEP).await;
    arrivals(&inbox).await
}

#[tokio::test(start_paused = true)]
async fn overlap_skip_drops_the_ticks_that_come_while_a_delivery_is_still_going() {
    assert_eq!(
        first_delivery_held_until_3500(Overlap::Skip).await,
        [1_000, 4_000]
    );
}

#[tokio::test(start_paused = true)]
async fn overlap_buffer_one_keeps_one_tick_for_when_the_delivery_finishes() {
    assert_eq!(
        first_delivery_held_until_3500(Overlap::BufferOne).await,
        [1_000, 3_500, 4_000]
    );
}

#[tokio::test(start_paused = true)]
async fn overlap_allow_all_delivers_every_tick_alongside_the_running_one() {
    assert_eq!(
        first_delivery_held_until_3500(Overlap::AllowAll).await,
        [1_000, 2_000, 3_000, 4_000]
    );
}
