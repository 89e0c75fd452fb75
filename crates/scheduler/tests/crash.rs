//! The crash test: jobs saved in a redb file survive a SIGKILL of the
//! whole program, and the ticks that came due while it was down fire by
//! each job's misfire policy.
//!
//! The test re-runs its own binary as a node on a redb file. Round 0
//! schedules three one-minute fixed-rate jobs (fire once, fire all capped
//! at 3, skip) and is killed as soon as it says they are saved. Each later
//! node reads the wall clock ten and a half minutes further on than the
//! one before (a clock of its own, so the downtime needs no waiting): ten
//! ticks of each job are missed. It starts a scheduler on the file, prints
//! every message delivered, and once the catch-up is delivered prints the
//! scheduler's counts; the driver kills it there (SIGKILL) and starts the
//! next. Every node after the first must deliver exactly one message for
//! the fire-once job, three for the fire-all job and none for the skip
//! job. `FOUNDATION_CRASH_ROUNDS` sets the rounds (default 4).

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, SystemTime},
};

use foundation_mailbox::{Actor, Context, start};
use foundation_persistence::{RedbStore, Store};
use foundation_scheduler::{Clock, Config, Job, Misfire, Scheduler, Sleep};
use foundation_supervised_send::Target;
use tokio::sync::mpsc;

const TEST_NAME: &str = "missed_ticks_fire_by_their_misfire_policy_after_sigkill";
const NODE_VAR: &str = "FOUNDATION_SCHEDULER_NODE";
/// Ten periods: each node after the first misses ten ticks of each job, as
/// long as the whole test runs within half a period (five minutes) of real
/// time.
const DOWNTIME: Duration = Duration::from_secs(6_000);
const PERIOD: Duration = Duration::from_secs(600);

#[test]
fn missed_ticks_fire_by_their_misfire_policy_after_sigkill() {
    match std::env::var(NODE_VAR) {
        Ok(spec) => node(&spec),
        Err(_) => driver(),
    }
}

/// The system clock, moved forward by a fixed offset: a node started after
/// a long downtime, without waiting for it.
#[derive(Debug)]
struct Later(Duration);

impl Clock for Later {
    fn now(&self) -> SystemTime {
        SystemTime::now() + self.0
    }

    fn sleep_until(&self, deadline: SystemTime) -> Sleep {
        let wait = deadline.duration_since(self.now()).unwrap_or_default();
        // audit:allow(FND006) this is the clock's timer the scheduler waits on, not a test waiting for an event
        Box::pin(tokio::time::sleep_until(tokio::time::Instant::now() + wait))
    }
}

/// Forwards what it receives to the node's printer.
#[derive(Debug)]
struct Printer(mpsc::Sender<String>);

impl Actor for Printer {
    type Args = mpsc::Sender<String>;
    type Msg = String;
    type Error = std::convert::Infallible;

    async fn init(out: mpsc::Sender<String>, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Printer(out))
    }

    async fn handle(&mut self, key: String, _: &mut Context<Self>) -> Result<(), Self::Error> {
        if self.0.send(key).await.is_err() {
            unreachable!("the node reads until it is killed");
        }
        Ok(())
    }
}

fn node(spec: &str) {
    let mut parts = spec.split(' ');
    let round: u32 = parts.next().unwrap().parse().unwrap();
    let dir = PathBuf::from(parts.next().unwrap());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run_node(round, &dir));
}

async fn run_node(round: u32, dir: &Path) {
    let store = RedbStore::open(dir.join("scheduler.redb")).unwrap();
    let (out, mut printed) = mpsc::channel(64);
    let (printer, _handle) = start::<Printer>(out).await.unwrap();
    let config = Config::new(Target::actor(&printer))
        .store(Store::new(store), "jobs/")
        .clock(Later(DOWNTIME * round))
        .misfire_threshold(Duration::from_secs(1));
    let (scheduler, _actor) = Scheduler::start(config).await.unwrap();
    let mut stdout = std::io::stdout().lock();
    // The test harness's "test … ..." has no line end: start a fresh line.
    writeln!(stdout).unwrap();
    if round == 0 {
        for (key, misfire) in [
            ("once", Misfire::FireOnce),
            ("all", Misfire::FireAll { cap: 3 }),
            ("skip", Misfire::Skip),
        ] {
            let job = Job::fixed_rate(key, PERIOD, key.to_string())
                .starting_after(PERIOD / 2)
                .misfire(misfire);
            scheduler.schedule(job).await.unwrap();
        }
        writeln!(stdout, "saved").unwrap();
        stdout.flush().unwrap();
    } else {
        // The catch-up is one wake: four messages, handed out together.
        for _ in 0..4 {
            match tokio::time::timeout(Duration::from_secs(10), printed.recv()).await {
                Ok(Some(key)) => writeln!(stdout, "got {key}").unwrap(),
                _ => break,
            }
        }
        let stats = scheduler.stats().await.unwrap();
        writeln!(
            stdout,
            "caught up {} {} {}",
            stats.loaded, stats.fired, stats.skipped
        )
        .unwrap();
        stdout.flush().unwrap();
    }
    drop(stdout);
    // Waits to be killed; the bound only keeps a lost driver from leaving
    // it behind.
    tokio::time::timeout(Duration::from_secs(60), std::future::pending::<()>())
        .await
        .unwrap_err();
}

fn driver() {
    let rounds: u32 = std::env::var("FOUNDATION_CRASH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4);
    let dir = tempfile::tempdir().unwrap();
    for round in 0..rounds.max(2) {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads", "1"])
            .env(NODE_VAR, format!("{round} {}", dir.path().display()))
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut got: BTreeMap<String, u32> = BTreeMap::new();
        let mut caught_up = None;
        for line in lines {
            let line = line.unwrap();
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["saved"] => break,
                ["got", key] => *got.entry((*key).to_owned()).or_default() += 1,
                ["caught", "up", loaded, fired, skipped] => {
                    caught_up = Some((
                        loaded.parse::<u64>().unwrap(),
                        fired.parse::<u64>().unwrap(),
                        skipped.parse::<u64>().unwrap(),
                    ));
                    break;
                }
                _ => {}
            }
        }
        // SIGKILL: no destructor, no flush, no shutdown.
        child.kill().unwrap();
        child.wait().unwrap();
        if round == 0 {
            continue;
        }
        let expected: BTreeMap<String, u32> = [("all".to_owned(), 3), ("once".to_owned(), 1)]
            .into_iter()
            .collect();
        assert_eq!(
            got, expected,
            "round {round}: the catch-up by misfire policy"
        );
        // Ten missed ticks each: once delivers 1 (9 skipped), all 3 (7),
        // skip none (10).
        assert_eq!(
            caught_up,
            Some((3, 4, 26)),
            "round {round}: loaded, fired, skipped"
        );
    }
}
