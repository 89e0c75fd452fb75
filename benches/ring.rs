//! A ring of actors passing one token: each hop is a cast to an actor that
//! is idle, the shape of a pipeline through many actors (issue 24).
//!
//! Every contender passes the same message, a count of hops left and the
//! port to answer when it reaches zero, around `size` actors, each holding
//! the address of the next.

/// The floor: a ring of tokio tasks, each owning a bounded mpsc receiver.
pub mod tokio_ring {
    use tokio::sync::{mpsc, oneshot};

    type Token = (u64, oneshot::Sender<()>);

    /// A ring of `size` tasks; hand its first sender to [`lap`].
    pub fn start(size: usize, capacity: usize) -> mpsc::Sender<Token> {
        let (first, mut receiver) = mpsc::channel::<Token>(capacity);
        let mut next = first.clone();
        for _ in 1..size {
            let (sender, mut own) = mpsc::channel::<Token>(capacity);
            let forward = next;
            // audit:allow(FND001) the benchmark's floor: bare tokio tasks, as a user without an actor framework would write them
            tokio::spawn(async move {
                while let Some((left, done)) = own.recv().await {
                    hop(&forward, left, done).await;
                }
            });
            next = sender;
        }
        // audit:allow(FND001) the benchmark's floor, as above
        tokio::spawn(async move {
            while let Some((left, done)) = receiver.recv().await {
                hop(&next, left, done).await;
            }
        });
        first
    }

    async fn hop(next: &mpsc::Sender<Token>, left: u64, done: oneshot::Sender<()>) {
        if left == 0 {
            let _ignored = done.send(());
        } else {
            next.send((left - 1, done))
                .await
                .expect("the ring is alive");
        }
    }

    /// Sends the token `hops` hops around the ring and waits for it.
    pub async fn lap(first: &mpsc::Sender<Token>, hops: u64) {
        let (done, finished) = oneshot::channel();
        first.send((hops, done)).await.expect("the ring is alive");
        finished.await.expect("the token comes back");
    }
}

/// Foundation's ring.
pub mod foundation_ring {
    use std::{convert::Infallible, time::Duration};

    use foundation_mailbox::{Actor, ActorOptions, ActorRef, Context, Reply, start_with};

    /// One actor of the ring.
    #[derive(Debug, Default)]
    pub struct Hop {
        next: Option<ActorRef<Hop>>,
    }

    /// A hop's messages.
    #[derive(Debug)]
    pub enum Msg {
        /// Where to pass the token.
        Link(ActorRef<Hop>),
        /// The token: hops left, and whom to tell at zero.
        Token(u64, Reply<()>),
    }

    impl Actor for Hop {
        type Args = ();
        type Msg = Msg;
        type Error = Infallible;

        async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
            Ok(Self::default())
        }

        async fn handle(&mut self, msg: Msg, _: &mut Context<Self>) -> Result<(), Self::Error> {
            match msg {
                Msg::Link(next) => self.next = Some(next),
                Msg::Token(0, done) => {
                    // The driver waits for this answer, so it cannot be gone.
                    done.send(()).expect("the driver waits for the lap");
                }
                Msg::Token(left, done) => {
                    let next = self.next.as_ref().expect("linked before the first token");
                    // audit:allow(FND003) a hop that cannot pass the token ends the lap by dropping the port, which fails the driver's call
                    let _ = next.cast(Msg::Token(left - 1, done)).await;
                }
            }
            Ok(())
        }
    }

    /// A ring of `size` actors; the first one is returned, the rest are
    /// reachable only through it (they stay alive as long as it links them).
    pub async fn start(size: usize, capacity: usize) -> Vec<ActorRef<Hop>> {
        let mut ring = Vec::with_capacity(size);
        for _ in 0..size {
            let (hop, _handle) = start_with::<Hop>((), ActorOptions::new().capacity(capacity))
                .await
                .expect("a hop starts");
            ring.push(hop);
        }
        for (at, hop) in ring.iter().enumerate() {
            let next = ring[(at + 1) % size].clone();
            hop.cast(Msg::Link(next)).await.expect("the hop is alive");
        }
        // Let the links' activations end, so the laps start with every
        // hop idle, as the actors of a pipeline between messages are.
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        ring
    }

    /// Sends the token `hops` hops around the ring and waits for it.
    pub async fn lap(ring: &[ActorRef<Hop>], hops: u64) {
        ring[0]
            .call(|done| Msg::Token(hops, done), Duration::from_secs(600))
            .await
            .expect("the token comes back");
    }
}
