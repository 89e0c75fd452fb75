//! When ticks fire: a delay, a fixed rate against a fixed delay, a cron
//! expression; and bad input refused with a clear error. All under tokio's
//! paused time, read by the scheduler through a `TokioClock`.

#[path = "support/recorder.rs"]
mod support;

use std::time::{Duration, SystemTime};

use foundation_scheduler::{Config, Job, Misfire, ScheduleError, Scheduler, TokioClock};
use foundation_supervised_send::SendOptions;
use support::{Hold, acked_target, advance_by, arrivals, recorder, seen, settle, target};

const MS: Duration = Duration::from_millis(100);

fn options() -> SendOptions {
    SendOptions::new().timeout(Duration::from_secs(30))
}

#[tokio::test(start_paused = true)]
async fn a_delayed_job_fires_once_after_its_delay_and_leaves() {
    let inbox = recorder(Hold::No).await;
    let config = Config::new(target(&inbox)).clock(TokioClock::new());
    let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
    scheduler
        .schedule(Job::after(
            "greet",
            Duration::from_secs(5),
            "hi".to_string(),
        ))
        .await
        .unwrap();

    advance_by(Duration::from_millis(4_900), MS).await;
    assert!(seen(&inbox).await.is_empty(), "nothing before the delay");
    advance_by(Duration::from_secs(3), MS).await;
    let seen = seen(&inbox).await;
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].0, Duration::from_secs(5), "at the delay, not later");
    assert_eq!(seen[0].1, "hi");
    assert_eq!(
        scheduler.job("greet").await.unwrap(),
        None,
        "a one-shot job leaves once done"
    );
    assert_eq!(scheduler.stats().await.unwrap().delivered, 1);
}

#[tokio::test(start_paused = true)]
async fn fixed_rate_keeps_its_grid_while_fixed_delay_counts_from_the_end_of_each_delivery() {
    // Each delivery is acknowledged 300 ms after it arrives.
    let hold = Hold::For(Duration::from_millis(300));
    let rate_inbox = recorder(hold).await;
    let delay_inbox = recorder(hold).await;
    let clock = TokioClock::new();
    let (rate, _a) = Scheduler::start(
        Config::acked(acked_target(&rate_inbox))
            .send_options(options())
            .clock(clock),
    )
    .await
    .unwrap();
    let (delay, _b) = Scheduler::start(
        Config::acked(acked_target(&delay_inbox))
            .send_options(options())
            .clock(clock),
    )
    .await
    .unwrap();
    rate.schedule(Job::fixed_rate(
        "rate",
        Duration::from_secs(1),
        "r".to_string(),
    ))
    .await
    .unwrap();
    delay
        .schedule(Job::fixed_delay(
            "delay",
            Duration::from_secs(1),
            "d".to_string(),
        ))
        .await
        .unwrap();

    advance_by(Duration::from_millis(4_050), Duration::from_millis(50)).await;
    assert_eq!(arrivals(&rate_inbox).await, [1_000, 2_000, 3_000, 4_000]);
    // 1 s, then each 1 s after the previous delivery was acknowledged (+300 ms).
    assert_eq!(arrivals(&delay_inbox).await, [1_000, 2_300, 3_600]);
}

#[tokio::test(start_paused = true)]
async fn a_cron_job_fires_at_the_wall_clock_times_its_expression_names() {
    let inbox = recorder(Hold::No).await;
    // 2026-01-01T00:00:03Z: the next multiples of ten seconds are 7 s, 17 s
    // and 27 s away.
    let wall = SystemTime::UNIX_EPOCH + Duration::from_secs(1_767_225_603);
    let config = Config::new(target(&inbox)).clock(TokioClock::starting_at(wall));
    let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
    scheduler
        .schedule(Job::cron("tens", "*/10 * * * * *", "tick".to_string()))
        .await
        .unwrap();
    let info = scheduler.job("tens").await.unwrap().unwrap();
    assert_eq!(info.next_due, Some(wall + Duration::from_secs(7)));

    advance_by(Duration::from_secs(30), MS).await;
    assert_eq!(arrivals(&inbox).await, [7_000, 17_000, 27_000]);
}

#[tokio::test(start_paused = true)]
async fn bad_input_gets_a_clear_error_and_schedules_nothing() {
    let inbox = recorder(Hold::No).await;
    let (scheduler, _actor) =
        Scheduler::start(Config::new(target(&inbox)).clock(TokioClock::new()))
            .await
            .unwrap();
    let message = || "m".to_string();

    let zero_rate = scheduler
        .schedule(Job::fixed_rate("a", Duration::ZERO, message()))
        .await;
    assert!(
        matches!(zero_rate, Err(ScheduleError::ZeroPeriod { ref key }) if key == "a"),
        "{zero_rate:?}"
    );
    let zero_delay = scheduler
        .schedule(Job::fixed_delay("b", Duration::ZERO, message()))
        .await;
    assert!(
        matches!(zero_delay, Err(ScheduleError::ZeroPeriod { .. })),
        "{zero_delay:?}"
    );

    let bad_cron = scheduler
        .schedule(Job::cron("c", "every tuesday", message()))
        .await;
    let Err(error @ ScheduleError::InvalidCron { .. }) = bad_cron else {
        panic!("{bad_cron:?}");
    };
    assert!(error.to_string().contains("`every tuesday`"), "{error}");

    let never = scheduler
        .schedule(Job::cron("d", "0 0 30 2 *", message()))
        .await;
    assert!(
        matches!(never, Err(ScheduleError::NeverFires { .. })),
        "{never:?}"
    );

    let empty = scheduler
        .schedule(Job::after("", Duration::from_secs(1), message()))
        .await;
    assert!(matches!(empty, Err(ScheduleError::EmptyKey)), "{empty:?}");

    let no_cap = Job::fixed_rate("e", Duration::from_secs(1), message())
        .misfire(Misfire::FireAll { cap: 0 });
    assert!(matches!(
        scheduler.schedule(no_cap).await,
        Err(ScheduleError::ZeroCap { .. })
    ));

    scheduler
        .schedule(Job::after("f", Duration::from_secs(1), message()))
        .await
        .unwrap();
    let twice = scheduler
        .schedule(Job::after("f", Duration::from_secs(2), message()))
        .await;
    let Err(error @ ScheduleError::DuplicateKey { .. }) = twice else {
        panic!("{twice:?}");
    };
    assert_eq!(
        error.to_string(),
        "job `f` is already scheduled; cancel it first to replace it"
    );

    assert_eq!(
        scheduler.keys().await.unwrap(),
        ["f"],
        "only the good job is scheduled"
    );
    settle().await;
}
