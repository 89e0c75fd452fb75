//! Names and process groups, under hostile use: names taken twice, lookups
//! after exits, registrations racing exits, 100,000 short-lived processes,
//! and broadcasts to full and dead members.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use foundation_mailbox::{
    Actor, ActorOptions, ActorRef, Context, Delivery, ExitReason, LookupError, NamedCallError,
    NamedSendError, Pid, ProcessGroups, RegisterError, Registry, Reply, start, start_with,
};
use tokio::sync::{Semaphore, mpsc};

const PATIENCE: Duration = Duration::from_secs(30);

/// Counts what it is sent; can be held inside a handler on a gate.
#[derive(Debug)]
struct Worker {
    total: u64,
    gate: Arc<Semaphore>,
    entered: mpsc::UnboundedSender<Pid>,
}

#[derive(Debug)]
enum Job {
    Add(u64),
    /// Reports that it entered the handler, then waits on the gate.
    Block,
    /// Ends the worker from inside.
    Quit,
    Total(Reply<u64>),
}

impl From<u64> for Job {
    fn from(value: u64) -> Self {
        Job::Add(value)
    }
}

#[derive(Debug, Clone)]
struct WorkerArgs {
    gate: Arc<Semaphore>,
    entered: mpsc::UnboundedSender<Pid>,
}

impl Actor for Worker {
    type Args = WorkerArgs;
    type Msg = Job;
    type Error = std::convert::Infallible;

    async fn init(args: WorkerArgs, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Worker {
            total: 0,
            gate: args.gate,
            entered: args.entered,
        })
    }

    async fn handle(&mut self, job: Job, ctx: &mut Context<Self>) -> Result<(), Self::Error> {
        match job {
            Job::Add(value) => self.total += value,
            Job::Block => {
                let _ = self.entered.send(ctx.myself().pid());
                let _permit = self.gate.acquire().await;
            }
            Job::Quit => ctx.stop(ExitReason::Normal),
            Job::Total(reply) => reply.send(self.total).unwrap_or_default(),
        }
        Ok(())
    }
}

/// Another actor type, for typed lookups that must fail.
#[derive(Debug)]
struct Other;

impl Actor for Other {
    type Args = ();
    type Msg = ();
    type Error = std::convert::Infallible;

    async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
        Ok(Other)
    }

    async fn handle(&mut self, (): (), _: &mut Context<Self>) -> Result<(), Self::Error> {
        Ok(())
    }
}

struct Workers {
    args: WorkerArgs,
    entered: mpsc::UnboundedReceiver<Pid>,
}

impl Workers {
    fn new() -> Self {
        let (entered, entered_rx) = mpsc::unbounded_channel();
        Self {
            args: WorkerArgs {
                gate: Arc::new(Semaphore::new(0)),
                entered,
            },
            entered: entered_rx,
        }
    }

    async fn start(&self) -> ActorRef<Worker> {
        start::<Worker>(self.args.clone()).await.unwrap().0
    }

    async fn start_with(&self, options: ActorOptions) -> ActorRef<Worker> {
        start_with::<Worker>(self.args.clone(), options)
            .await
            .unwrap()
            .0
    }

    /// Makes `worker` busy inside a handler until the gate opens.
    async fn hold(&mut self, worker: &ActorRef<Worker>) {
        worker.cast(Job::Block).await.unwrap();
        assert_eq!(self.entered.recv().await, Some(worker.pid()));
    }
}

#[tokio::test]
async fn a_unique_name_taken_twice_fails_naming_the_holder() {
    let workers = Workers::new();
    let names = Registry::new();
    let first = workers.start().await;
    let second = workers.start().await;
    names.register("primary", &first).unwrap();

    let taken = names.register("primary", &second).unwrap_err();
    assert_eq!(
        taken,
        RegisterError::Taken {
            key: "primary",
            holder: first.pid()
        }
    );
    assert_eq!(
        taken.to_string(),
        format!("name already registered to {}", first.pid())
    );
    assert_eq!(taken.into_key(), "primary");
    // The holder itself cannot take it twice either.
    assert!(matches!(
        names.register("primary", &first),
        Err(RegisterError::Taken { holder, .. }) if holder == first.pid()
    ));
    assert_eq!(names.whereis("primary"), Some(first.process_ref()));
    assert_eq!(names.len(), 1);
}

