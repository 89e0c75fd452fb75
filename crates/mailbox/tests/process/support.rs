//! A configurable test actor and a collecting dead-letter sink.

use std::{
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use foundation_mailbox::{
    Actor, ActorRef, Context, DeadLetter, DeadLetterReason, DeadLetterSink, ExitReason,
    MessageKind, Pid, Reply, SystemMessage,
};
use tokio::sync::{Semaphore, mpsc};

/// Long enough never to fire in a passing test; tests that must not wait
/// check elapsed time under a paused clock instead.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

#[derive(Debug, thiserror::Error)]
#[error("probe failed on purpose")]
pub(crate) struct ProbeFailed;

/// What the probe reports to its test.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Event {
    Started,
    Entered(u64),
    System(SystemMessage),
    Terminated(ExitReason),
    /// A reply found its caller gone.
    Unheard,
}

#[derive(Debug)]
pub(crate) enum Cast {
    Record(u64),
    /// Waits for a permit on the gate before going on.
    Block(u64),
    Panic,
    StopWith(ExitReason),
    TrapExits,
    /// Makes `terminate` wait for a permit on the gate.
    HangInTerminate,
}

#[derive(Debug)]
pub(crate) enum Call {
    Log,
    Echo(u64),
    /// Waits for a permit on the gate, then replies.
    Block(u64),
    Panic,
    Fail,
}

/// The probe's one message type: a cast, or a call with its reply port.
#[derive(Debug)]
pub(crate) enum Msg {
    Cast(Cast),
    Call(Call, Reply<Vec<u64>>),
}

impl From<Cast> for Msg {
    fn from(cast: Cast) -> Self {
        Msg::Cast(cast)
    }
}

/// The request for `ActorRef::call`: `probe.call(ask(Call::Log), timeout)`.
pub(crate) fn ask(request: Call) -> impl FnOnce(Reply<Vec<u64>>) -> Msg {
    move |reply| Msg::Call(request, reply)
}

#[derive(Debug, Default)]
pub(crate) enum Init {
    #[default]
    Ok,
    Fail,
    Panic,
    /// Waits on the gate before finishing init.
    Block,
}

#[derive(Debug, Clone)]
pub(crate) struct Probe {
    pub(crate) log: Vec<u64>,
    pub(crate) hang_in_terminate: bool,
    pub(crate) gate: Arc<Semaphore>,
    pub(crate) events: mpsc::Sender<Event>,
    pub(crate) drops: Arc<AtomicUsize>,
}

impl Drop for Probe {
    fn drop(&mut self) {
        self.drops.fetch_add(1, Ordering::SeqCst);
    }
}

#[derive(Debug)]
pub(crate) struct ProbeArgs {
    pub(crate) init: Init,
    pub(crate) gate: Arc<Semaphore>,
    pub(crate) events: mpsc::Sender<Event>,
    pub(crate) drops: Arc<AtomicUsize>,
}

/// The test's side of a probe: its gate, its events, its drop counter.
#[derive(Debug)]
pub(crate) struct Harness {
    pub(crate) gate: Arc<Semaphore>,
    pub(crate) events: mpsc::Receiver<Event>,
    pub(crate) drops: Arc<AtomicUsize>,
}

impl Harness {
    pub(crate) fn args(init: Init) -> (ProbeArgs, Harness) {
        let gate = Arc::new(Semaphore::new(0));
        let (sender, events) = mpsc::channel(4096);
        let drops = Arc::new(AtomicUsize::new(0));
        let args = ProbeArgs {
            init,
            gate: gate.clone(),
            events: sender,
            drops: drops.clone(),
        };
        (
            args,
            Harness {
                gate,
                events,
                drops,
            },
        )
    }

    /// The next event, failing the test rather than hanging.
    pub(crate) async fn next(&mut self) -> Event {
        match tokio::time::timeout(PATIENCE, self.events.recv()).await {
            Ok(Some(event)) => event,
            Ok(None) => panic!("probe's event channel closed"),
            Err(_) => panic!("no event from the probe within {PATIENCE:?}"),
        }
    }

    /// Waits until the probe reports it entered the handler for `id`.
    pub(crate) async fn entered(&mut self, id: u64) {
        loop {
            if self.next().await == Event::Entered(id) {
                return;
            }
        }
    }

