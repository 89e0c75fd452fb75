//! [`ProcessGroups`]: OTP's `pg` as a value: named groups of processes that
//! take one message type, with members removed when they exit.

use std::{fmt, hash::Hash, sync::Arc};

use crate::{
    Actor, ActorRef, ExitHookId, JoinError, KeyRef, Pid, ProcessRef, Recipient, SendError,
    names::Shards,
};

/// One membership: the process, how to send to it, and the exit hook that
/// will remove it.
struct Member<M> {
    process: ProcessRef,
    recipient: Recipient<M>,
    hook: Option<ExitHookId>,
}

type Table<G, M> = Shards<G, Vec<Member<M>>>;

/// Groups of processes by key, each member reached as a [`Recipient<M>`]:
/// OTP's `pg`, or Elixir's `Registry` with duplicate keys, for the one
/// message type the group is for. Members of any actor type whose cast
/// converts from `M` can join the same group.
///
/// A member is removed by its exit hook, before its exit is published; from
/// the moment its mailbox closes (the first instant anyone could see it
/// gone) [`members`](Self::members) no longer lists it. The same race with
/// an exit as [`Registry::register`](crate::Registry::register) is handled
/// the same way: a join either gets its hook in before the exit, or fails.
///
/// ```
/// use foundation::mailbox::{Actor, Context, Delivery, ProcessGroups, start};
///
/// #[derive(Debug)]
/// struct Listener;
///
/// impl Actor for Listener {
///     type Args = ();
///     type Msg = String;
///     type Error = std::convert::Infallible;
///
///     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> {
///         Ok(Listener)
///     }
///     async fn handle(&mut self, _: String, _: &mut Context<Self>) -> Result<(), Self::Error> {
///         Ok(())
///     }
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let groups: ProcessGroups<&'static str, String> = ProcessGroups::new();
/// let (a, _a) = start::<Listener>(()).await.unwrap();
/// let (b, _b) = start::<Listener>(()).await.unwrap();
/// groups.join("news", &a).unwrap();
/// groups.join("news", &b).unwrap();
/// assert_eq!(groups.members("news").len(), 2);
///
/// let report = groups.broadcast("news", "hello".to_string());
/// assert!(report.all_delivered());
/// assert_eq!(report.results()[0].1, Delivery::Delivered);
///
/// b.kill();
/// assert_eq!(groups.members("news").len(), 1);
/// # }
/// ```
pub struct ProcessGroups<G, M> {
    table: Arc<Table<G, M>>,
}

impl<G, M> Clone for ProcessGroups<G, M> {
    fn clone(&self) -> Self {
        Self {
            table: Arc::clone(&self.table),
        }
    }
}

impl<G, M> fmt::Debug for ProcessGroups<G, M> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProcessGroups").finish_non_exhaustive()
    }
}

impl<G, M> Default for ProcessGroups<G, M>
where
    G: Hash + Eq + Clone + Send + Sync + 'static,
    M: Send + 'static,
{
    fn default() -> Self {
        Self::new()
    }
}

