//! A static supervisor's runtime operations (OTP's `which_children`,
//! `count_children`, `start_child`, `restart_child`, `terminate_child`,
//! `delete_child`), answered between restarts and retries, and the retries
//! themselves.

use std::sync::Arc;

use foundation_mailbox::Context;

use super::{Child, Supervisor};
use crate::{
    ChildKind, ChildSpec, Restart, Started, SupervisorError, TryAgain, child,
    error::answer,
    flags::check_significance,
    supervisor_ref::{ChildCounts, ChildInfo, SupervisorMsg},
};

impl Supervisor {
    pub(super) fn position(&self, id: &str) -> Result<usize, SupervisorError> {
        self.children
            .iter()
            .position(|child| child.spec.id() == id)
            .ok_or_else(|| SupervisorError::NotFound(id.into()))
    }

    /// Handles one message: answers a request, publishing what it changed
    /// before the answer goes out (so a caller that has its answer finds the
    /// directory up to date), or tries a queued restart again.
    pub(super) async fn handle_message(&mut self, message: SupervisorMsg, ctx: &mut Context<Self>) {
        match message {
            SupervisorMsg::WhichChildren(reply) => answer(reply, self.children_info()),
            SupervisorMsg::CountChildren(reply) => answer(reply, self.counts()),
            SupervisorMsg::StartChild(spec, reply) => {
                let started = self.add(spec).await;
                self.publish();
                answer(reply, started);
            }
            SupervisorMsg::RestartChild(id, reply) => {
                let started = self.restart_child(&id).await;
                self.publish();
                answer(reply, started);
            }
            SupervisorMsg::TerminateChild(id, reply) => {
                let done = self.terminate_child(&id).await;
                self.publish();
                answer(reply, done);
            }
            SupervisorMsg::DeleteChild(id, reply) => {
                let done = self.delete_child(&id);
                self.publish();
                answer(reply, done);
            }
            SupervisorMsg::GetChildSpec(id, reply) => answer(
                reply,
                self.position(&id)
                    .map(|index| self.children[index].spec.clone()),
            ),
            SupervisorMsg::Directory(reply) => answer(reply, Arc::clone(&self.directory)),
            SupervisorMsg::TryAgain(TryAgain(id)) => {
                self.try_again(&id, ctx).await;
                self.publish();
            }
        }
    }

    fn children_info(&self) -> Vec<ChildInfo> {
        self.children
            .iter()
            .map(|child| ChildInfo {
                id: child.spec.shared_id(),
                process: child
                    .running
                    .as_ref()
                    .map(|running| running.process.clone()),
                restarting: child.restarting,
                kind: child.spec.kind(),
                restart: child.spec.restart_type(),
            })
            .collect()
    }

    fn counts(&self) -> ChildCounts {
        let mut counts = ChildCounts::default();
        for child in &self.children {
            counts.specs += 1;
            counts.active += usize::from(child.running.is_some());
            match child.spec.kind() {
                ChildKind::Worker => counts.workers += 1,
                ChildKind::Supervisor => counts.supervisors += 1,
            }
        }
        counts
    }

    /// OTP's `start_child`: an id already held, running, restarting or
    /// stopped, is refused (`already_present`).
    /// A start that says "not now" answers [`Started::Ignored`] and keeps
    /// the child listed as not running (not a temporary one).
    async fn add(&mut self, spec: ChildSpec) -> Result<Started, SupervisorError> {
        if self
            .children
            .iter()
            .any(|child| child.spec.id() == spec.id())
        {
            return Err(SupervisorError::DuplicateChild(spec.shared_id()));
        }
        check_significance(&spec, self.auto_shutdown)?;
        let (running, started) =
            child::start(&spec, &self.me)
                .await
                .map_err(|cause| SupervisorError::ChildStart {
                    id: spec.shared_id(),
                    cause,
                })?;
        if running.is_some() || spec.restart_type() != Restart::Temporary {
            self.children.push(Child::new(spec, running));
        }
        Ok(started)
    }

    async fn restart_child(&mut self, id: &str) -> Result<Started, SupervisorError> {
        let index = self.position(id)?;
        let child = &mut self.children[index];
        if child.running.is_some() {
            return Err(SupervisorError::Running(id.into()));
        }
        if child.restarting {
            return Err(SupervisorError::Restarting(id.into()));
        }
        let (running, started) = child::start(&child.spec, &self.me).await.map_err(|cause| {
            SupervisorError::ChildStart {
                id: id.into(),
                cause,
            }
        })?;
        child.running = running;
        Ok(started)
    }

    /// Stops a running child; for a child whose restart is being retried,
    /// ends the retries (the queued retry then finds nothing to do).
    async fn terminate_child(&mut self, id: &str) -> Result<(), SupervisorError> {
        let index = self.position(id)?;
        self.children[index].restarting = false;
        self.stop_children(index..index + 1, "terminate_child")
            .await;
        if self.children[index].spec.restart_type() == Restart::Temporary {
            self.children.remove(index);
        }
        Ok(())
    }

    fn delete_child(&mut self, id: &str) -> Result<(), SupervisorError> {
        let index = self.position(id)?;
        let child = &self.children[index];
        if child.running.is_some() {
            return Err(SupervisorError::Running(id.into()));
        }
        if child.restarting {
            return Err(SupervisorError::Restarting(id.into()));
        }
        self.children.remove(index);
        Ok(())
    }
}
