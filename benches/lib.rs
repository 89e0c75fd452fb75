//! The same counter actor written for Foundation and for each peer framework,
//! so the benchmarks compare like with like.
//!
//! Each counter takes `u64` increments as fire-and-forget messages and
//! answers a request with its total. The benchmarks live in `benches/`; the
//! runtimes they run every tokio-based contender on, and the driver task
//! they run it from, are here too, so every bench sets them up alike.

#![forbid(unsafe_code)]

use std::{convert::Infallible, future::Future};

/// The two runtimes every tokio-based contender runs on, in the same run:
/// everything on one thread (as actix always runs), and a two-worker
/// runtime where the driver and the actors may each be on a different
/// thread, so wakeups cross threads.
pub const FLAVORS: [&str; 2] = ["current_thread", "multi_thread"];

/// A runtime of one of the [`FLAVORS`]: `"current_thread"`, or anything else
/// for two worker threads.
pub fn runtime(flavor: &str) -> tokio::runtime::Runtime {
    let mut builder = if flavor == "current_thread" {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(2);
        builder
    };
    builder
        .enable_all()
        .build()
        .expect("a tokio runtime for the benchmark")
}

/// Runs `work` on `runtime` from a task and returns its output. Callers in
/// services are tasks (a connection's, an actor's), so every contender is
/// driven from one.
pub fn on_task<F, T>(runtime: &tokio::runtime::Runtime, work: F) -> T
where
    F: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    runtime.block_on(async move {
        // audit:allow(FND001) the benchmark's driver task, awaited right here
        tokio::spawn(work)
            .await
            .expect("the benchmark driver finishes")
    })
}

pub mod restarts;
pub mod ring;
pub mod workloads;

/// Foundation's counter.
pub mod foundation_counter {
    use super::Infallible;
    use foundation_mailbox::{Actor, Context, Reply};

    /// Adds what it is cast; answers [`Msg::Get`] with the total.
    #[derive(Debug, Default)]
    pub struct Counter(pub u64);

    /// The counter's messages.
    #[derive(Debug)]
    pub enum Msg {
        /// An increment.
        Add(u64),
        /// Asks for the total.
        Get(Reply<u64>),
    }

    impl Actor for Counter {
        type Args = ();
        type Msg = Msg;
        type Error = Infallible;

        async fn init((): (), _ctx: &mut Context<Self>) -> Result<Self, Infallible> {
            Ok(Counter(0))
        }

        async fn handle(&mut self, msg: Msg, _ctx: &mut Context<Self>) -> Result<(), Infallible> {
            match msg {
                Msg::Add(n) => self.0 += n,
                Msg::Get(reply) => reply.send(self.0).unwrap_or_default(),
            }
            Ok(())
        }
    }
}

/// actix's counter.
pub mod actix_counter {
    use actix::{Actor, Context, Handler, Message};

    /// Adds what it is sent; answers [`Get`] with the total.
    #[derive(Debug, Default)]
    pub struct Counter(pub u64);

    impl Actor for Counter {
        type Context = Context<Self>;
    }

    /// An increment.
    #[derive(Debug)]
    pub struct Add(pub u64);

    impl Message for Add {
        type Result = ();
    }

    /// Asks for the total.
    #[derive(Debug)]
    pub struct Get;

    impl Message for Get {
        type Result = u64;
    }

    /// Stops the actor after replying.
    #[derive(Debug)]
    pub struct Stop;

    impl Message for Stop {
        type Result = ();
    }

    impl Handler<Add> for Counter {
        type Result = ();

        fn handle(&mut self, Add(n): Add, _ctx: &mut Context<Self>) {
            self.0 += n;
        }
    }

    impl Handler<Get> for Counter {
        type Result = u64;

        fn handle(&mut self, _: Get, _ctx: &mut Context<Self>) -> u64 {
            self.0
        }
    }

    impl Handler<Stop> for Counter {
        type Result = ();

        fn handle(&mut self, _: Stop, ctx: &mut Context<Self>) {
            actix::ActorContext::stop(ctx);
        }
    }
}

/// ractor's counter.
pub mod ractor_counter {
    use ractor::{Actor, ActorProcessingErr, ActorRef, RpcReplyPort};
    use tokio::task::JoinHandle;

    /// Starts a counter, its `pre_start` done.
    pub async fn start() -> (ActorRef<Message>, JoinHandle<()>) {
        Actor::spawn(None, Counter, ())
            .await
            .expect("a ractor counter starts")
    }

    /// Stops a counter and waits for its end.
    pub async fn stop((counter, handle): (ActorRef<Message>, JoinHandle<()>)) {
        counter.stop(None);
        handle.await.expect("a ractor counter stops");
    }

    /// Adds what it is cast; answers `Get` with the total.
    #[derive(Debug, Default)]
    pub struct Counter;

    /// Its messages.
    #[derive(Debug)]
    pub enum Message {
        /// An increment.
        Add(u64),
        /// Asks for the total.
        Get(RpcReplyPort<u64>),
    }

    impl Actor for Counter {
        type Msg = Message;
        type State = u64;
        type Arguments = ();

        async fn pre_start(
            &self,
            _myself: ActorRef<Message>,
            (): (),
        ) -> Result<u64, ActorProcessingErr> {
            Ok(0)
        }

        async fn handle(
            &self,
            _myself: ActorRef<Message>,
            message: Message,
            total: &mut u64,
        ) -> Result<(), ActorProcessingErr> {
            match message {
                Message::Add(n) => *total += n,
                Message::Get(reply) => reply.send(*total)?,
            }
            Ok(())
        }
    }
}

/// kameo's counter.
pub mod kameo_counter {
    use kameo::{
        Actor,
        actor::{ActorRef, Spawn},
        message::{Context, Message},
    };

    use super::Infallible;

    /// Starts a counter with a bounded mailbox of `capacity`, as ours.
    pub fn start(capacity: usize) -> ActorRef<Counter> {
        Counter::spawn_with_mailbox((), kameo::mailbox::bounded(capacity))
    }

    /// Stops a counter and waits for its end.
    pub async fn stop(counter: &ActorRef<Counter>) {
        counter
            .stop_gracefully()
            .await
            .expect("a kameo counter stops");
        counter.wait_for_shutdown().await;
    }

    /// Adds what it is told; answers [`Get`] with the total.
    #[derive(Debug, Default)]
    pub struct Counter(pub u64);

    impl Actor for Counter {
        type Args = ();
        type Error = Infallible;

        async fn on_start((): (), _actor_ref: ActorRef<Self>) -> Result<Self, Infallible> {
            Ok(Counter(0))
        }
    }

    /// An increment.
    #[derive(Debug)]
    pub struct Add(pub u64);

    /// Asks for the total.
    #[derive(Debug)]
    pub struct Get;

    impl Message<Add> for Counter {
        type Reply = ();

        async fn handle(&mut self, Add(n): Add, _ctx: &mut Context<Self, ()>) {
            self.0 += n;
        }
    }

    impl Message<Get> for Counter {
        type Reply = u64;

        async fn handle(&mut self, _: Get, _ctx: &mut Context<Self, u64>) -> u64 {
            self.0
        }
    }
}