impl<G, M> ProcessGroups<G, M>
where
    G: Hash + Eq + Clone + Send + Sync + 'static,
    M: Send + 'static,
{
    /// No groups.
    pub fn new() -> Self {
        Self {
            table: Arc::new(Shards::new()),
        }
    }

    /// Adds `actor` to `group` until it exits or leaves. Joining a group
    /// twice is one membership. Fails if the actor has exited or is
    /// exiting.
    pub fn join<A>(&self, group: G, actor: &ActorRef<A>) -> Result<(), JoinError>
    where
        A: Actor,
        M: Into<A::Msg>,
    {
        let process = actor.process_ref();
        let pid = process.pid();
        {
            let mut shard = self.table.lock(&group);
            if !process.is_alive() {
                return Err(JoinError(pid));
            }
            let members = shard.entry(group.clone()).or_default();
            if members.iter().any(|member| member.process.pid() == pid) {
                return Ok(());
            }
            members.push(Member {
                process: process.clone(),
                recipient: actor.recipient(),
                hook: None,
            });
        }
        // In first, hook second, as in `Registry::register`.
        let table = Arc::downgrade(&self.table);
        let key = group.clone();
        let hook = process.on_exit(move |_| {
            if let Some(table) = table.upgrade() {
                remove_member(&table, &key, pid);
            }
        });
        match hook {
            Ok(hook) => {
                let mut shard = self.table.lock(&group);
                if let Some(member) = shard.get_mut(&group).and_then(|members| {
                    members
                        .iter_mut()
                        .find(|member| member.process.pid() == pid)
                }) {
                    member.hook = Some(hook);
                }
                Ok(())
            }
            Err(_exited) => {
                remove_member(&self.table, &group, pid);
                Err(JoinError(pid))
            }
        }
    }

    /// Removes the process `pid` from `group`. Returns `false` if it was
    /// not a member.
    pub fn leave(&self, group: &(impl KeyRef<G> + ?Sized), pid: Pid) -> bool {
        let left = {
            let mut shard = self.table.lock(group);
            take_member(group, &mut shard, pid)
        };
        let Some(member) = left else {
            return false;
        };
        if let Some(hook) = member.hook {
            // `false` if the hook is running: it will find the member gone.
            member.process.cancel_exit_hook(hook);
        }
        true
    }

    /// The group's live members, in the order they joined.
    pub fn members(&self, group: &(impl KeyRef<G> + ?Sized)) -> Vec<Recipient<M>> {
        let mut members = self.snapshot(group);
        members.retain(Recipient::is_alive);
        members
    }

    /// Casts `message` to every member without waiting (a full mailbox is
    /// reported, never waited on) and reports what happened at each. A
    /// member whose exit is under way but whose exit hook has not yet
    /// removed it is tried too, and reported as [`Delivery::NoProcess`].
    pub fn broadcast(&self, group: &(impl KeyRef<G> + ?Sized), message: M) -> BroadcastReport
    where
        M: Clone,
    {
        // Sent outside the shard lock: a conversion into an actor's cast
        // type is user code, and may itself use these groups.
        let members = self.snapshot(group);
        let results = members
            .iter()
            .map(|member| {
                let delivery = match member.try_send(message.clone()) {
                    Ok(()) => Delivery::Delivered,
                    Err(SendError::Full(_)) => Delivery::Full,
                    Err(SendError::NoProcess(_)) => Delivery::NoProcess,
                };
                (member.pid(), delivery)
            })
            .collect();
        BroadcastReport { results }
    }

    /// How many memberships there are in all groups, counting those of a
    /// process that is exiting right now and whose exit hook has not yet
    /// removed it.
    pub fn len(&self) -> usize {
        let mut count = 0;
        self.table
            .for_each_shard(|shard| count += shard.values().map(Vec::len).sum::<usize>());
        count
    }

    /// Whether there are no memberships (see [`len`](Self::len)).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every membership of `group`, live or not yet removed.
    fn snapshot(&self, group: &(impl KeyRef<G> + ?Sized)) -> Vec<Recipient<M>> {
        group
            .get_in(&self.table.lock(group))
            .map(|members| {
                members
                    .iter()
                    .map(|member| member.recipient.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// Takes `pid`'s membership out of `group`, dropping the group when it is
/// left empty so that groups nobody is in cost nothing.
fn take_member<G, M>(
    group: &(impl KeyRef<G> + ?Sized),
    shard: &mut std::collections::HashMap<G, Vec<Member<M>>>,
    pid: Pid,
) -> Option<Member<M>> {
    let members = group.get_mut_in(shard)?;
    let index = members
        .iter()
        .position(|member| member.process.pid() == pid)?;
    let member = members.remove(index);
    if members.is_empty() {
        group.remove_from(shard);
    }
    Some(member)
}

/// Removes `pid` from `group`: what a member's exit hook does.
fn remove_member<G: Hash + Eq, M>(table: &Table<G, M>, group: &G, pid: Pid) {
    let removed = {
        let mut shard = table.lock(group);
        take_member(group, &mut shard, pid)
    };
    // Outside the shard lock: dropping the last reference to a process can
    // run its exit hooks, and those lock shards.
    drop(removed);
}

/// What a [`ProcessGroups::broadcast`] did at one member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    /// The message is in the member's mailbox.
    Delivered,
    /// The member's mailbox was full; the message was not sent to it.
    Full,
    /// The member has exited; the message was not sent to it.
    NoProcess,
}

/// What a broadcast did at each member. Returned by
/// [`ProcessGroups::broadcast`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "a broadcast reports the members it did not reach"]
pub struct BroadcastReport {
    results: Vec<(Pid, Delivery)>,
}

impl BroadcastReport {
    /// Each member tried, in the order they joined, with what happened.
    pub fn results(&self) -> &[(Pid, Delivery)] {
        &self.results
    }

    /// How many members got the message.
    pub fn delivered(&self) -> usize {
        self.results
            .iter()
            .filter(|(_, delivery)| *delivery == Delivery::Delivered)
            .count()
    }

    /// Whether every member tried got the message (true for an empty
    /// group).
    pub fn all_delivered(&self) -> bool {
        self.delivered() == self.results.len()
    }

    /// What happened at the member `pid`, if it was tried.
    pub fn delivery(&self, pid: Pid) -> Option<Delivery> {
        self.results
            .iter()
            .find(|(member, _)| *member == pid)
            .map(|(_, delivery)| *delivery)
    }
}
