//! The driver's side of a node: a child process (this test binary, re-run as a node), its lines, SIGKILL, a small random generator, and the crash tests' rounds.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, ChildStdin, Command, Stdio},
    sync::mpsc,
    time::Duration,
};

use super::node::Settings;

/// Long enough never to fire in a passing test.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// A line a node printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Heard {
    Ready(Vec<u64>),
    Ack(usize, u64),
    Fenced(usize, String),
    Value(usize, String),
    Error(String),
}

fn parse(line: &str) -> Option<Heard> {
    let words: Vec<&str> = line.split_whitespace().collect();
    Some(match words.as_slice() {
        ["ready", counts @ ..] => {
            Heard::Ready(counts.iter().map(|count| count.parse().unwrap()).collect())
        }
        ["ack", index, value] => Heard::Ack(index.parse().unwrap(), value.parse().unwrap()),
        ["fenced", index, fate] => Heard::Fenced(index.parse().unwrap(), (*fate).to_owned()),
        ["value", index, value] => Heard::Value(index.parse().unwrap(), (*value).to_owned()),
        ["error", ..] => Heard::Error(line.to_owned()),
        // The test harness's own lines.
        _ => return None,
    })
}

/// A node running as a child process.
pub(crate) struct NodeProcess {
    pub(crate) name: String,
    child: Child,
    stdin: Option<ChildStdin>,
    heard: mpsc::Receiver<Heard>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl NodeProcess {
    /// Starts this test binary again, running only `test`, as the node
    /// `settings` describe, and waits for its `ready` line.
    pub(crate) fn start(test: &str, settings: &Settings) -> (Self, Vec<u64>) {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                test,
                "--exact",
                "--nocapture",
                "--test-threads=1",
                "--quiet",
            ])
            .envs(settings.to_env())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let (tell, heard) = mpsc::sync_channel(1024);
        let reader = std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(message) = parse(&line)
                    && tell.send(message).is_err()
                {
                    break;
                }
            }
        });
        let mut node = Self {
            name: settings.name.clone(),
            stdin: child.stdin.take(),
            child,
            heard,
            reader: Some(reader),
        };
        let recovered = match node.next() {
            Heard::Ready(counts) => counts,
            other => panic!("{}: expected ready, heard {other:?}", node.name),
        };
        (node, recovered)
    }

    /// Sends lines without waiting for answers.
    pub(crate) fn send(&mut self, lines: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is open");
        stdin.write_all(lines.as_bytes()).unwrap();
        stdin.flush().unwrap();
    }

    /// The next line the node printed.
    pub(crate) fn next(&mut self) -> Heard {
        match self.heard.recv_timeout(PATIENCE) {
            Ok(heard) => heard,
            Err(error) => panic!("{}: nothing heard: {error}", self.name),
        }
    }

    /// Sends one command and waits for its answer.
    pub(crate) fn ask(&mut self, line: &str) -> Heard {
        self.send(&format!("{line}\n"));
        self.next()
    }

    /// SIGKILLs the node and returns what it printed before it died.
    pub(crate) fn kill(mut self) -> Vec<Heard> {
        self.child.kill().unwrap(); // SIGKILL
        self.child.wait().unwrap();
        self.rest()
    }

    /// Closes its stdin, waits for it to end, and returns what it printed.
    pub(crate) fn close(mut self) -> Vec<Heard> {
        drop(self.stdin.take());
        let status = self.child.wait().unwrap();
        assert!(status.success(), "{}: {status}", self.name);
        self.rest()
    }

    fn rest(&mut self) -> Vec<Heard> {
        drop(self.stdin.take());
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        self.heard.try_iter().collect()
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        // A failing test must not leave nodes behind.
        let _gone = self.child.kill();
        let _reaped = self.child.wait();
    }
}

/// A small xorshift generator: varied kill moments, replayable by seed.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    /// The seed from `variable`, or a fresh one.
    pub(crate) fn seeded(variable: &str) -> (Self, u64) {
        use std::hash::BuildHasher;
        let seed = std::env::var(variable)
            .ok()
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| std::collections::hash_map::RandomState::new().hash_one(0_u8) | 1);
        (Self(seed), seed)
    }

    pub(crate) fn below(&mut self, bound: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % bound
    }
}

/// A count from `variable`, or `default`.
pub(crate) fn count_from(variable: &str, default: usize) -> usize {
    std::env::var(variable)
        .ok()
        .and_then(|value| value.parse().ok())
        .unwrap_or(default)
}

/// What the rounds of a crash test acknowledged.
pub(crate) struct Crashed {
    /// Per counter, the highest value a node acknowledged.
    pub(crate) acknowledged: Vec<u64>,
    /// Acknowledgements heard in all.
    pub(crate) acks: u64,
    pub(crate) rounds: usize,
    pub(crate) seed: u64,
}

/// The crash tests' rounds: each starts a node on `settings`, checks that
/// it recovered every increment an earlier node acknowledged and nothing
/// that was never sent, sends a burst of `burst` increments across
/// `counters` counters, and SIGKILLs the node after a random number of
/// acknowledgements. `FOUNDATION_CRASH_ROUNDS` sets the rounds (default
/// 20), `FOUNDATION_CRASH_SEED` replays a seed; `what` names the
/// increments in failures.
pub(crate) fn crash_rounds(
    test: &str,
    settings: &Settings,
    counters: usize,
    burst: usize,
    what: &str,
) -> Crashed {
    let rounds = count_from("FOUNDATION_CRASH_ROUNDS", 20);
    let (mut rng, seed) = Rng::seeded("FOUNDATION_CRASH_SEED");
    // The highest value acknowledged, and the most that was ever asked, per counter.
    let mut acknowledged = vec![0_u64; counters];
    let mut asked = vec![0_u64; counters];
    let mut acks = 0_u64;
    for round in 0..rounds {
        let (mut node, recovered) = NodeProcess::start(test, settings);
        // Every increment acknowledged by an earlier node must be there, and
        // nothing beyond what was ever sent.
        let detail = format!("acknowledged {acknowledged:?}, recovered {recovered:?}");
        for index in 0..counters {
            assert!(
                recovered[index] >= acknowledged[index],
                "round {round} (seed {seed}): lost {what}: {detail}"
            );
            assert!(
                recovered[index] <= asked[index],
                "round {round} (seed {seed}): phantom {what}: {detail}"
            );
        }
        // The counters now hold what was recovered; later acks count from there.
        let mut lines = String::new();
        for _ in 0..burst {
            let index = rng.below(counters as u64) as usize;
            asked[index] = asked[index].max(recovered[index]) + 1;
            lines.push_str(&format!("inc {index}\n"));
        }
        node.send(&lines);
        let kill_after = 1 + rng.below(burst as u64 - 1);
        let mut record = |heard: Heard| match heard {
            Heard::Ack(index, value) => {
                acknowledged[index] = acknowledged[index].max(value);
                acks += 1;
            }
            other => panic!("round {round}: expected an ack, heard {other:?}"),
        };
        for _ in 0..kill_after {
            record(node.next());
        }
        // Acks the node printed before it died were acknowledged too.
        for heard in node.kill() {
            record(heard);
        }
    }
    Crashed {
        acknowledged,
        acks,
        rounds,
        seed,
    }
}
