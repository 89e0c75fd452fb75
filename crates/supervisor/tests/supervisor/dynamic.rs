//! The dynamic supervisor: children of one spec started at run time,
//! restarted one-for-one within the intensity, and stopped concurrently.

use std::time::Duration;

use foundation_mailbox::ExitReason;
use foundation_supervisor::{
    ChildSpec, DynamicSpec, DynamicSupervisorRef, Intensity, Restart, Shutdown, Strategy,
    Supervisor, SupervisorError, SupervisorSpec, reached_intensity,
};

use super::support::{Args, Ask, Journal, PATIENCE, Worker, started, stopped, until};

async fn pool(spec: DynamicSpec<Args>) -> DynamicSupervisorRef<Args> {
    DynamicSupervisorRef::start(spec)
        .await
        .expect("dynamic supervisor starts")
}

#[tokio::test]
async fn children_start_on_demand_up_to_max_children() {
    let mut journal = Journal::new();
    let pool = pool(DynamicSpec::actor::<Worker>().max_children(2)).await;
    let a = pool
        .start_child(journal.args("a"))
        .await
        .unwrap()
        .into_process()
        .unwrap();
    pool.start_child(journal.args("b")).await.unwrap();
    assert_eq!(journal.next(2).await, started(&["a", "b"]));
    assert!(matches!(
        pool.start_child(journal.args("c")).await,
        Err(SupervisorError::MaxChildren(2))
    ));
    journal.assert_quiet();
    assert_eq!(pool.count_children().active, 2);

    assert_eq!(
        pool.terminate_child(a.pid()).await.unwrap(),
        ExitReason::shutdown()
    );
    assert_eq!(journal.next(1).await, stopped(&["a"]));
    assert!(matches!(
        pool.terminate_child(a.pid()).await,
        Err(SupervisorError::NoSuchPid(_))
    ));
    pool.start_child(journal.args("c")).await.unwrap();
    assert_eq!(journal.next(1).await, started(&["c"]));
    journal.assert_quiet();
}

#[tokio::test]
async fn a_crashed_child_is_restarted_with_its_own_argument() {
    let mut journal = Journal::new();
    let pool = pool(DynamicSpec::actor::<Worker>()).await;
    let a = pool
        .start_child(journal.args("a"))
        .await
        .unwrap()
        .downcast::<Worker>()
        .unwrap();
    pool.start_child(journal.args("b")).await.unwrap();
    assert_eq!(journal.next(2).await, started(&["a", "b"]));
    assert!(a.call(Ask::Crash, PATIENCE).await.is_err());
    assert_eq!(journal.next(1).await, started(&["a"]));
    until(|| pool.count_children().active == 2).await;
    let names = futures_names(&pool).await;
    assert_eq!(names, ["a", "b"]);
    journal.assert_quiet();
}

/// Every child's DOWN carries the same reference (the supervisor tells its
/// children apart by pid): children crashing at once, on two workers, are
/// each restarted once with their own argument, and one terminated on
/// purpose in the same moment is not restarted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_crashing_at_once_are_each_restarted_once_though_their_downs_share_a_reference() {
    const CRASHING: [&str; 4] = ["a", "b", "c", "d"];
    let mut journal = Journal::new();
    // Four restarts at once: more than the default intensity allows.
    let pool =
        pool(DynamicSpec::actor::<Worker>().intensity(Intensity::new(10, Duration::from_secs(5))))
            .await;
    let mut children = Vec::new();
    for name in CRASHING {
        let started = pool.start_child(journal.args(name)).await.unwrap();
        children.push(started.downcast::<Worker>().unwrap());
    }
    let spared = pool
        .start_child(journal.args("e"))
        .await
        .unwrap()
        .into_process()
        .unwrap();
    assert_eq!(journal.next(5).await.len(), 5);

    let crashes: Vec<_> = children
        .into_iter()
        .map(|child| tokio::spawn(async move { child.call(Ask::Crash, PATIENCE).await }))
        .collect();
    assert_eq!(
        pool.terminate_child(spared.pid()).await.unwrap(),
        ExitReason::shutdown()
    );
    for crash in crashes {
        assert!(crash.await.unwrap().is_err(), "a crash order was answered");
    }
    let mut events: Vec<String> = journal
        .next(5)
        .await
        .iter()
        .map(|event| format!("{event:?}"))
        .collect();
    events.sort_unstable();
    let mut expected: Vec<String> = started(&CRASHING)
        .iter()
        .chain(&stopped(&["e"]))
        .map(|event| format!("{event:?}"))
        .collect();
    expected.sort_unstable();
    assert_eq!(events, expected);
    until(|| pool.count_children().active == CRASHING.len()).await;
    assert_eq!(futures_names(&pool).await, CRASHING);
    assert_eq!(pool.count_children().specs, CRASHING.len());
    journal.assert_quiet();
}