    /// Holds the probe inside a handler (a `Block` cast) and waits until it
    /// is there, so what is sent next queues up behind it.
    pub(crate) async fn hold(&mut self, probe: &ActorRef<Probe>, id: u64) {
        if probe.cast_from(Cast::Block(id)).await.is_err() {
            panic!("the probe to hold has exited");
        }
        self.entered(id).await;
    }

    pub(crate) fn open_gate(&self, permits: usize) {
        self.gate.add_permits(permits);
    }
}

impl Probe {
    async fn pass_gate(&mut self, id: u64) {
        self.report(Event::Entered(id)).await;
        match self.gate.acquire().await {
            Ok(permit) => permit.forget(),
            Err(_) => panic!("gate closed"),
        }
    }

    async fn report(&self, event: Event) {
        // A test that stopped listening has finished; its probe reports to no one.
        let _unheard = self.events.send(event).await;
    }
}

impl Actor for Probe {
    type Args = ProbeArgs;
    type Msg = Msg;
    type Error = ProbeFailed;

    async fn init(args: ProbeArgs, _ctx: &mut Context<Self>) -> Result<Self, ProbeFailed> {
        let mut probe = Probe {
            log: Vec::new(),
            hang_in_terminate: false,
            gate: args.gate,
            events: args.events,
            drops: args.drops,
        };
        match args.init {
            Init::Ok => {}
            Init::Fail => return Err(ProbeFailed),
            Init::Panic => panic!("init panicked"),
            Init::Block => probe.pass_gate(0).await,
        }
        probe.report(Event::Started).await;
        Ok(probe)
    }

    async fn handle(&mut self, message: Msg, ctx: &mut Context<Self>) -> Result<(), ProbeFailed> {
        let (request, reply) = match message {
            Msg::Cast(cast) => return self.cast(cast, ctx).await,
            Msg::Call(request, reply) => (request, reply),
        };
        let answer = match request {
            Call::Log => self.log.clone(),
            Call::Echo(value) => vec![value],
            Call::Block(id) => {
                self.pass_gate(id).await;
                vec![id]
            }
            Call::Panic => panic!("call panicked"),
            Call::Fail => return Err(ProbeFailed),
        };
        if reply.send(answer).is_err() {
            self.report(Event::Unheard).await;
        }
        Ok(())
    }

    async fn handle_system(
        &mut self,
        message: SystemMessage,
        _ctx: &mut Context<Self>,
    ) -> Result<(), ProbeFailed> {
        self.report(Event::System(message)).await;
        Ok(())
    }

    async fn terminate(&mut self, reason: &ExitReason, _ctx: &mut Context<Self>) {
        if self.hang_in_terminate {
            self.pass_gate(u64::MAX).await;
        }
        self.report(Event::Terminated(reason.clone())).await;
    }
}

impl Probe {
    async fn cast(&mut self, message: Cast, ctx: &mut Context<Self>) -> Result<(), ProbeFailed> {
        match message {
            Cast::Record(value) => self.log.push(value),
            Cast::Block(id) => self.pass_gate(id).await,
            Cast::Panic => panic!("cast panicked"),
            Cast::StopWith(reason) => ctx.stop(reason),
            Cast::TrapExits => ctx.trap_exits(true),
            Cast::HangInTerminate => self.hang_in_terminate = true,
        }
        Ok(())
    }
}

/// What the collecting sink keeps of a dead letter: recipient, reason, kind,
/// and the probe's number in the message, if it had one.
pub(crate) type Letter = (Pid, DeadLetterReason, MessageKind, Option<u64>);

/// A dead-letter sink that keeps what it is given.
#[derive(Debug, Default)]
pub(crate) struct Collect {
    letters: Mutex<Vec<Letter>>,
}

impl Collect {
    pub(crate) fn letters(&self) -> Vec<Letter> {
        self.letters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl DeadLetterSink for Collect {
    fn dead_letter(&self, letter: DeadLetter) {
        // A call's request was dropped to tell its caller: only casts
        // carry their message.
        let value = match letter.message.downcast_ref::<Msg>() {
            Some(Msg::Cast(Cast::Record(value) | Cast::Block(value))) => Some(*value),
            _ => None,
        };
        self.letters
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((letter.recipient, letter.reason, letter.kind, value));
    }
}
