//! Getting started, step 5: a supervised TCP service with a persisted
//! counter, a rate limit per client and monitors (`docs/getting-started.md`).
//!
//! `cargo run -p foundation --example getting_started_5_service` binds a
//! free port on 127.0.0.1, runs a short client session against itself and
//! stops; `-- --serve` keeps serving until ctrl-c (`ADDR=127.0.0.1:7000`
//! picks the address). Try it with `nc 127.0.0.1 7000`: `hit`, `crash`.

use std::{
    net::{IpAddr, SocketAddr},
    sync::Arc,
    time::Duration,
};

use foundation::{
    mailbox::{Actor, Context, Reply},
    monitor_manager::MonitorManager,
    persistence::{Persistence, Persistent, PersistentActor, RedbStore, Tracked},
    rate_limiter::{Config, Decision, RateLimiter},
    supervisor::{
        ChildRef, ChildSpec, Root, Strategy, SupervisorRef, SupervisorSpec, TaskSupervisorOptions,
        TaskSupervisorRef,
    },
};
use serde::{Deserialize, Serialize};
use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
};

const TIMEOUT: Duration = Duration::from_secs(2);
const SHUTDOWN_BUDGET: Duration = Duration::from_secs(10);

// ---- The counter: step 3's persistent actor, answering each hit's count.

#[derive(Debug, Serialize, Deserialize)]
struct Counter {
    hits: u64,
}

#[derive(Debug)]
enum CounterMsg {
    Hit(Reply<u64>),
    Crash,
}

impl PersistentActor for Counter {
    type Args = ();
    type Msg = CounterMsg;
    type Error = std::convert::Infallible;

    async fn init((): (), _ctx: &mut Context<Persistent<Self>>) -> Result<Self, Self::Error> {
        Ok(Counter { hits: 0 })
    }

    async fn handle(
        state: &mut Tracked<'_, Self>,
        msg: CounterMsg,
        _ctx: &mut Context<Persistent<Self>>,
    ) -> Result<(), Self::Error> {
        match msg {
            CounterMsg::Hit(reply) => {
                state.hits += 1;
                reply.send(state.hits).unwrap_or_default();
            }
            CounterMsg::Crash => panic!("the counter crashed on purpose"),
        }
        Ok(())
    }
}

// ---- The acceptor: an actor fed the listener's connections as messages.

/// What every connection needs; cloned into each one.
#[derive(Clone, Debug)]
struct Shared {
    counter: ChildRef<Persistent<Counter>>,
    limiter: Arc<RateLimiter<IpAddr>>,
    connections: TaskSupervisorRef,
}

#[derive(Clone, Debug)]
struct AcceptorArgs {
    /// Bound once by `main`, so a restarted acceptor serves the same port.
    listener: Arc<TcpListener>,
    shared: Shared,
}

#[derive(Debug)]
enum AcceptorMsg {
    Accepted(std::io::Result<(TcpStream, SocketAddr)>),
    ListenerClosed,
}

#[derive(Debug)]
struct Acceptor {
    shared: Shared,
}

#[derive(Debug, thiserror::Error)]
#[error("accepting a connection failed: {0}")]
struct AcceptFailed(#[from] std::io::Error);

impl Actor for Acceptor {
    type Args = AcceptorArgs;
    type Msg = AcceptorMsg;
    type Error = AcceptFailed;

    async fn init(args: AcceptorArgs, ctx: &mut Context<Self>) -> Result<Self, Self::Error> {
        // Each accepted connection becomes one message, with backpressure:
        // the next accept waits until this one is handled.
        let accepted = futures::stream::unfold(args.listener, |listener| async move {
            let next = listener.accept().await;
            Some((AcceptorMsg::Accepted(next), listener))
        });
        ctx.attach_stream(accepted, AcceptorMsg::ListenerClosed);
        Ok(Acceptor {
            shared: args.shared,
        })
    }

    async fn handle(
        &mut self,
        msg: AcceptorMsg,
        ctx: &mut Context<Self>,
    ) -> Result<(), Self::Error> {
        match msg {
            AcceptorMsg::Accepted(accepted) => {
                // An error ends the acceptor; its supervisor starts a new one.
                let (stream, peer) = accepted?;
                let shared = self.shared.clone();
                // Each connection is a task the task supervisor owns: none
                // outlives the service, and a panic ends only that one.
                if self
                    .shared
                    .connections
                    .spawn(serve(stream, peer, shared))
                    .is_err()
                {
                    tracing::warn!(%peer, "shutting down: connection refused");
                }
            }
            AcceptorMsg::ListenerClosed => ctx.stop(foundation::mailbox::ExitReason::Normal),
        }
        Ok(())
    }
}

// ---- One connection: a line protocol (`hit`, `crash`, `quit`).

async fn serve(stream: TcpStream, peer: SocketAddr, shared: Shared) {
    if let Err(error) = serve_lines(stream, peer, &shared).await {
        tracing::info!(%peer, %error, "connection ended");
    }
}

async fn serve_lines(stream: TcpStream, peer: SocketAddr, shared: &Shared) -> std::io::Result<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    while let Some(line) = lines.next_line().await? {
        let answer = match line.trim() {
            "hit" => hit(peer.ip(), shared).await,
            "crash" => match shared.counter.cast_from(CounterMsg::Crash).await {
                Ok(()) => "crashing the counter".to_owned(),
                Err(error) => format!("error {error}"),
            },
            "quit" => break,
            other => format!("error unknown command {other:?}"),
        };
        write.write_all(format!("{answer}\n").as_bytes()).await?;
    }
    Ok(())
}