/// The children's names, sorted: each answers a ping with its own.
async fn futures_names(pool: &DynamicSupervisorRef<Args>) -> Vec<&'static str> {
    let mut names = Vec::new();
    for child in pool.which_children() {
        let worker = child.downcast::<Worker>().unwrap();
        names.push(worker.call(Ask::Ping, PATIENCE).await.unwrap());
    }
    names.sort_unstable();
    names
}

#[tokio::test]
async fn transient_and_temporary_children_follow_their_restart_type() {
    let mut journal = Journal::new();
    let transient = pool(DynamicSpec::actor::<Worker>().restart(Restart::Transient)).await;
    let t = transient
        .start_child(journal.args("t"))
        .await
        .unwrap()
        .downcast::<Worker>()
        .unwrap();
    assert_eq!(journal.next(1).await, started(&["t"]));
    t.call(|reply| Ask::Exit(ExitReason::Normal, reply), PATIENCE)
        .await
        .unwrap();
    assert_eq!(journal.next(1).await, stopped(&["t"]));
    // The DOWN is handled before the next call to the supervisor; its count is read directly.
    t.wait_for_exit(PATIENCE).await.unwrap();
    let temporary = pool(DynamicSpec::actor::<Worker>().restart(Restart::Temporary)).await;
    let x = temporary
        .start_child(journal.args("x"))
        .await
        .unwrap()
        .downcast::<Worker>()
        .unwrap();
    assert_eq!(journal.next(1).await, started(&["x"]));
    assert!(x.call(Ask::Crash, PATIENCE).await.is_err());
    x.wait_for_exit(PATIENCE).await.unwrap();
    // Both supervisors shut down cleanly with nothing left to stop or restart.
    transient.shutdown(PATIENCE).await.unwrap();
    temporary.shutdown(PATIENCE).await.unwrap();
    journal.assert_quiet();
}

#[tokio::test(start_paused = true)]
async fn too_many_restarts_shut_the_dynamic_supervisor_down() {
    let mut journal = Journal::new();
    let pool = pool(DynamicSpec::actor::<Worker>()).await;
    let w = pool
        .start_child(journal.args("w"))
        .await
        .unwrap()
        .into_process()
        .unwrap();
    pool.start_child(journal.args("other")).await.unwrap();
    assert_eq!(journal.next(2).await, started(&["w", "other"]));
    let mut current = w.downcast::<Worker>().unwrap();
    for _ in 0..3 {
        assert!(current.call(Ask::Crash, PATIENCE).await.is_err());
        assert_eq!(journal.next(1).await, started(&["w"]));
        until(|| pool.count_children().active == 2).await;
        current = find(&pool, "w").await;
    }
    assert!(current.call(Ask::Crash, PATIENCE).await.is_err());
    let reason = tokio::time::timeout(PATIENCE, pool.exited()).await.unwrap();
    assert!(reached_intensity(&reason), "{reason:?}");
    assert_eq!(journal.next(1).await, stopped(&["other"]));
    assert!(matches!(
        pool.start_child(journal.args("late")).await,
        Err(SupervisorError::Exited(_))
    ));
}

