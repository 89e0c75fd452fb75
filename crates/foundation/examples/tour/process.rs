//! The tour's first stop: actors being called, one panicking, the caller told why.

use std::{
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::Duration,
};

use foundation::mailbox::{
    Actor, ActorOptions, CallError, Context, DeadLetter, DeadLetterSink, ExitReason, start,
    start_with,
};

const TIMEOUT: Duration = Duration::from_secs(1);

/// A bank account: deposits are casts, balance queries and withdrawals calls.
#[derive(Debug)]
struct Account {
    balance: u64,
}

#[derive(Debug)]
enum Request {
    Balance,
    Withdraw(u64),
    /// A bug on purpose: this handler panics.
    Audit,
}

#[derive(Debug, thiserror::Error)]
enum AccountError {
    #[error("withdrawal of {wanted} exceeds the balance of {balance}")]
    Overdrawn { wanted: u64, balance: u64 },
}

impl Actor for Account {
    type Args = u64;
    type Cast = u64;
    type Call = Request;
    type Reply = u64;
    type Error = AccountError;

    async fn init(opening: u64, _ctx: &mut Context<Self>) -> Result<Self, AccountError> {
        Ok(Account { balance: opening })
    }

    async fn handle_cast(
        &mut self,
        deposit: u64,
        _ctx: &mut Context<Self>,
    ) -> Result<(), AccountError> {
        // A bug on purpose: zero deposits were never meant to reach the ledger.
        assert!(deposit > 0, "a zero deposit reached the ledger");
        self.balance += deposit;
        Ok(())
    }

    async fn handle_call(
        &mut self,
        request: Request,
        _ctx: &mut Context<Self>,
    ) -> Result<u64, AccountError> {
        match request {
            Request::Balance => Ok(self.balance),
            Request::Withdraw(wanted) if wanted > self.balance => Err(AccountError::Overdrawn {
                wanted,
                balance: self.balance,
            }),
            Request::Withdraw(amount) => {
                self.balance -= amount;
                Ok(self.balance)
            }
            Request::Audit => panic!("audit found a negative zero"),
        }
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
        let deposit = letter.message.downcast_ref::<u64>().copied();
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
    account.cast(50).await?;
    let balance = account.call(Request::Balance, TIMEOUT).await?;
    println!(
        "  {} opened with 100, deposited 50: balance {balance}",
        account.pid()
    );

    // A handler error ends the actor after terminate; the caller gets the reason.
    match account.call(Request::Withdraw(1_000), TIMEOUT).await {
        Err(CallError::Exited(reason)) => println!("  overdrawing ended the account: {reason}"),
        other => println!("  unexpected: {other:?}"),
    }
    println!("  its handle saw the exit: {}", handle.wait(TIMEOUT).await?);

    // A call to a process that is gone fails at once, with the request given back.
    match account
        .call(Request::Balance, Duration::from_secs(3_600))
        .await
    {
        Err(error @ CallError::NoProcess(_)) => {
            println!("  calling it again: {error} (at once, not after an hour)")
        }
        other => println!("  unexpected: {other:?}"),
    }

    // A panic inside a handler is caught at the actor's boundary.
    let (account, _handle) = start::<Account>(10).await?;
    match account.call(Request::Audit, TIMEOUT).await {
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
        account.cast(deposit).await?;
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