#[tokio::test]
async fn lookups_after_an_exit_say_not_registered() {
    let workers = Workers::new();
    let names: Registry<String> = Registry::new();
    let worker = workers.start().await;
    names.register("worker".to_owned(), &worker).unwrap();
    assert_eq!(names.lookup::<Worker>("worker"), Ok(worker.clone()));

    worker.stop(ExitReason::Normal, PATIENCE).await.unwrap();
    assert_eq!(
        names.lookup::<Worker>("worker"),
        Err(LookupError::NotRegistered)
    );
    assert_eq!(names.whereis("worker"), None);
    assert!(names.is_empty(), "the exit hook removed the name");
    assert!(matches!(
        names.try_cast::<Worker>("worker", Job::Add(1)),
        Err(NamedSendError::Lookup(
            LookupError::NotRegistered,
            Job::Add(1)
        ))
    ));
}

#[tokio::test(flavor = "current_thread")]
async fn a_name_whose_holder_is_exiting_is_not_found_and_is_free() {
    let mut workers = Workers::new();
    let names = Registry::new();
    let old = workers.start().await;
    names.register("leader", &old).unwrap();
    // Killed inside a handler: closed at once, but its task has not run
    // again, so its exit hook has not removed the name yet.
    workers.hold(&old).await;
    assert!(old.kill());
    assert_eq!(names.len(), 1, "the entry is still there");
    assert_eq!(
        names.lookup::<Worker>("leader"),
        Err(LookupError::NotRegistered)
    );
    assert_eq!(names.whereis("leader"), None);
    // A dying holder does not block its successor.
    let new = workers.start().await;
    names.register("leader", &new).unwrap();
    assert_eq!(old.wait_for_exit(PATIENCE).await, Ok(ExitReason::Killed));
    // The old holder's hook left the new holder's name alone.
    assert_eq!(names.lookup::<Worker>("leader"), Ok(new));
    assert_eq!(names.len(), 1);
}

#[tokio::test(flavor = "current_thread")]
async fn an_exited_or_exiting_process_cannot_register_or_join() {
    let mut workers = Workers::new();
    let names = Registry::new();
    let groups: ProcessGroups<&str, Job> = ProcessGroups::new();
    let exited = workers.start().await;
    exited.stop(ExitReason::Normal, PATIENCE).await.unwrap();
    assert_eq!(
        names.register("gone", &exited),
        Err(RegisterError::NoProcess("gone"))
    );
    assert_eq!(
        groups.join("all", &exited).map_err(|error| error.0),
        Err(exited.pid())
    );

    let exiting = workers.start().await;
    workers.hold(&exiting).await;
    exiting.kill();
    assert_eq!(
        names.register("going", &exiting),
        Err(RegisterError::NoProcess("going"))
    );
    assert!(groups.join("all", &exiting).is_err());
    assert!(names.is_empty());
    assert!(groups.is_empty());
}

#[tokio::test]
async fn typed_lookup_of_the_wrong_actor_type_is_a_typed_error() {
    let names = Registry::new();
    let (other, _handle) = start::<Other>(()).await.unwrap();
    names.register(7_u32, &other).unwrap();
    let wrong = names.lookup::<Worker>(&7).unwrap_err();
    assert_eq!(
        wrong,
        LookupError::WrongType {
            pid: other.pid(),
            expected: std::any::type_name::<Worker>()
        }
    );
    // The request comes back, not lost.
    match names.call::<Worker, _>(&7, Job::Total, PATIENCE).await {
        Err(error @ NamedCallError::Lookup(LookupError::WrongType { .. }, _)) => {
            assert!(matches!(error.into_message(), Some(Job::Total(_))));
        }
        other => panic!("expected a wrong-type error, got {other:?}"),
    }
    assert_eq!(names.lookup::<Other>(&7), Ok(other));
}

