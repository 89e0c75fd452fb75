//! [`Probe`]: a real process a test hands to the code under test, with bounded expectations on what it receives.

mod actor;

use std::{collections::VecDeque, fmt, time::Duration};

use foundation_mailbox::{
    ActorHandle, ActorRef, ExitReason, Pid, ProcessRef, Recipient, StartError, start,
};
use foundation_monitor_manager::{Link, LinkError, Monitor, MonitorManager};
use tokio::{sync::mpsc, time::Instant};

pub use self::actor::{Observed, ProbeActor};
use crate::ProbeError;

/// How many observations a probe buffers between its process and the test
/// by default; beyond it the probe's own mailbox fills (backpressure).
pub const DEFAULT_PROBE_CAPACITY: usize = 1024;

/// A process that tests hand to the code under test as a
/// [`Recipient`], an [`ActorRef`] or a watcher, and then question:
/// [`expect`](Self::expect) a message within a bound,
/// [`expect_no_message`](Self::expect_no_message) for a quiet period,
/// [`expect_down`](Self::expect_down) from a process it
/// [watches](Self::watch), [`expect_exit`](Self::expect_exit) from one it is
/// [linked](Self::link) to.
///
/// The probe is a real actor (Akka's `TestProbe`, ExUnit's test process):
/// messages reach it through the same bounded mailbox as any other
/// actor's, it can be monitored and linked, and its exit is a real exit.
///
/// Expectations search the way Erlang's selective receive and ExUnit's
/// `assert_receive` do: the first message that matches is taken, those
/// that do not stay unread, in order, for later expectations. Every wait
/// is bounded; with tokio's paused time (`start_paused = true`) a bound
/// that expires costs no wall time.
///
/// Dropping the probe ends its process with a shutdown reason, so code
/// under test that watches it gets a DOWN, and a process linked to it (and
/// not trapping exits) ends with that reason too.
///
/// Every expectation is cancel-safe: a message received before the cancel
/// stays unread for the next one.
///
/// ```
/// use std::time::Duration;
/// use foundation::testkit::Probe;
///
/// #[derive(Debug, PartialEq)]
/// enum Event {
///     Started(u32),
///     Done,
/// }
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let mut probe = Probe::<Event>::start().await.unwrap();
/// let events = probe.recipient::<Event>(); // what the code under test gets
///
/// events.send(Event::Started(7)).await.unwrap();
/// events.send(Event::Done).await.unwrap();
///
/// let within = Duration::from_secs(1);
/// // Taken out of order: `Started(7)` stays unread for the next expectation.
/// assert_eq!(probe.expect(|e| *e == Event::Done, within).await.unwrap(), Event::Done);
/// let id = probe.expect_map(|e| match e { Event::Started(id) => Some(*id), _ => None }, within).await.unwrap();
/// assert_eq!(id, 7);
/// // Costs no wall time under paused time.
/// probe.expect_no_message(Duration::from_millis(100)).await.unwrap();
/// # }
/// ```
pub struct Probe<M: Send + 'static> {
    actor: ActorRef<ProbeActor<M>>,
    handle: ActorHandle,
    from_probe: mpsc::Receiver<Observed<M>>,
    /// Received but not yet taken by an expectation, oldest first.
    unread: VecDeque<Observed<M>>,
    capacity: usize,
    monitors: MonitorManager,
    watched: Vec<Monitor>,
    links: Vec<Link>,
}

impl<M: Send + 'static> fmt::Debug for Probe<M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Probe")
            .field("pid", &self.actor.pid())
            .field("unread", &self.unread.len())
            .field("watched", &self.watched.len())
            .field("links", &self.links.len())
            .finish()
    }
}

