//! The crash test: a step recorded done never reruns, even across a
//! SIGKILL of the whole program.
//!
//! The test re-runs its own binary as a node on a redb file. A node first
//! prints every step the store says is done, then starts a coordinator,
//! which resumes the running workflows (the first node starts them). Each
//! step appends a line to a side log as it begins and prints one when it
//! ends. The driver kills the node with SIGKILL after a random number of
//! ended steps, and starts the next; the last node runs to the end. No
//! step that a node found recorded done may begin in that node or after
//! it, and every workflow must complete. `FOUNDATION_CRASH_ROUNDS` sets the
//! rounds (default 20).

use std::{
    collections::HashSet,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::Duration,
};

use foundation_coordinator::{
    Coordinator, CoordinatorError, RECORD_PREFIX, Step, Workflow, WorkflowRecord,
};
use foundation_persistence::{RedbStore, StateStore};

const TEST_NAME: &str = "a_step_recorded_done_never_reruns_after_sigkill";
const NODE_VAR: &str = "FOUNDATION_COORDINATOR_NODE";
const WORKFLOWS: usize = 8;
const STEPS: [&str; 4] = ["one", "two", "three", "four"];

#[test]
fn a_step_recorded_done_never_reruns_after_sigkill() {
    match std::env::var(NODE_VAR) {
        Ok(spec) => node(&spec),
        Err(_) => driver(),
    }
}

/// `round dir last` as the driver passes it.
fn node(spec: &str) {
    let mut parts = spec.split(' ');
    let round: usize = parts.next().unwrap().parse().unwrap();
    let dir = PathBuf::from(parts.next().unwrap());
    let last = parts.next() == Some("last");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run_node(round, &dir, last));
}

async fn run_node(round: usize, dir: &Path, last: bool) {
    let store = RedbStore::open(dir.join("coordinator.redb")).unwrap();
    let mut out = std::io::stdout().lock();
    for listed in store.list(RECORD_PREFIX).await.unwrap() {
        let entry = store.get(&listed.key).await.unwrap().unwrap();
        let record = WorkflowRecord::decode(&entry.value).unwrap();
        for done in &record.completed {
            writeln!(out, "recorded {} {}", record.id, done.step).unwrap();
        }
    }
    writeln!(out, "ready").unwrap();
    out.flush().unwrap();
    drop(out);

    let log = dir.join("runs.log");
    let mut workflow = Workflow::new("job");
    for step in STEPS {
        let log = log.clone();
        workflow = workflow.step(Step::new(step, move |ctx| {
            let line = format!("{round} {} {step}\n", ctx.workflow_id());
            let log = log.clone();
            async move {
                let mut file = tokio::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&log)
                    .await
                    .unwrap();
                tokio::io::AsyncWriteExt::write_all(&mut file, line.as_bytes())
                    .await
                    .unwrap();
                file.sync_data().await.unwrap();
                // A little work, so kills land inside steps too.
                tokio::task::yield_now().await;
                println!("ended {} {step}", ctx.workflow_id());
                Ok(Vec::new())
            }
        }));
    }
    let coordinator = Coordinator::start(store, [workflow]).await.unwrap();
    // Starts those a killed node did not get to; the others are resumed.
    for n in 0..WORKFLOWS {
        match coordinator
            .start_workflow("job", &format!("w{n}"), Vec::new())
            .await
        {
            Ok(()) | Err(CoordinatorError::IdTaken { .. }) => {}
            Err(error) => panic!("{error}"),
        }
    }
    for n in 0..WORKFLOWS {
        let done = coordinator
            .wait(&format!("w{n}"), Duration::from_secs(60))
            .await
            .unwrap();
        assert!(done.status.is_completed(), "{:?}", done.status);
    }
    println!("all done");
    if !last {
        // Waits to be killed; the bound only keeps a lost driver from
        // leaving it behind.
        tokio::time::timeout(Duration::from_secs(60), std::future::pending::<()>())
            .await
            .unwrap_err();
    }
}

fn driver() {
    let rounds: usize = std::env::var("FOUNDATION_CRASH_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20);
    let dir = tempfile::tempdir().unwrap();
    let mut seed = std::process::id() as u64 | 1;
    // Per round: the steps its node found recorded done.
    let mut recorded: Vec<HashSet<(String, String)>> = Vec::new();
    for round in 0..rounds {
        let last = round + 1 == rounds;
        let spec = format!(
            "{round} {}{}",
            dir.path().display(),
            if last { " last" } else { "" }
        );
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", TEST_NAME, "--nocapture", "--test-threads", "1"])
            .env(NODE_VAR, spec)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut found = HashSet::new();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let kill_after = 1 + (seed % 6) as usize;
        let mut ended = 0;
        let mut finished = false;
        for line in lines {
            let line = line.unwrap();
            let words: Vec<&str> = line.split(' ').collect();
            match words.as_slice() {
                ["recorded", id, step] => {
                    found.insert(((*id).to_owned(), (*step).to_owned()));
                }
                ["ended", ..] => {
                    ended += 1;
                    if !last && ended == kill_after {
                        // SIGKILL: no destructor, no flush, no shutdown.
                        child.kill().unwrap();
                        break;
                    }
                }
                ["all", "done"] => {
                    finished = true;
                    if !last {
                        child.kill().unwrap();
                        break;
                    }
                }
                _ => {}
            }
        }
        let status = child.wait().unwrap();
        if last {
            assert!(
                status.success() && finished,
                "the last node did not finish: {status:?}"
            );
        }
        recorded.push(found);
    }
    let runs = std::fs::read_to_string(dir.path().join("runs.log")).unwrap();
    let mut begun = 0;
    for line in runs.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let [round, id, step] = words.as_slice() else {
            panic!("a torn line in the side log: {line:?}");
        };
        let round: usize = round.parse().unwrap();
        let key = ((*id).to_owned(), (*step).to_owned());
        for (earlier, found) in recorded.iter().enumerate().take(round + 1) {
            assert!(
                !found.contains(&key),
                "{id}/{step} began in round {round}, but round {earlier}'s node found it recorded done"
            );
        }
        begun += 1;
    }
    assert!(
        begun >= WORKFLOWS * STEPS.len(),
        "every step began at least once: {begun}"
    );
    assert!(
        recorded.iter().skip(1).any(|found| !found.is_empty()),
        "some round recovered recorded steps"
    );
}
