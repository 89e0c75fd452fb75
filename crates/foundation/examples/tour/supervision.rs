//! Tour stop: a supervision tree heals a crash (a child reference follows
//! the restarted child), rest-for-one takes a worker's dependants with it, an intensity limit trips and escalates, and
//! the whole tree shuts down in reverse order (on ctrl-c, or when the tour
//! is done).

use std::time::Duration;

use foundation::{
    mailbox::{Actor, Context, ExitReason, Reply},
    supervisor::{
        ChildRef, ChildSpec, Ended, Intensity, Root, Strategy, SupervisorError, SupervisorRef,
        SupervisorSpec, reached_intensity,
    },
};

const TIMEOUT: Duration = Duration::from_secs(1);

/// A worker that says when it starts and stops, and crashes on request.
#[derive(Debug)]
struct Worker {
    name: &'static str,
}

#[derive(Debug)]
enum Request {
    Ping(Reply<()>),
    Crash(Reply<()>),
}

impl Actor for Worker {
    type Args = &'static str;
    type Msg = Request;
    type Error = std::convert::Infallible;

    async fn init(name: &'static str, _: &mut Context<Self>) -> Result<Self, Self::Error> {
        println!("    started {name}");
        Ok(Worker { name })
    }

    async fn handle(&mut self, request: Request, _: &mut Context<Self>) -> Result<(), Self::Error> {
        match request {
            Request::Ping(reply) => reply.send(()).unwrap_or_default(),
            Request::Crash(_reply) => panic!("{} crashed", self.name),
        }
        Ok(())
    }

    async fn terminate(&mut self, reason: &ExitReason, _: &mut Context<Self>) {
        println!("    stopped {} ({reason})", self.name);
    }
}

fn worker(name: &'static str) -> ChildSpec {
    ChildSpec::actor::<Worker>(name, name)
}

async fn subtree(
    tree: &SupervisorRef,
    id: &str,
) -> Result<SupervisorRef, Box<dyn std::error::Error>> {
    let process = tree.child(id).await?.ok_or("subtree not running")?;
    Ok(SupervisorRef::from_process(&process)
        .await?
        .ok_or("not a supervisor")?)
}

async fn crash(worker: &ChildRef<Worker>) -> Result<(), Box<dyn std::error::Error>> {
    let error = worker
        .call(Request::Crash, TIMEOUT)
        .await
        .err()
        .ok_or("it did not crash")?;
    println!("  {}'s caller got: {error}", worker.id());
    Ok(())
}

pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("== Supervision: trees that heal ==");
    //            root (one-for-one)
    //           /                  \
    //   storage (rest-for-one)     api (one-for-one, at most 1 restart in 5 s)
    //     database, cache            handler
    let storage = SupervisorSpec::new(Strategy::RestForOne)
        .child(worker("database"))
        .child(worker("cache"));
    let api = SupervisorSpec::new(Strategy::OneForOne)
        .intensity(Intensity::new(1, Duration::from_secs(5)))
        .child(worker("handler"));
    let spec = SupervisorSpec::new(Strategy::OneForOne)
        .child(ChildSpec::supervisor("storage", storage))
        .child(ChildSpec::supervisor("api", api));
    println!("  starting the tree, children in order:");
    let root = Root::start(spec).await?;
    let tree = root.supervisor().clone();

    println!("  the handler crashes; its supervisor restarts only it:");
    let api = subtree(&tree, "api").await?;
    // A typed reference that follows the child's restarts.
    let handler = api.child_ref::<Worker>("handler")?;
    crash(&handler).await?;
    handler.call(Request::Ping, TIMEOUT).await?;
    println!("  the same reference reaches the new handler");

    println!("  the database crashes; rest-for-one takes the cache (started after it) along:");
    let storage = subtree(&tree, "storage").await?;
    let cache = storage.child_ref::<Worker>("cache")?;
    crash(&storage.child_ref::<Worker>("database")?).await?;
    cache.call(Request::Ping, TIMEOUT).await?;
    println!("  the cache answers again");

    println!("  the handler crashes again within 5 s, one restart too many for `api`;");
    println!("  api gives up, and root, its parent, restarts api with a fresh handler:");
    crash(&handler).await?;
    let reason = tokio::time::timeout(TIMEOUT, api.exited()).await?;
    println!(
        "  the old api exited: {reason} (gave up: {})",
        reached_intensity(&reason)
    );
    if let Err(error) = handler.call(Request::Ping, TIMEOUT).await {
        println!("  a reference into the old api says: {error}");
    }
    let api = subtree(&tree, "api").await?;
    api.child_ref::<Worker>("handler")?
        .call(Request::Ping, TIMEOUT)
        .await?;
    println!("  the new api's handler answers");
    match tree.start_child(worker("api")).await {
        Err(SupervisorError::DuplicateChild(id)) => println!("  (ids are unique: `{id}` is taken)"),
        other => println!("  unexpected: {other:?}"),
    }

    println!("  shutting down (ctrl-c would do the same), children in reverse order:");
    let ctrl_c = async {
        tokio::select! {
            biased;
            _ = tokio::signal::ctrl_c() => println!("  (ctrl-c)"),
            () = std::future::ready(()) => {}
        }
    };
    match root.run_until(ctrl_c, Duration::from_secs(10)).await {
        Ended::Shutdown(reason) => println!("  the tree is down: {reason}"),
        other => println!("  the tree ended otherwise: {other:?}"),
    }
    Ok(())
}