#[tokio::test]
async fn cast_and_call_by_name() {
    let workers = Workers::new();
    let names = Registry::new();
    let worker = workers.start().await;
    names.register("adder", worker.clone()).unwrap();
    names.cast::<Worker>("adder", Job::Add(2)).await.unwrap();
    names.try_cast::<Worker>("adder", Job::Add(3)).unwrap();
    assert_eq!(
        names
            .call::<Worker, _>("adder", Job::Total, PATIENCE)
            .await
            .unwrap(),
        5
    );
    assert!(matches!(
        names
            .call::<Worker, _>("nobody", Job::Total, PATIENCE)
            .await,
        Err(NamedCallError::Lookup(
            LookupError::NotRegistered,
            Job::Total(_)
        ))
    ));
    let holder = names.unregister("adder").unwrap();
    assert_eq!(holder.pid(), worker.pid());
    assert!(names.is_empty());
    assert!(names.unregister("adder").is_none());
    // Unregistered while alive: its cancelled hook must not touch a name
    // it registers again.
    names.register("adder", &worker).unwrap();
    worker.cast(Job::Quit).await.unwrap();
    worker.wait_for_exit(PATIENCE).await.unwrap();
    assert!(names.is_empty());
}

/// A registration racing the process's exit on another worker thread:
/// either the exit hook removes the name or the registration fails; no
/// round leaves a name behind.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_racing_exits_leave_no_stale_name() {
    let workers = Workers::new();
    let names = Registry::new();
    let groups: ProcessGroups<u32, Job> = ProcessGroups::new();
    let (mut registered, mut refused) = (0, 0);
    for round in 0..2_000_u32 {
        let worker = workers.start().await;
        let killer = {
            let worker = worker.clone();
            tokio::spawn(async move { worker.kill() })
        };
        match names.register(round, &worker) {
            Ok(()) => registered += 1,
            Err(RegisterError::NoProcess(_)) => refused += 1,
            Err(taken) => panic!("{taken:?}"),
        }
        let _ = groups.join(round % 4, &worker);
        assert!(killer.await.unwrap());
        assert_eq!(worker.wait_for_exit(PATIENCE).await, Ok(ExitReason::Killed));
        assert_eq!(names.whereis(&round), None);
        assert!(names.is_empty(), "round {round} left a name");
        assert!(groups.is_empty(), "round {round} left a member");
    }
    assert_eq!(registered + refused, 2_000);
}

/// The leak check of the issue: 100,000 processes that register a name
/// and join a group, then exit in each of three ways, leave nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_thousand_short_lived_processes_leave_an_empty_registry() {
    const PROCESSES: u32 = 100_000;
    const AT_ONCE: u32 = 1_000;
    let workers = Workers::new();
    let names = Registry::new();
    let groups: ProcessGroups<u32, Job> = ProcessGroups::new();
    for batch in 0..PROCESSES / AT_ONCE {
        let mut alive = Vec::with_capacity(AT_ONCE as usize);
        for index in batch * AT_ONCE..(batch + 1) * AT_ONCE {
            let worker = workers.start().await;
            names.register(index, &worker).unwrap();
            groups.join(index % 16, &worker).unwrap();
            alive.push(worker);
        }
        assert_eq!(names.len(), AT_ONCE as usize);
        for (index, worker) in alive.iter().enumerate() {
            match index % 3 {
                0 => {
                    worker.kill();
                }
                1 => worker.try_cast(Job::Quit).unwrap(),
                _ => {
                    worker.stop(ExitReason::shutdown(), PATIENCE).await.unwrap();
                }
            }
        }
        for worker in alive {
            worker.wait_for_exit(PATIENCE).await.unwrap();
        }
    }
    assert_eq!(names.len(), 0, "every name went with its process");
    assert_eq!(groups.len(), 0, "every membership went with its process");
}

