//! [`Registry`]: named limiters, looked up by name.

use std::{borrow::Borrow, collections::HashMap, fmt, hash::Hash};

use crate::{
    clock::{Clock, MonotonicClock},
    config::Config,
    decision::Decision,
    error::{RegisterError, UnknownLimiter},
    keyed::RateLimiter,
    sync::{Arc, RwLock, read, write},
};

/// Named [`RateLimiter`]s sharing one key type and one clock: `"login"`,
/// `"api"`, `"upload"`, each with its own limit and window.
///
/// Look a limiter up once with [`get`](Self::get) and keep the handle on hot
/// paths; [`check`](Self::check) looks the name up on every call.
///
/// ```
/// use std::time::Duration;
/// use foundation::rate_limiter::{Config, Registry};
///
/// let limiters = Registry::<String>::new();
/// limiters.register("login", Config::fixed_window(3, Duration::from_secs(60))).unwrap();
/// limiters.register("api", Config::gcra(100, Duration::from_secs(1))).unwrap();
///
/// assert!(limiters.check("login", "alice").unwrap().is_allowed());
/// assert!(limiters.check("nope", "alice").is_err());
/// ```
pub struct Registry<K, C = MonotonicClock> {
    clock: C,
    limiters: RwLock<HashMap<String, Arc<RateLimiter<K, C>>>>,
}

impl<K: Hash + Eq> Registry<K> {
    /// An empty registry on the default monotonic clock.
    pub fn new() -> Self {
        Self::with_clock(MonotonicClock::new())
    }
}

impl<K: Hash + Eq> Default for Registry<K> {
    fn default() -> Self {
        Self::new()
    }
}

impl<K: Hash + Eq, C: Clock + Clone> Registry<K, C> {
    /// An empty registry whose limiters read time from `clock`.
    pub fn with_clock(clock: C) -> Self {
        Self {
            clock,
            limiters: RwLock::new(HashMap::new()),
        }
    }

    /// Adds a limiter named `name` and returns it.
    ///
    /// # Errors
    ///
    /// [`RegisterError::Config`] for an invalid configuration,
    /// [`RegisterError::AlreadyRegistered`] if the name is taken.
    pub fn register(
        &self,
        name: impl Into<String>,
        config: Config,
    ) -> Result<Arc<RateLimiter<K, C>>, RegisterError> {
        let name = name.into();
        let mut limiters = write(&self.limiters);
        if limiters.contains_key(&name) {
            return Err(RegisterError::AlreadyRegistered { name });
        }
        let limiter = Arc::new(RateLimiter::named(config, self.clock.clone(), &name)?);
        limiters.insert(name, Arc::clone(&limiter));
        Ok(limiter)
    }

    /// The limiter named `name`.
    ///
    /// # Errors
    ///
    /// [`UnknownLimiter`] if there is none.
    ///
    /// ```
    /// use std::time::Duration;
    /// use foundation::rate_limiter::{Config, Registry};
    ///
    /// let limiters = Registry::<u64>::new();
    /// limiters.register("api", Config::gcra(2, Duration::from_secs(1))).unwrap();
    /// let api = limiters.get("api").unwrap();
    /// assert!(api.check(&42).is_allowed());
    /// ```
    pub fn get(&self, name: &str) -> Result<Arc<RateLimiter<K, C>>, UnknownLimiter> {
        let limiters = read(&self.limiters);
        limiters.get(name).cloned().ok_or_else(|| UnknownLimiter {
            name: name.to_owned(),
        })
    }

    /// Removes the limiter named `name`, returning it if it existed.
    pub fn remove(&self, name: &str) -> Option<Arc<RateLimiter<K, C>>> {
        let mut limiters = write(&self.limiters);
        limiters.remove(name)
    }

    /// The registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        let limiters = read(&self.limiters);
        let mut names: Vec<String> = limiters.keys().cloned().collect();
        names.sort_unstable();
        names
    }

    /// Checks one request for `key` against the limiter named `name`.
    ///
    /// # Errors
    ///
    /// [`UnknownLimiter`] if there is no such limiter.
    pub fn check<Q>(&self, name: &str, key: &Q) -> Result<Decision, UnknownLimiter>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        self.check_n(name, key, 1)
    }

    /// Checks `n` requests for `key` against the limiter named `name`; see
    /// [`RateLimiter::check_n`].
    ///
    /// # Errors
    ///
    /// [`UnknownLimiter`] if there is no such limiter.
    pub fn check_n<Q>(&self, name: &str, key: &Q, n: u32) -> Result<Decision, UnknownLimiter>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        let limiters = read(&self.limiters);
        match limiters.get(name) {
            Some(limiter) => Ok(limiter.check_n(key, n)),
            None => Err(UnknownLimiter {
                name: name.to_owned(),
            }),
        }
    }
}

impl<K, C> fmt::Debug for Registry<K, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limiters = read(&self.limiters);
        let mut names: Vec<&String> = limiters.keys().collect();
        names.sort_unstable();
        f.debug_struct("Registry")
            .field("limiters", &names)
            .finish_non_exhaustive()
    }
}