async fn find(
    pool: &DynamicSupervisorRef<Args>,
    name: &str,
) -> foundation_mailbox::ActorRef<Worker> {
    for child in pool.which_children() {
        let worker = child.downcast::<Worker>().unwrap();
        if worker.call(Ask::Ping, PATIENCE).await.ok() == Some(name) {
            return worker;
        }
    }
    panic!("no child {name}");
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_children_concurrently_each_within_its_own_budget() {
    let mut journal = Journal::new();
    let budget = Duration::from_millis(300);
    let pool = pool(DynamicSpec::actor::<Worker>().shutdown(Shutdown::Timeout(budget))).await;
    let mut children = Vec::new();
    for id in ["s1", "s2", "s3", "s4"] {
        let mut args = journal.args(id);
        args.ignore_stop = true;
        children.push(
            pool.start_child(args)
                .await
                .unwrap()
                .into_process()
                .unwrap(),
        );
    }
    assert_eq!(journal.next(4).await.len(), 4);
    let before = tokio::time::Instant::now();
    pool.shutdown(PATIENCE).await.unwrap();
    assert_eq!(
        before.elapsed(),
        budget,
        "one budget for all, not one after another"
    );
    for child in children {
        assert_eq!(child.exit_reason(), Some(ExitReason::Killed));
    }
}

#[tokio::test]
async fn a_dynamic_supervisor_lives_in_a_tree_and_dies_with_it() {
    let mut journal = Journal::new();
    let spec = SupervisorSpec::new(Strategy::OneForOne).child(ChildSpec::dynamic_supervisor(
        "sessions",
        DynamicSpec::actor::<Worker>(),
    ));
    let root = Supervisor::start(spec).await.unwrap();
    let process = super::support::process(&root, "sessions").await;
    let sessions = DynamicSupervisorRef::<Args>::from_process(&process)
        .await
        .unwrap()
        .unwrap();
    let child = sessions
        .start_child(journal.args("s"))
        .await
        .unwrap()
        .into_process()
        .unwrap();
    assert_eq!(journal.next(1).await, started(&["s"]));
    // Killed: no terminate, but the link still takes the child down.
    sessions.process_ref().kill();
    assert_eq!(
        child.wait_for_exit(PATIENCE).await.unwrap(),
        ExitReason::Killed
    );
    // And the tree restarts the dynamic supervisor, empty.
    // (The tree handles the DOWN before this call.)
    let restarted = super::support::process(&root, "sessions").await;
    assert_ne!(restarted.pid(), process.pid());
    let sessions = DynamicSupervisorRef::<Args>::from_process(&restarted)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sessions.count_children().specs, 0);
    root.shutdown(PATIENCE).await.unwrap();
}

/// An argument that cannot be copied, like a socket.
#[derive(Debug)]
struct Socket(tokio::sync::oneshot::Sender<&'static str>);

#[derive(Debug)]
struct Connection(Option<Socket>);

#[derive(Debug)]
enum ConnectionMsg {
    /// Greets through the socket, once.
    Greet(foundation_mailbox::Reply<()>),
    Crash,
}

impl foundation_mailbox::Actor for Connection {
    type Args = Socket;
    type Msg = ConnectionMsg;
    type Error = std::convert::Infallible;

    async fn init(
        socket: Socket,
        _: &mut foundation_mailbox::Context<Self>,
    ) -> Result<Self, Self::Error> {
        Ok(Connection(Some(socket)))
    }

    async fn handle(
        &mut self,
        message: ConnectionMsg,
        _: &mut foundation_mailbox::Context<Self>,
    ) -> Result<(), Self::Error> {
        let ConnectionMsg::Greet(reply) = message else {
            panic!("connection crashed on purpose");
        };
        if let Some(Socket(socket)) = self.0.take() {
            let _ = socket.send("hello");
        }
        reply.send(()).unwrap_or_default();
        Ok(())
    }
}

#[tokio::test(start_paused = true)]
async fn a_temporary_child_takes_its_argument_by_value_once() {
    let pool =
        DynamicSupervisorRef::start(DynamicSpec::temporary_actor::<Connection>().max_children(1))
            .await
            .unwrap();
    let (socket, greeting) = tokio::sync::oneshot::channel();
    let child = pool
        .start_child(Socket(socket))
        .await
        .unwrap()
        .into_process()
        .unwrap();
    let connection = child.downcast::<Connection>().unwrap();
    connection
        .call(ConnectionMsg::Greet, PATIENCE)
        .await
        .unwrap();
    assert_eq!(greeting.await.unwrap(), "hello");
    // Temporary: a crash ends it for good and frees its slot.
    connection.cast(ConnectionMsg::Crash).await.unwrap();
    connection.wait_for_exit(PATIENCE).await.unwrap();
    let (socket, _greeting) = tokio::sync::oneshot::channel();
    until(|| pool.count_children().specs == 0).await;
    pool.start_child(Socket(socket)).await.unwrap();
    assert_eq!(pool.count_children().specs, 1);
}