impl<M: Send + fmt::Debug + 'static> Probe<M> {
    /// Starts a probe with room for [`DEFAULT_PROBE_CAPACITY`] observations.
    ///
    /// Fails only as [`start`] does: with no tokio runtime. Cancel-safe as
    /// [`start`] is.
    pub async fn start() -> Result<Self, StartError> {
        Self::with_capacity(DEFAULT_PROBE_CAPACITY).await
    }

    /// Starts a probe buffering up to `capacity` observations (at least one)
    /// between its process and the test; past that its mailbox fills and the
    /// code under test feels backpressure.
    pub async fn with_capacity(capacity: usize) -> Result<Self, StartError> {
        let capacity = capacity.max(1);
        let (to_test, from_probe) = mpsc::channel(capacity);
        let (actor, handle) = start::<ProbeActor<M>>(to_test).await?;
        Ok(Self {
            actor,
            handle,
            from_probe,
            unread: VecDeque::new(),
            capacity,
            monitors: MonitorManager::new(),
            watched: Vec::new(),
            links: Vec::new(),
        })
    }

    /// The probe's pid.
    pub fn pid(&self) -> Pid {
        self.actor.pid()
    }

    /// The probe as a process: to monitor, link or stop it.
    pub fn process_ref(&self) -> ProcessRef {
        self.actor.process_ref()
    }

    /// The probe as a typed actor reference.
    pub fn actor_ref(&self) -> &ActorRef<ProbeActor<M>> {
        &self.actor
    }

    /// The probe as a cast-only recipient of `N`, anything that converts
    /// into the probe's message type.
    pub fn recipient<N>(&self) -> Recipient<N>
    where
        N: Into<M> + Send + 'static,
    {
        self.actor.recipient()
    }

    /// Monitors `target`: its exit becomes a DOWN for
    /// [`expect_down`](Self::expect_down). A target already gone gives a
    /// DOWN with [`ExitReason::NoProcess`] at once.
    #[track_caller]
    pub fn watch(&mut self, target: &ProcessRef) {
        let monitor = self
            .monitors
            .monitor(&self.actor.process_ref(), target, "testkit probe");
        self.watched.push(monitor);
    }

    /// Links the probe to `target`. The probe traps exits, so `target`'s exit
    /// arrives as an exit signal for [`expect_exit`](Self::expect_exit)
    /// instead of ending the probe; and the probe's own exit (when it is
    /// dropped) reaches `target` as an exit signal with a shutdown reason.
    pub fn link(&mut self, target: &ProcessRef) -> Result<(), LinkError> {
        let link = foundation_monitor_manager::link(&self.actor.process_ref(), target)?;
        self.links.push(link);
        Ok(())
    }

    /// Waits up to `within` for the next message (DOWNs and exits stay
    /// unread for their own expectations).
    pub async fn receive(&mut self, within: Duration) -> Result<M, ProbeError> {
        self.expect(|_| true, within).await
    }

    /// Waits up to `within` for the first message `matcher` accepts and
    /// returns it; those it skips stay unread, in order.
    pub async fn expect(
        &mut self,
        matcher: impl FnMut(&M) -> bool,
        within: Duration,
    ) -> Result<M, ProbeError> {
        self.expect_described("message matching the expectation", matcher, within)
            .await
    }

    /// [`expect`](Self::expect), with what is expected described for the
    /// failure message (`"message matching `Event::Done`"`). The
    /// [`expect_match!`](crate::expect_match) macro writes the description
    /// from its pattern.
    pub async fn expect_described(
        &mut self,
        expected: &str,
        mut matcher: impl FnMut(&M) -> bool,
        within: Duration,
    ) -> Result<M, ProbeError> {
        let taken = self
            .take(
                |observed| matches!(observed, Observed::Message(message) if matcher(message)),
                within,
                expected,
            )
            .await?;
        match taken {
            Observed::Message(message) => Ok(message),
            // `take` returns only what the closure accepted: a message.
            Observed::Down(_) | Observed::Exit { .. } => Err(self.exited()),
        }
    }

    /// Waits up to `within` for the first message `pick` maps to a value,
    /// and returns the value: a receive of the next message of one kind
    /// (`|e| match e { Event::Done(n) => Some(*n), _ => None }`). Messages
    /// it skips stay unread.
    pub async fn expect_map<T>(
        &mut self,
        mut pick: impl FnMut(&M) -> Option<T>,
        within: Duration,
    ) -> Result<T, ProbeError> {
        let mut picked = None;
        self.take(
            |observed| match observed {
                Observed::Message(message) => {
                    picked = pick(message);
                    picked.is_some()
                }
                Observed::Down(_) | Observed::Exit { .. } => false,
            },
            within,
            "message the expectation maps to a value",
        )
        .await?;
        picked.ok_or_else(|| self.exited())
    }

    /// Waits up to `within` for the DOWN of `target`, which the probe must
    /// [watch](Self::watch), and returns the exit reason it carries.
    pub async fn expect_down(
        &mut self,
        target: Pid,
        within: Duration,
    ) -> Result<ExitReason, ProbeError> {
        let Some(index) = self.watched.iter().position(|m| m.target() == target) else {
            return Err(ProbeError::NotWatched {
                probe: self.pid(),
                target,
            });
        };
        let taken = self
            .take(
                |observed| matches!(observed, Observed::Down(down) if down.pid == target),
                within,
                &format!("DOWN from {target}"),
            )
            .await?;
        // The monitor has fired; its guard has nothing left to do.
        drop(self.watched.swap_remove(index));
        match taken {
            Observed::Down(down) => Ok(down.reason),
            Observed::Message(_) | Observed::Exit { .. } => Err(self.exited()),
        }
    }

    /// Waits up to `within` for the exit signal of `target`, which the probe
    /// must be [linked](Self::link) to, and returns its reason.
    pub async fn expect_exit(
        &mut self,
        target: Pid,
        within: Duration,
    ) -> Result<ExitReason, ProbeError> {
        let linked = self
            .links
            .iter()
            .any(|link| link.pids().0 == target || link.pids().1 == target);
        if !linked {
            return Err(ProbeError::NotLinked {
                probe: self.pid(),
                target,
            });
        }
        let taken = self
            .take(
                |observed| matches!(observed, Observed::Exit { from, .. } if *from == target),
                within,
                &format!("exit signal from {target}"),
            )
            .await?;
        self.links
            .retain(|link| link.pids().0 != target && link.pids().1 != target);
        match taken {
            Observed::Exit { reason, .. } => Ok(reason),
            Observed::Message(_) | Observed::Down(_) => Err(self.exited()),
        }
    }

    /// Checks that the probe holds nothing unread and that nothing arrives
    /// for `quiet` (ExUnit's `refute_receive`). Bounded by `quiet`; with
    /// tokio's paused time it costs no wall time.
    pub async fn expect_no_message(&mut self, quiet: Duration) -> Result<(), ProbeError> {
        if let Some(first) = self.unread.front() {
            return Err(ProbeError::Unexpected {
                probe: self.pid(),
                received: format!("{first:?}"),
                during: quiet,
            });
        }
        match tokio::time::timeout(quiet, self.from_probe.recv()).await {
            Err(_elapsed) => Ok(()),
            Ok(Some(observed)) => {
                let received = format!("{observed:?}");
                self.unread.push_back(observed);
                Err(ProbeError::Unexpected {
                    probe: self.pid(),
                    received,
                    during: quiet,
                })
            }
            Ok(None) => Err(self.exited()),
        }
    }

    /// Everything the probe holds unread, oldest first, without waiting.
    pub fn unread(&mut self) -> Vec<&Observed<M>> {
        while let Ok(observed) = self.from_probe.try_recv() {
            self.unread.push_back(observed);
        }
        self.unread.iter().collect()
    }

    /// Takes the first observation `accept` wants: from the unread ones
    /// first, then as they arrive, until `within` has passed.
    async fn take(
        &mut self,
        mut accept: impl FnMut(&Observed<M>) -> bool,
        within: Duration,
        expected: &str,
    ) -> Result<Observed<M>, ProbeError> {
        if let Some(index) = self.unread.iter().position(&mut accept)
            && let Some(observed) = self.unread.remove(index)
        {
            return Ok(observed);
        }
        let deadline = Instant::now() + within;
        loop {
            match tokio::time::timeout_at(deadline, self.from_probe.recv()).await {
                Ok(Some(observed)) if accept(&observed) => return Ok(observed),
                Ok(Some(observed)) => {
                    self.unread.push_back(observed);
                    if self.unread.len() >= self.capacity {
                        return Err(ProbeError::TooManyUnread {
                            probe: self.pid(),
                            expected: expected.to_owned(),
                            unread: self.unread.len(),
                        });
                    }
                }
                Ok(None) => return Err(self.exited()),
                Err(_elapsed) => {
                    return Err(ProbeError::Timeout {
                        probe: self.pid(),
                        expected: expected.to_owned(),
                        within,
                        unread: self.unread.iter().map(|o| format!("{o:?}")).collect(),
                    });
                }
            }
        }
    }

    fn exited(&self) -> ProbeError {
        ProbeError::ProbeExited {
            probe: self.pid(),
            reason: self.actor.exit_reason(),
        }
    }
}

impl<M: Send + 'static> Probe<M> {
    /// The probe's exit handle, to wait for its process to end.
    pub fn handle(&self) -> &ActorHandle {
        &self.handle
    }
}

impl<M: Send + 'static> Drop for Probe<M> {
    fn drop(&mut self) {
        // Closing the test's side makes the process's next forward fail and
        // stop it; the exit signal to itself wakes it if it is idle. Both
        // end it with a shutdown reason, so watchers get a DOWN.
        self.from_probe.close();
        let probe = self.actor.process_ref();
        let delivered =
            probe.exit_signal(probe.pid(), ExitReason::shutdown_because("probe dropped"));
        if !delivered {
            tracing::trace!(target: "foundation::testkit", pid = %probe.pid(), "probe already exited when dropped");
        }
    }
}
