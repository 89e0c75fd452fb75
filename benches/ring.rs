//! A ring of actors passing one token: each hop is a cast to an actor that
//! is idle, the shape of a pipeline through many actors (issue 24).
//!
//! Every contender passes the same message, a count of hops left and the
//! port to answer when it reaches zero, around `size` actors, each holding
//! the address of the next.

/// The floor: a ring of tokio tasks, each owning a bounded mpsc receiver.
pub mod tokio_ring {
    use tokio::sync::{mpsc, oneshot};

    /// The token (hops left, whom to tell at zero), or `None`: stop, after
    /// passing the stop on.
    type Token = Option<(u64, oneshot::Sender<()>)>;

    /// A ring of `size` tasks; hand its first sender to [`lap`].
    pub fn start(size: usize, capacity: usize) -> mpsc::Sender<Token> {
        let (first, mut receiver) = mpsc::channel::<Token>(capacity);
        let mut next = first.clone();
        for _ in 1..size {
            let (sender, mut own) = mpsc::channel::<Token>(capacity);
            let forward = next;
            // audit:allow(FND001) the benchmark's floor: bare tokio tasks, as a user without an actor framework would write them
            tokio::spawn(async move {
                while let Some(token) = own.recv().await {
                    if !hop(&forward, token).await {
                        break;
                    }
                }
            });
            next = sender;
        }
        // audit:allow(FND001) the benchmark's floor, as above
        tokio::spawn(async move {
            while let Some(Some(token)) = receiver.recv().await {
                hop(&next, Some(token)).await;
            }
        });
        first
    }

    /// Passes the token on; `false` once it passed a stop.
    async fn hop(next: &mpsc::Sender<Token>, token: Token) -> bool {
        match token {
            Some((0, done)) => {
                let _ignored = done.send(());
                true
            }
            Some((left, done)) => {
                next.send(Some((left - 1, done)))
                    .await
                    .expect("the ring is alive");
                true
            }
            None => {
                let _ignored = next.send(None).await;
                false
            }
        }
    }

    /// Sends the token `hops` hops around the ring and waits for it.
    pub async fn lap(first: &mpsc::Sender<Token>, hops: u64) {
        let (done, finished) = oneshot::channel();
        first
            .send(Some((hops, done)))
            .await
            .expect("the ring is alive");
        finished.await.expect("the token comes back");
    }

    /// Ends every task of the ring.
    pub async fn stop(first: mpsc::Sender<Token>) {
        let _ignored = first.send(None).await;
    }
}

/// Foundation's ring.
pub mod foundation_ring {
    use std::{convert::Infallible, time::Duration};

    use foundation_mailbox::{
        Actor, ActorOptions, ActorRef, Context, ExitReason, Reply, start_with,
    };

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

    /// Stops every actor of the ring (they hold each other's references).
    pub async fn stop(ring: Vec<ActorRef<Hop>>) {
        for hop in ring {
            let _ignored = hop.stop(ExitReason::Normal, Duration::from_secs(60)).await;
        }
    }
}

/// Foundation's ring through actors of two types taking turns, the shape
/// of a pipeline whose stages are different actors: a hop can hand its
/// task to the next actor only when the two share a type, so here every
/// hop activates the next actor on a task of its own.
pub mod foundation_mixed_ring {
    use std::{convert::Infallible, fmt, marker::PhantomData, time::Duration};

    use foundation_mailbox::{
        Actor, ActorOptions, ActorRef, Context, ExitReason, Reply, start_with,
    };

