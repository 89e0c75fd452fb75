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
    use std::{convert::Infallible, fmt, marker::PhantomData, time::Duration};

    use foundation_mailbox::{
        Actor, ActorOptions, ActorRef, Context, ExitReason, Reply, start_with,
    };

    /// Which type a hop is, and the type of the hop it passes to.
    pub trait Side: Send + Sync + 'static {
        /// The type of the next hop.
        type Other: Side<Other = Self>;
    }

    /// The hops of a ring of one type: each passes to another of its type.
    #[derive(Debug)]
    pub enum One {}

    /// The even hops of a ring of two types.
    #[derive(Debug)]
    pub enum Even {}

    /// The odd hops of a ring of two types.
    #[derive(Debug)]
    pub enum Odd {}

    impl Side for One {
        type Other = One;
    }

    impl Side for Even {
        type Other = Odd;
    }

    impl Side for Odd {
        type Other = Even;
    }

    /// One actor of the ring: `Hop<One>`, or `Hop<Even>` and `Hop<Odd>`.
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

    /// `count` unlinked hops of type `Hop<K>`.
    pub(super) async fn hops<K: Side>(count: usize, capacity: usize) -> Vec<ActorRef<Hop<K>>> {
        let mut hops = Vec::with_capacity(count);
        for _ in 0..count {
            let (hop, _handle) = start_with::<Hop<K>>((), ActorOptions::new().capacity(capacity))
                .await
                .expect("a hop starts");
            hops.push(hop);
        }
        hops
    }

    /// Links `hop` to `next`.
    pub(super) async fn link<K: Side>(hop: &ActorRef<Hop<K>>, next: &ActorRef<Hop<K::Other>>) {
        hop.cast(Msg::Link(next.clone()))
            .await
            .expect("the hop is alive");
    }

    /// Lets the links' activations end, so the laps start with every hop
    /// idle, as the actors of a pipeline between messages are.
    pub(super) async fn settle() {
        for _ in 0..4 {
            tokio::task::yield_now().await;
        }
    }

    /// A ring of `size` actors of one type; the first one is returned
    /// first, the rest are reachable only through it (they stay alive as
    /// long as it links them).
    pub async fn start(size: usize, capacity: usize) -> Vec<ActorRef<Hop<One>>> {
        let ring = hops::<One>(size, capacity).await;
        for (at, hop) in ring.iter().enumerate() {
            link(hop, &ring[(at + 1) % size]).await;
        }
        settle().await;
        ring
    }

    /// Sends the token `hops` hops around the ring that `first` begins,
    /// and waits for it.
    pub async fn lap_from<K: Side>(first: &ActorRef<Hop<K>>, hops: u64) {
        first
            .call(|done| Msg::Token(hops, done), Duration::from_secs(600))
            .await
            .expect("the token comes back");
    }

    /// Sends the token `hops` hops around the ring and waits for it.
    pub async fn lap(ring: &[ActorRef<Hop<One>>], hops: u64) {
        lap_from(&ring[0], hops).await;
    }

    /// Stops every hop of `hops`.
    pub async fn stop<K: Side>(hops: Vec<ActorRef<Hop<K>>>) {
        for hop in hops {
            let _ignored = hop.stop(ExitReason::Normal, Duration::from_secs(60)).await;
        }
    }
}

/// Foundation's ring through actors of two types taking turns, the shape
/// of a pipeline whose stages are different actors: a hop cannot take the
/// next actor over inside its typed loop, so its task runs the next actor
/// boxed.
pub mod foundation_mixed_ring {
    use foundation_mailbox::ActorRef;

    use super::foundation_ring::{Even, Hop, Odd, hops, lap_from, link, settle};

    /// The ring: each even hop passes to the odd one of its index, and that
    /// one to the next even hop.
    #[derive(Debug)]
    pub struct Ring {
        evens: Vec<ActorRef<Hop<Even>>>,
        odds: Vec<ActorRef<Hop<Odd>>>,
    }

    /// A ring of `size` actors (rounded up to an even number), half of
    /// each type.
    pub async fn start(size: usize, capacity: usize) -> Ring {
        let pairs = size.div_ceil(2);
        let evens = hops::<Even>(pairs, capacity).await;
        let odds = hops::<Odd>(pairs, capacity).await;
        for at in 0..pairs {
            link(&evens[at], &odds[at]).await;
            link(&odds[at], &evens[(at + 1) % pairs]).await;
        }
        settle().await;
        Ring { evens, odds }
    }

    /// Sends the token `hops` hops around the ring and waits for it.
    pub async fn lap(ring: &Ring, hops: u64) {
        lap_from(&ring.evens[0], hops).await;
    }

    /// Stops every actor of the ring.
    pub async fn stop(ring: Ring) {
        super::foundation_ring::stop(ring.evens).await;
        super::foundation_ring::stop(ring.odds).await;
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

    /// Stops the ring (async only to be driven as the others are).
    pub async fn stop(ring: Vec<ActorRef<Msg>>) {
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
