//! The tour's first stop: actors being called, one panicking, the caller told why.

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use foundation::mailbox::{
    Actor, ActorOptions, CallError, Context, DeadLetter, DeadLetterSink, ExitReason, Reply, start,
    start_with,
};

const TIMEOUT: Duration = Duration::from_secs(1);

/// A bank account: deposits are casts, balance queries and withdrawals
/// calls, each answered through its own typed port.
#[derive(Debug)]
struct Account {
    balance: u64,
}

#[derive(Debug)]
enum Msg {
    Deposit(u64),
    Balance(Reply<u64>),
    /// Answers with the balance left.
    Withdraw(u64, Reply<u64>),
    /// A bug on purpose: this handler panics.
    Audit(Reply<u64>),
}

#[derive(Debug, thiserror::Error)]
enum AccountError {
    #[error("withdrawal of {wanted} exceeds the balance of {balance}")]
    Overdrawn { wanted: u64, balance: u64 },
}

impl Actor for Account {
    type Args = u64;
    type Msg = Msg;
    type Error = AccountError;

    async fn init(opening: u64, _ctx: &mut Context<Self>) -> Result<Self, AccountError> {
        Ok(Account { balance: opening })
    }

    async fn handle(&mut self, msg: Msg, _ctx: &mut Context<Self>) -> Result<(), AccountError> {
        match msg {
            Msg::Deposit(deposit) => {
                // A bug on purpose: zero deposits were never meant to reach the ledger.
                assert!(deposit > 0, "a zero deposit reached the ledger");
                self.balance += deposit;
            }
            Msg::Balance(reply) => reply.send(self.balance).unwrap_or_default(),
            Msg::Withdraw(wanted, _) if wanted > self.balance => {
                return Err(AccountError::Overdrawn {
                    wanted,
                    balance: self.balance,
                });
            }
            Msg::Withdraw(amount, reply) => {
                self.balance -= amount;
                reply.send(self.balance).unwrap_or_default();
            }
            Msg::Audit(_reply) => panic!("audit found a negative zero"),
        }
        Ok(())
    }

    async fn terminate(&mut self, reason: &ExitReason, ctx: &mut Context<Self>) {
        println!(
            "    account {} terminating ({reason}), balance {}",
            ctx.pid(),
            self.balance
        );
    }
}

/// Keeps dead letters so the tour can show them.
#[derive(Debug, Default)]
struct Letters(Mutex<Vec<String>>);

impl Letters {
    /// The letters kept so far, described one a line.
    fn lines(&self) -> MutexGuard<'_, Vec<String>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl DeadLetterSink for Letters {
    fn dead_letter(&self, letter: DeadLetter) {
        let deposit = match letter.message.downcast_ref::<Msg>() {
            Some(Msg::Deposit(deposit)) => Some(*deposit),
            _ => None,
        };
        let line = format!(
            "{:?} for {} ({}): {deposit:?}",
            letter.kind, letter.recipient, letter.reason
        );
        self.lines().push(line);
    }
}

pub(crate) async fn run() -> Result<(), Box<dyn std::error::Error>> {
    println!("== Processes: calls that always time out, crashes that explain themselves");
    let (account, handle) = start::<Account>(100).await?;
    account.cast(Msg::Deposit(50)).await?;
    let balance = account.call(Msg::Balance, TIMEOUT).await?;
    println!(
        "  {} opened with 100, deposited 50: balance {balance}",
        account.pid()
    );

    // A handler error ends the actor after terminate; the caller gets the reason.
    match account.call(|r| Msg::Withdraw(1_000, r), TIMEOUT).await {
        Err(CallError::Exited(reason)) => println!("  overdrawing ended the account: {reason}"),
        other => println!("  unexpected: {other:?}"),
    }
    println!("  its handle saw the exit: {}", handle.wait(TIMEOUT).await?);

    // A call to a process that is gone fails at once, with the request given back.
    match account.call(Msg::Balance, Duration::from_secs(3_600)).await {
        Err(error @ CallError::NoProcess(_)) => {
            println!("  calling it again: {error} (at once, not after an hour)")
        }
        other => println!("  unexpected: {other:?}"),
    }

    // A panic inside a handler is caught at the actor's boundary.
    let (account, _handle) = start::<Account>(10).await?;
    match account.call(Msg::Audit, TIMEOUT).await {
        Err(CallError::Exited(reason)) => {
            println!("  a panicking handler: the caller gets `{reason}`")
        }
        other => println!("  unexpected: {other:?}"),
    }

    // Messages still queued when a process dies are dead letters, not lost.
    let letters = Arc::new(Letters::default());
    let options = ActorOptions::new().dead_letters(letters.clone());
    let (account, handle) = start_with::<Account>(0, options).await?;
    // On the tour's single-threaded runtime these four casts are queued
    // before the account runs; the first one crashes it.
    for deposit in [0, 1, 2, 3] {
        account.cast(Msg::Deposit(deposit)).await?;
    }
    println!(
        "  a crash with three deposits queued behind it: {}",
        handle.wait(TIMEOUT).await?
    );
    for line in letters.lines().iter() {
        println!("    dead letter: {line}");
    }
    Ok(())
}
