//! The rule table: every rule's id, name, one-line why, fix, default level and test exemption.

/// How seriously a finding is taken; set per rule in `audit.toml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    /// The rule is off.
    Allow,
    /// Reported; fails the run only with `--deny warnings`.
    Warn,
    /// Reported and fails the run.
    Deny,
}

impl Level {
    /// Parses `allow`, `warn` or `deny` (also `error`).
    pub fn parse(text: &str) -> Option<Level> {
        match text {
            "allow" | "off" => Some(Level::Allow),
            "warn" | "warning" => Some(Level::Warn),
            "deny" | "error" => Some(Level::Deny),
            _ => None,
        }
    }

    /// The word rustc uses for this level in diagnostics and SARIF.
    pub fn word(self) -> &'static str {
        match self {
            Level::Allow => "note",
            Level::Warn => "warning",
            Level::Deny => "error",
        }
    }
}

/// One audit rule.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Stable id, `FNDnnn`, used in suppressions and SARIF.
    pub id: &'static str,
    /// Stable kebab-case name, also accepted in suppressions.
    pub name: &'static str,
    /// Why the pattern hurts fault tolerance, one line.
    pub why: &'static str,
    /// The fix, one sentence; printed as `= help:`.
    pub help: &'static str,
    /// Level when `audit.toml` says nothing.
    pub default_level: Level,
    /// Whether test code (`#[test]` fns, `#[cfg(test)]` modules, `tests/` dirs) is exempt by default.
    pub exempt_tests: bool,
}

/// Index of each rule in [`RULES`].
pub const PARSE_ERROR: usize = 0;
/// `FND001`.
pub const UNSUPERVISED_SPAWN: usize = 1;
/// `FND002`.
pub const GLOBAL_MUTABLE_STATE: usize = 2;
/// `FND003`.
pub const UNBOUNDED_QUEUE: usize = 3;
/// `FND004`.
pub const IGNORED_SEND_RESULT: usize = 4;
/// `FND005`.
pub const UNTIMED_WAIT: usize = 5;
/// `FND006`.
pub const SLEEP_IN_TEST: usize = 6;
/// `FND007`.
pub const SWALLOWED_FAILURE: usize = 7;
/// `FND008`.
pub const BLOCKING_IN_ASYNC: usize = 8;
/// `FND009`.
pub const LEAKED_GUARD: usize = 9;
/// `FND010`.
pub const GOD_MODULE: usize = 10;
/// `FND011`.
pub const SUPPRESSION_WITHOUT_REASON: usize = 11;
/// `FND012`.
pub const GOD_FUNCTION: usize = 12;

/// Every rule, indexed by the constants above.
pub const RULES: &[Rule] = &[
    Rule {
        id: "FND000",
        name: "parse-error",
        why: "a file the audit cannot parse is a file it cannot vouch for",
        help: "fix the syntax error (or exclude the file in audit.toml if it is not Rust)",
        default_level: Level::Deny,
        exempt_tests: false,
    },
    Rule {
        id: "FND001",
        name: "unsupervised-spawn",
        why: "a task or thread nobody supervises dies silently and leaks when its owner goes",
        help: "start it under a supervisor (or a scope/JoinSet that owns it) instead of spawning it detached",
        default_level: Level::Warn,
        exempt_tests: true,
    },
    Rule {
        id: "FND002",
        name: "global-mutable-state",
        why: "process-wide mutable state survives restarts and couples every caller",
        help: "move the state into an actor or pass it explicitly instead of keeping it in a static",
        default_level: Level::Warn,
        exempt_tests: false,
    },
    Rule {
        id: "FND003",
        name: "unbounded-queue",
        why: "an unbounded queue turns overload into unbounded memory growth instead of backpressure",
        help: "use a bounded channel with an explicit capacity and a policy for when it is full",
        default_level: Level::Warn,
        exempt_tests: true,
    },
    Rule {
        id: "FND004",
        name: "ignored-send-result",
        why: "a failed send is a lost message; throwing the result away hides it",
        help: "handle the send error (log it, dead-letter it, or propagate it with `?`)",
        default_level: Level::Warn,
        exempt_tests: true,
    },
    Rule {
        id: "FND005",
        name: "untimed-wait",
        why: "a wait with no timeout hangs the caller forever when the other side dies",
        help: "wait with a timeout (`recv_timeout`, `tokio::time::timeout`) and handle its expiry",
        default_level: Level::Warn,
        exempt_tests: true,
    },
    Rule {
        id: "FND006",
        name: "sleep-in-test",
        why: "sleeping to wait for something makes tests slow and flaky",
        help: "wait for the event itself (a channel, a barrier, paused tokio time) instead of sleeping",
        default_level: Level::Warn,
        exempt_tests: false,
    },
    Rule {
        id: "FND007",
        name: "swallowed-failure",
        why: "an error or panic dropped without handling hides the bug that caused it",
        help: "handle the error: log it, return it, or let the supervisor see the failure",
        default_level: Level::Warn,
        exempt_tests: false,
    },
    Rule {
        id: "FND008",
        name: "blocking-in-async",
        why: "a blocking call inside async code stalls every task on that executor thread",
        help: "use the async equivalent (`tokio::time::sleep`, `tokio::fs`, `.recv().await`) or `spawn_blocking`",
        default_level: Level::Warn,
        exempt_tests: false,
    },
    Rule {
        id: "FND009",
        name: "leaked-guard",
        why: "a forgotten or leaked value never runs its Drop, so monitors and locks it guards leak",
        help: "keep the guard alive in a named binding or drop it explicitly instead of forgetting it",
        default_level: Level::Warn,
        exempt_tests: true,
    },
    Rule {
        id: "FND010",
        name: "god-module",
        why: "a file this long does too many things to reason about or review",
        help: "split it by responsibility into smaller modules",
        default_level: Level::Warn,
        exempt_tests: false,
    },
    Rule {
        id: "FND011",
        name: "suppression-without-reason",
        why: "a suppression nobody explained cannot be reviewed or removed later",
        help: "write the reason after the rule: `// audit:allow(FND001) reason why this is fine`",
        default_level: Level::Warn,
        exempt_tests: false,
    },
    Rule {
        id: "FND012",
        name: "god-function",
        why: "a function this long does too many things to reason about or test",
        help: "split it into smaller functions, one step each",
        default_level: Level::Warn,
        exempt_tests: false,
    },
];

/// Finds a rule by id (`FND001`) or name (`unsupervised-spawn`), case-insensitively.
pub fn lookup(key: &str) -> Option<usize> {
    let key = key.trim();
    RULES
        .iter()
        .position(|rule| rule.id.eq_ignore_ascii_case(key) || rule.name.eq_ignore_ascii_case(key))
}