#[tokio::test(flavor = "current_thread")]
async fn an_exiting_member_is_gone_before_its_exit_can_be_observed() {
    let mut workers = Workers::new();
    let names = Registry::new();
    let groups: ProcessGroups<&str, Job> = ProcessGroups::new();
    let stays = workers.start().await;
    let goes = workers.start().await;
    // The earliest observer there is: an exit hook added before the join,
    // so it runs before the group's and the registry's own hooks.
    let seen = Arc::new(Mutex::new(None));
    {
        let (seen, groups, names) = (seen.clone(), groups.clone(), names.clone());
        goes.process_ref()
            .on_exit(move |_| {
                let members: Vec<Pid> = groups.members("g").iter().map(|m| m.pid()).collect();
                *seen.lock().unwrap() = Some((members, names.whereis("goes").is_some()));
            })
            .unwrap();
    }
    groups.join("g", &stays).unwrap();
    groups.join("g", &goes).unwrap();
    groups.join("g", &goes).unwrap();
    names.register("goes", &goes).unwrap();
    assert_eq!(groups.len(), 2, "joining twice is one membership");

    workers.hold(&goes).await;
    goes.kill();
    // Closed: already no member, though its hook has not run.
    let members: Vec<Pid> = groups.members("g").iter().map(|m| m.pid()).collect();
    assert_eq!(members, vec![stays.pid()]);
    assert_eq!(groups.len(), 2);

    goes.wait_for_exit(PATIENCE).await.unwrap();
    assert_eq!(*seen.lock().unwrap(), Some((vec![stays.pid()], false)));
    assert_eq!(groups.len(), 1, "removed before the exit was published");
    assert!(names.is_empty());

    assert!(groups.leave("g", stays.pid()));
    assert!(!groups.leave("g", stays.pid()));
    assert!(groups.is_empty());
    assert!(groups.members("g").is_empty());
}

#[tokio::test(flavor = "current_thread")]
async fn a_broadcast_reports_a_full_member_and_a_dead_one() {
    let mut workers = Workers::new();
    let groups: ProcessGroups<&str, u64> = ProcessGroups::new();
    let ready = workers.start().await;
    let full = workers.start_with(ActorOptions::new().capacity(1)).await;
    let dead = workers.start().await;
    for member in [&ready, &full, &dead] {
        groups.join("all", member).unwrap();
    }
    // `full`: busy in a handler with its one slot taken.
    workers.hold(&full).await;
    full.try_cast(Job::Add(100)).unwrap();
    // `dead`: killed while busy, so its exit hook has not run yet.
    workers.hold(&dead).await;
    dead.kill();

    let report = groups.broadcast("all", 1);
    assert_eq!(
        report.results(),
        &[
            (ready.pid(), Delivery::Delivered),
            (full.pid(), Delivery::Full),
            (dead.pid(), Delivery::NoProcess),
        ]
    );
    assert_eq!(report.delivered(), 1);
    assert!(!report.all_delivered());
    assert_eq!(report.delivery(full.pid()), Some(Delivery::Full));

    workers.args.gate.add_permits(10);
    assert_eq!(dead.wait_for_exit(PATIENCE).await, Ok(ExitReason::Killed));
    assert_eq!(ready.call(Job::Total, PATIENCE).await.unwrap(), 1);
    assert_eq!(full.call(Job::Total, PATIENCE).await.unwrap(), 100);
    let report = groups.broadcast("all", 1);
    assert!(report.all_delivered());
    assert_eq!(report.results().len(), 2);
    assert!(groups.broadcast("nobody", 1).all_delivered());
}