    /// Which of the two types a hop is; each passes the token to the other.
    pub trait Side: Send + Sync + 'static {
        /// The type of the next hop.
        type Other: Side<Other = Self>;
    }

    /// The even hops.
    #[derive(Debug)]
    pub enum Even {}

    /// The odd hops.
    #[derive(Debug)]
    pub enum Odd {}

    impl Side for Even {
        type Other = Odd;
    }

    impl Side for Odd {
        type Other = Even;
    }

    /// One actor of the ring, of type `Hop<Even>` or `Hop<Odd>`.
    pub struct Hop<K: Side> {
        next: Option<ActorRef<Hop<K::Other>>>,
        side: PhantomData<K>,
    }

    impl<K: Side> fmt::Debug for Hop<K> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Hop")
                .field("linked", &self.next.is_some())
                .finish()
        }
    }

    /// A hop's messages.
    pub enum Msg<K: Side> {
        /// Where to pass the token.
        Link(ActorRef<Hop<K::Other>>),
        /// The token: hops left, and whom to tell at zero.
        Token(u64, Reply<()>),
    }

    impl<K: Side> fmt::Debug for Msg<K> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Msg::Link(_) => f.write_str("Link"),
                Msg::Token(left, _) => f.debug_tuple("Token").field(left).finish(),
            }
        }
    }

    impl<K: Side> Actor for Hop<K> {
        type Args = ();
        type Msg = Msg<K>;
        type Error = Infallible;

        async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
            Ok(Self {
                next: None,
                side: PhantomData,
            })
        }

        async fn handle(&mut self, msg: Msg<K>, _: &mut Context<Self>) -> Result<(), Self::Error> {
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

    /// The ring: its even hops and its odd hops, each even hop passing to
    /// the odd one of its index, and that one to the next even hop.
    #[derive(Debug)]
    pub struct Ring {
        evens: Vec<ActorRef<Hop<Even>>>,
        odds: Vec<ActorRef<Hop<Odd>>>,
    }

    async fn hops<K: Side>(count: usize, capacity: usize) -> Vec<ActorRef<Hop<K>>> {
        let mut hops = Vec::with_capacity(count);
        for _ in 0..count {
            let (hop, _handle) = start_with::<Hop<K>>((), ActorOptions::new().capacity(capacity))
                .await
                .expect("a hop starts");
            hops.push(hop);
        }
        hops
    }

    /// A ring of `size` actors (rounded up to an even number), half of
    /// each type.
    pub async fn start(size: usize, capacity: usize) -> Ring {
        let pairs = size.div_ceil(2);
        let evens = hops::<Even>(pairs, capacity).await;
        let odds = hops::<Odd>(pairs, capacity).await;
        for at in 0..pairs {
            let link = Msg::Link(odds[at].clone());
            evens[at].cast(link).await.expect("the hop is alive");
            let link = Msg::Link(evens[(at + 1) % pairs].clone());
            odds[at].cast(link).await.expect("the hop is alive");
        }
        // Let the links' activations end, as in the one-type ring.
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
        Ring { evens, odds }
    }

    /// Sends the token `hops` hops around the ring and waits for it.
    pub async fn lap(ring: &Ring, hops: u64) {
        ring.evens[0]
            .call(|done| Msg::Token(hops, done), Duration::from_secs(600))
            .await
            .expect("the token comes back");
    }

    /// Stops every actor of the ring.
    pub async fn stop(ring: Ring) {
        let patience = Duration::from_secs(60);
        for hop in ring.evens {
            let _ignored = hop.stop(ExitReason::Normal, patience).await;
        }
        for hop in ring.odds {
            let _ignored = hop.stop(ExitReason::Normal, patience).await;
        }
    }
}

/// ractor's ring.
pub mod ractor_ring {
    use ractor::{Actor, ActorProcessingErr, ActorRef};
    use tokio::sync::oneshot;

    /// One actor of the ring.
    #[derive(Debug, Default)]
    pub struct Hop;

    /// A hop's messages.
    #[derive(Debug)]
    pub enum Msg {
        /// Where to pass the token.
        Link(ActorRef<Msg>),
        /// The token: hops left, and whom to tell at zero.
        Token(u64, oneshot::Sender<()>),
    }

    impl Actor for Hop {
        type Msg = Msg;
        type State = Option<ActorRef<Msg>>;
        type Arguments = ();

        async fn pre_start(
            &self,
            _: ActorRef<Msg>,
            (): (),
        ) -> Result<Self::State, ActorProcessingErr> {
            Ok(None)
        }

        async fn handle(
            &self,
            _: ActorRef<Msg>,
            message: Msg,
            next: &mut Self::State,
        ) -> Result<(), ActorProcessingErr> {
            match message {
                Msg::Link(to) => *next = Some(to),
                Msg::Token(0, done) => {
                    let _ignored = done.send(());
                }
                Msg::Token(left, done) => next
                    .as_ref()
                    .expect("linked before the first token")
                    .cast(Msg::Token(left - 1, done))?,
            }
            Ok(())
        }
    }

    /// A ring of `size` actors.
    pub async fn start(size: usize) -> Vec<ActorRef<Msg>> {
        let mut ring = Vec::with_capacity(size);
        for _ in 0..size {
            let (hop, _handle) = Actor::spawn(None, Hop, ()).await.expect("a hop starts");
            ring.push(hop);
        }
        for (at, hop) in ring.iter().enumerate() {
            hop.cast(Msg::Link(ring[(at + 1) % size].clone()))
                .expect("the hop is alive");
        }
        ring
    }

    /// Sends the token `hops` hops around the ring and waits for it.
    pub async fn lap(ring: &[ActorRef<Msg>], hops: u64) {
        let (done, finished) = oneshot::channel();
        ring[0]
            .cast(Msg::Token(hops, done))
            .expect("the ring is alive");
        finished.await.expect("the token comes back");
    }

