//! A supervisor's flags and children (OTP's `sup_flags()` plus the child
//! list), and the validity rules checked before anything starts.

use std::{collections::HashSet, time::Duration};

use crate::{ChildSpec, Restart, SupervisorError};

/// Which children a supervisor restarts when one of them exits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum Strategy {
    /// Only the child that exited.
    #[default]
    OneForOne,
    /// All children: the others are stopped in reverse start order, then all
    /// are started again in start order.
    OneForAll,
    /// The child that exited and every child started after it: those are
    /// stopped in reverse order, then all of them started again in order.
    RestForOne,
}

/// Restart intensity: at most `max_restarts` restarts within any `period`.
/// One more and the supervisor gives up: it stops every child and exits, so
/// its own parent decides what happens next.
///
/// ```
/// use std::time::Duration;
/// use foundation::supervisor::Intensity;
///
/// let default = Intensity::default();
/// assert_eq!(default.max_restarts, 3);
/// assert_eq!(default.period, Duration::from_secs(5));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Intensity {
    /// How many restarts are allowed within `period`.
    pub max_restarts: u32,
    /// The sliding window the restarts are counted in.
    pub period: Duration,
}

impl Intensity {
    /// `max_restarts` restarts within `period`.
    pub const fn new(max_restarts: u32, period: Duration) -> Self {
        Self {
            max_restarts,
            period,
        }
    }
}

impl Intensity {
    /// OTP's rule: a period of zero would count no restart at all.
    pub(crate) fn validate(&self) -> Result<(), SupervisorError> {
        if self.period.is_zero() {
            return Err(SupervisorError::InvalidPeriod(self.period));
        }
        Ok(())
    }
}

impl Default for Intensity {
    /// Three restarts in five seconds: the origin system's production
    /// setting, and the same default everywhere.
    fn default() -> Self {
        Self::new(3, Duration::from_secs(5))
    }
}

/// When a supervisor shuts itself down because significant children exited
/// (OTP's `auto_shutdown`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum AutoShutdown {
    /// Never: significant children are not allowed.
    #[default]
    Never,
    /// As soon as any significant child exits by itself without a restart.
    AnySignificant,
    /// Once every significant child has exited by itself without a restart.
    AllSignificant,
}

/// What a supervisor runs: its strategy, intensity, auto-shutdown, and
/// children in start order.
///
/// ```
/// use std::time::Duration;
/// use foundation::supervisor::{ChildSpec, Intensity, Strategy, SupervisorSpec};
/// # use foundation::mailbox::{Actor, Context};
/// # #[derive(Debug)] struct Worker;
/// # impl Actor for Worker {
/// #     type Args = (); type Msg = ();
/// #     type Error = std::convert::Infallible;
/// #     async fn init(_: (), _: &mut Context<Self>) -> Result<Self, Self::Error> { Ok(Worker) }
/// #     async fn handle(&mut self, _: (), _: &mut Context<Self>) -> Result<(), Self::Error> { Ok(()) }
/// # }
///
/// let spec = SupervisorSpec::new(Strategy::RestForOne)
///     .intensity(Intensity::new(5, Duration::from_secs(10)))
///     .child(ChildSpec::actor::<Worker>("database", ()))
///     .child(ChildSpec::actor::<Worker>("cache", ()));
/// assert_eq!(spec.children().len(), 2);
/// assert!(spec.validate().is_ok());
/// ```
#[derive(Clone, Debug, Default)]
pub struct SupervisorSpec {
    pub(crate) strategy: Strategy,
    pub(crate) intensity: Intensity,
    pub(crate) auto_shutdown: AutoShutdown,
    pub(crate) children: Vec<ChildSpec>,
    /// Set by [`Supervisor::start`](crate::Supervisor::start) for the
    /// incarnation it starts.
    pub(crate) directory: Option<std::sync::Arc<crate::directory::Directory>>,
}

impl SupervisorSpec {
    /// A supervisor with `strategy`, the default intensity (3 in 5 s), no
    /// auto-shutdown and no children yet.
    pub fn new(strategy: Strategy) -> Self {
        Self {
            strategy,
            ..Self::default()
        }
    }

    /// Sets the restart intensity.
    pub fn intensity(mut self, intensity: Intensity) -> Self {
        self.intensity = intensity;
        self
    }

    /// Sets the auto-shutdown rule.
    pub fn auto_shutdown(mut self, auto_shutdown: AutoShutdown) -> Self {
        self.auto_shutdown = auto_shutdown;
        self
    }

    /// Adds a child after the ones already given: children start in the
    /// order they are added and stop in reverse.
    pub fn child(mut self, child: ChildSpec) -> Self {
        self.children.push(child);
        self
    }

    /// The strategy.
    pub fn strategy(&self) -> Strategy {
        self.strategy
    }

    /// The children, in start order.
    pub fn children(&self) -> &[ChildSpec] {
        &self.children
    }

    /// Checks OTP's rules before anything starts: the intensity's period is
    /// not zero, child ids are unique, a permanent child cannot be
    /// significant, and significant children need an auto-shutdown other
    /// than [`AutoShutdown::Never`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::supervisor::{Intensity, Strategy, SupervisorError, SupervisorSpec};
    ///
    /// let spec = SupervisorSpec::new(Strategy::OneForOne).intensity(Intensity::new(1, Duration::ZERO));
    /// assert!(matches!(spec.validate(), Err(SupervisorError::InvalidPeriod(_))));
    /// ```
    pub fn validate(&self) -> Result<(), SupervisorError> {
        self.intensity.validate()?;
        let mut ids = HashSet::new();
        for child in &self.children {
            if !ids.insert(child.id()) {
                return Err(SupervisorError::DuplicateChild(child.shared_id()));
            }
            check_significance(child, self.auto_shutdown)?;
        }
        Ok(())
    }
}

/// OTP's rule for one child: significant needs a non-`never` auto-shutdown
/// and a restart type that lets the child stay down.
pub(crate) fn check_significance(
    child: &ChildSpec,
    auto_shutdown: AutoShutdown,
) -> Result<(), SupervisorError> {
    if !child.is_significant() {
        return Ok(());
    }
    if child.restart_type() == Restart::Permanent {
        return Err(SupervisorError::InvalidChild {
            id: child.shared_id(),
            problem: "a permanent child cannot be significant: it never stays down",
        });
    }
    if auto_shutdown == AutoShutdown::Never {
        return Err(SupervisorError::InvalidChild {
            id: child.shared_id(),
            problem: "a significant child needs auto_shutdown any_significant or all_significant",
        });
    }
    Ok(())
}