async fn hit(client: IpAddr, shared: &Shared) -> String {
    match shared.limiter.check(&client) {
        Decision::Denied { retry_after } => format!("limited retry_ms {}", retry_after.as_millis()),
        // The call follows the counter across restarts, within its timeout.
        Decision::Allowed { .. } => match shared.counter.call(CounterMsg::Hit, TIMEOUT).await {
            Ok(hits) => format!("hits {hits}"),
            Err(error) => format!("error {error}"),
        },
    }
}

// ---- The service: one tree, started the same way in production and tests.

fn service_spec(store: &RedbStore) -> SupervisorSpec {
    SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::persistent::<Counter>(
            "counter",
            (),
            Persistence::new(store.clone(), "counter"),
        ))
        .child(ChildSpec::task_supervisor(
            "connections",
            TaskSupervisorOptions::new(),
        ))
}

/// Starts the acceptor once the children it uses run (a child started at
/// run time, so its arguments can hold their references).
async fn start_acceptor(
    tree: &SupervisorRef,
    listener: Arc<TcpListener>,
) -> Result<(), Box<dyn std::error::Error>> {
    let connections = tree
        .whereis("connections")
        .ok_or("the connections supervisor is not running")?;
    let shared = Shared {
        counter: tree.child_ref::<Persistent<Counter>>("counter")?,
        // Five hits per client address per minute.
        limiter: Arc::new(RateLimiter::new(Config::fixed_window(
            5,
            Duration::from_secs(60),
        ))?),
        connections: TaskSupervisorRef::from_process(&connections)
            .await?
            .ok_or("not a task supervisor")?,
    };
    tree.start_child(ChildSpec::actor::<Acceptor>(
        "acceptor",
        AcceptorArgs { listener, shared },
    ))
    .await?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt().with_target(false).init();
    foundation::mailbox::install_panic_hook();

    let path = std::env::temp_dir().join(format!(
        "getting-started-service-{}.redb",
        std::process::id()
    ));
    let store = RedbStore::open(&path)?;
    // Port 0: the system picks a free port, so two runs never collide.
    let listener =
        TcpListener::bind(std::env::var("ADDR").as_deref().unwrap_or("127.0.0.1:0")).await?;
    let addr = listener.local_addr()?;
    println!("listening on {addr}");

    let root = Root::start(service_spec(&store)).await?;
    start_acceptor(root.supervisor(), Arc::new(listener)).await?;

    // A monitor tells this program if the whole service stops, and why.
    let monitors = MonitorManager::new();
    let mut service_down = monitors.watch(&root.supervisor().process_ref(), "service root");

    if std::env::args().any(|arg| arg == "--serve") {
        let ended = root
            .run_until(tokio::signal::ctrl_c(), SHUTDOWN_BUDGET)
            .await;
        println!("service ended: {ended:?}");
    } else {
        client_session(addr, root.supervisor(), &monitors).await?;
        root.shutdown(SHUTDOWN_BUDGET).await;
    }
    let down = service_down.down(SHUTDOWN_BUDGET).await?;
    println!("service root exited: {}", down.reason);
    drop(store);
    tokio::fs::remove_file(&path).await?;
    Ok(())
}

// ---- A client session, so the example checks itself and ends.

async fn client_session(
    addr: SocketAddr,
    tree: &SupervisorRef,
    monitors: &MonitorManager,
) -> Result<(), Box<dyn std::error::Error>> {
    let stream = TcpStream::connect(addr).await?;
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut ask = async |command: &str| -> Result<String, Box<dyn std::error::Error>> {
        write.write_all(format!("{command}\n").as_bytes()).await?;
        let answer = tokio::time::timeout(TIMEOUT, lines.next_line()).await??;
        let answer = answer.ok_or("the server closed the connection")?;
        println!("> {command}\n< {answer}");
        Ok(answer)
    };

    for expected in 1..=3 {
        assert_eq!(ask("hit").await?, format!("hits {expected}"));
    }
    // Watch the counter, crash it, and wait for its DOWN: no sleep needed.
    let counter = tree
        .whereis("counter")
        .ok_or("the counter is not running")?;
    let mut counter_down = monitors.watch(&counter, "counter");
    ask("crash").await?;
    let down = counter_down.down(TIMEOUT).await?;
    println!("counter exited: {}", down.reason);

    // Restarted by its supervisor, with its state back from the store.
    assert_eq!(ask("hit").await?, "hits 4");
    assert_eq!(ask("hit").await?, "hits 5");
    assert!(
        ask("hit").await?.starts_with("limited"),
        "the sixth hit in a minute is limited"
    );
    write.write_all(b"quit\n").await?;
    Ok(())
}