    /// Stops the ring.
    pub fn stop(ring: Vec<ActorRef<Msg>>) {
        for hop in ring {
            hop.stop(None);
        }
    }
}

/// kameo's ring.
pub mod kameo_ring {
    use std::convert::Infallible;

    use kameo::{
        Actor,
        actor::{ActorRef, Spawn},
        message::{Context, Message},
    };
    use tokio::sync::oneshot;

    /// One actor of the ring.
    #[derive(Debug, Default)]
    pub struct Hop {
        next: Option<ActorRef<Hop>>,
    }

    impl Actor for Hop {
        type Args = ();
        type Error = Infallible;

        async fn on_start((): (), _: ActorRef<Self>) -> Result<Self, Infallible> {
            Ok(Hop::default())
        }
    }

    /// Where to pass the token.
    #[derive(Debug)]
    pub struct Link(pub ActorRef<Hop>);

    /// The token: hops left, and whom to tell at zero.
    #[derive(Debug)]
    pub struct Token(pub u64, pub oneshot::Sender<()>);

    impl Message<Link> for Hop {
        type Reply = ();

        async fn handle(&mut self, Link(next): Link, _: &mut Context<Self, ()>) {
            self.next = Some(next);
        }
    }

    impl Message<Token> for Hop {
        type Reply = ();

        async fn handle(&mut self, Token(left, done): Token, _: &mut Context<Self, ()>) {
            if left == 0 {
                let _ignored = done.send(());
                return;
            }
            let next = self.next.as_ref().expect("linked before the first token");
            next.tell(Token(left - 1, done))
                .await
                .expect("the next hop is alive");
        }
    }

    /// A ring of `size` actors with bounded mailboxes of `capacity`.
    pub async fn start(size: usize, capacity: usize) -> Vec<ActorRef<Hop>> {
        let ring: Vec<_> = (0..size)
            .map(|_| Hop::spawn_with_mailbox((), kameo::mailbox::bounded(capacity)))
            .collect();
        for (at, hop) in ring.iter().enumerate() {
            hop.tell(Link(ring[(at + 1) % size].clone()))
                .await
                .expect("the hop is alive");
        }
        ring
    }

    /// Sends the token `hops` hops around the ring and waits for it.
    pub async fn lap(ring: &[ActorRef<Hop>], hops: u64) {
        let (done, finished) = oneshot::channel();
        ring[0]
            .tell(Token(hops, done))
            .await
            .expect("the ring is alive");
        finished.await.expect("the token comes back");
    }

    /// Stops every actor of the ring.
    pub async fn stop(ring: Vec<ActorRef<Hop>>) {
        for hop in ring {
            hop.kill();
        }
    }
}

/// actix's ring.
pub mod actix_ring {
    use actix::{Actor, Addr, Context, Handler, Message};
    use tokio::sync::oneshot;

    /// One actor of the ring.
    #[derive(Debug, Default)]
    pub struct Hop {
        next: Option<Addr<Hop>>,
    }

    impl Actor for Hop {
        type Context = Context<Self>;
    }

    /// Where to pass the token.
    #[derive(Debug)]
    pub struct Link(pub Addr<Hop>);

    impl Message for Link {
        type Result = ();
    }

    /// The token: hops left, and whom to tell at zero.
    #[derive(Debug)]
    pub struct Token(pub u64, pub oneshot::Sender<()>);

    impl Message for Token {
        type Result = ();
    }

    impl Handler<Link> for Hop {
        type Result = ();

        fn handle(&mut self, Link(next): Link, _: &mut Context<Self>) {
            self.next = Some(next);
        }
    }

    impl Handler<Token> for Hop {
        type Result = ();

        fn handle(&mut self, Token(left, done): Token, _: &mut Context<Self>) {
            if left == 0 {
                let _ignored = done.send(());
                return;
            }
            let next = self.next.as_ref().expect("linked before the first token");
            next.do_send(Token(left - 1, done));
        }
    }

    /// A ring of `size` actors on the current actix arbiter.
    pub fn start(size: usize) -> Vec<Addr<Hop>> {
        let ring: Vec<_> = (0..size).map(|_| Hop::default().start()).collect();
        for (at, hop) in ring.iter().enumerate() {
            hop.do_send(Link(ring[(at + 1) % size].clone()));
        }
        ring
    }

    /// Sends the token `hops` hops around the ring and waits for it.
    pub async fn lap(ring: &[Addr<Hop>], hops: u64) {
        let (done, finished) = oneshot::channel();
        ring[0].do_send(Token(hops, done));
        finished.await.expect("the token comes back");
    }
}
