//! Claimed redrives: on PostgreSQL's shared table, durable entries are locked with `FOR UPDATE SKIP LOCKED` before delivery, so two nodes never deliver the same one; and the periodic redrive's wakeups.

#[cfg(feature = "postgres")]
use std::collections::HashSet;
use std::sync::Arc;

use tokio::{
    sync::{Notify, watch},
    task::AbortHandle,
};

#[cfg(feature = "postgres")]
use super::{Outcome, deliver};
#[cfg(feature = "postgres")]
use crate::{Attempt, ClaimError, EntryId, Status, Storage, durable, queue::trim_history};
use crate::{DeadLetterQueue, RedriveOptions, RedriveReport, Resolver};

/// What becomes of one claimed row.
#[cfg(feature = "postgres")]
enum Settle {
    /// Left as it is: not accepted, not decodable, or over the rate.
    Leave,
    /// Delivered: deleted.
    Delete,
    /// A failed attempt: written, with whether the entry is still pending.
    Record { pending: bool, record: Vec<u8> },
}

/// Whether a periodic redrive is woken by other nodes' letters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Listening {
    /// Its listener is connecting.
    Starting,
    /// `LISTEN` has taken effect.
    Yes,
    /// There is nothing to listen to, or the listener failed.
    Off,
}

/// Ends the listener that wakes a periodic redrive when the redrive ends.
pub(super) struct Listener(Option<AbortHandle>);

impl Drop for Listener {
    fn drop(&mut self) {
        if let Some(listener) = self.0.take() {
            listener.abort();
        }
    }
}

impl DeadLetterQueue {
    /// Starts listening for letters appended by any node, waking `wake`;
    /// nothing to listen to unless the queue is on PostgreSQL.
    pub(super) fn listen(&self, wake: &Arc<Notify>) -> (Listener, watch::Receiver<Listening>) {
        #[cfg(feature = "postgres")]
        if let Some(table) = &self.inner.shared {
            let (state, listening) = watch::channel(Listening::Starting);
            let listener = table.listen(&self.inner.settings.name, Arc::clone(wake), state);
            return (Listener(Some(listener)), listening);
        }
        let _ = wake;
        (Listener(None), watch::channel(Listening::Off).1)
    }

    /// The claimed part of a periodic run, added to `report`; a failure is
    /// logged and the next run tries again.
    pub(super) async fn redrive_shared(
        &self,
        resolver: &dyn Resolver,
        options: &RedriveOptions,
        report: &mut RedriveReport,
    ) {
        #[cfg(feature = "postgres")]
        if self.inner.shared.is_some() {
            match self.redrive_claimed(resolver, options).await {
                Ok(claimed) => {
                    report.delivered += claimed.delivered;
                    report.failed += claimed.failed;
                    report.exhausted += claimed.exhausted;
                    report.rate_limited |= claimed.rate_limited;
                }
                Err(error) => {
                    tracing::warn!(target: "foundation::dead_letter", queue = %self.inner.settings.name, %error, "claimed redrive failed; the next run tries again");
                }
            }
        }
        let _ = (resolver, options, report);
    }

    /// Redrives the queue's durable entries from PostgreSQL's shared table:
    /// every node's, not only the ones in this node's memory. In one
    /// transaction, it locks up to the options' batch of pending rows,
    /// oldest first, skipping rows another node has locked (`FOR UPDATE
    /// SKIP LOCKED`), so two nodes never deliver the same entry at once;
    /// delivers each that the filter and `resolver` accept, within the
    /// queue's redrive rate; deletes the delivered rows and records failed
    /// attempts (exhausted at max attempts) in the others; and commits.
    /// This node's memory follows. It first waits for this node's queued
    /// writes, so its own appends are in the table.
    ///
    /// A node that dies between a delivery and the commit leaves the row
    /// to be delivered again: at least once, as everywhere in this crate.
    /// Entries kept in memory only are redriven by [`redrive`](Self::redrive).
    ///
    /// Not cancel-safe in one respect: dropping the future rolls the claim
    /// back, so the deliveries it made so far happen again at the next run.
    ///
    /// # Errors
    ///
    /// [`ClaimError::NotShared`] unless the queue was opened with
    /// [`open_postgres`](Self::open_postgres); a failed flush or store
    /// operation otherwise.
    #[cfg(feature = "postgres")]
    pub async fn redrive_claimed(
        &self,
        resolver: &dyn Resolver,
        options: &RedriveOptions,
    ) -> Result<RedriveReport, ClaimError> {
        let Some(table) = self.inner.shared.clone() else {
            return Err(ClaimError::NotShared);
        };
        // Every entry below this id was appended before the flush: it is
        // in the table now, or marked as kept in memory only.
        let flushed_below = self.state().next_id;
        self.flush().await?;
        let name = self.inner.settings.name.as_str();
        let database = table.database();
        let prefix = durable::prefix(name);
        let fail = |error| database.error(&prefix, error);
        let report = database
            .timed(&prefix, async {
                let mut client = database.client(&prefix).await?;
                let transaction = client.transaction().await.map_err(fail)?;
                let limit = i64::try_from(options.batch).unwrap_or(i64::MAX);
                let rows = transaction
                    .query(&table.sql.claim, &[&name, &limit])
                    .await
                    .map_err(fail)?;
                let mut report = RedriveReport::default();
                for row in rows {
                    let id = EntryId::new(row.get::<_, i64>(0).unsigned_abs());
                    let record: Vec<u8> = row.get(1);
                    let number = durable::postgres::number(id);
                    match self.redrive_row(id, &record, resolver, options, &mut report) {
                        Settle::Leave if report.rate_limited => break,
                        Settle::Leave => continue,
                        Settle::Delete => {
                            transaction
                                .execute(&table.sql.delete, &[&name, &number])
                                .await
                        }
                        Settle::Record { pending, record } => {
                            transaction
                                .execute(&table.sql.settle, &[&name, &number, &pending, &record])
                                .await
                        }
                    }
                    .map_err(fail)?;
                }
                transaction.commit().await.map_err(fail)?;
                // What other nodes delivered or purged leaves this node's
                // memory too.
                let kept: HashSet<u64> = client
                    .query(&table.sql.ids, &[&name])
                    .await
                    .map_err(fail)?
                    .iter()
                    .map(|row| row.get::<_, i64>(0).unsigned_abs())
                    .collect();
                self.state().entries.retain(|slot| {
                    slot.entry.storage != Storage::Durable
                        || slot.in_flight
                        || slot.entry.id.get() >= flushed_below
                        || kept.contains(&slot.entry.id.get())
                });
                Ok(report)
            })
            .await?;
        Ok(report)
    }

    /// Delivers one claimed row, brings this node's memory along, and
    /// says what becomes of the row.
    #[cfg(feature = "postgres")]
    fn redrive_row(
        &self,
        id: EntryId,
        record: &[u8],
        resolver: &dyn Resolver,
        options: &RedriveOptions,
        report: &mut RedriveReport,
    ) -> Settle {
        let key = durable::key(&self.inner.settings.name, id);
        let stored = match durable::decode_record(&key, record) {
            Ok(stored) => stored,
            Err(error) => {
                tracing::error!(target: "foundation::dead_letter", %key, %error, "skipping a claimed dead letter that cannot be decoded");
                return Settle::Leave;
            }
        };
        let mut entry = stored.entry;
        entry.storage = Storage::Durable;
        if entry.status != Status::Pending
            || !options.filter.matches(&entry)
            || !resolver.accepts(&entry)
        {
            return Settle::Leave;
        }
        if let Some(limiter) = &self.inner.redrive_limiter
            && !limiter.check().is_allowed()
        {
            report.rate_limited = true;
            return Settle::Leave;
        }
        let outcome = match self.decode(&entry, &stored.payload) {
            Ok(message) => deliver(&self.inner, resolver, &entry, message),
            Err(error) => Outcome::Failed(None, error),
        };
        let mut state = self.state();
        let local = state.position(id);
        match outcome {
            Outcome::Delivered => {
                if let Some(at) = local {
                    state.entries.remove(at);
                }
                state.stats.redriven_ok += 1;
                report.delivered += 1;
                Settle::Delete
            }
            Outcome::Failed(message, error) => {
                let now = self.now();
                entry.attempts = entry.attempts.saturating_add(1);
                entry.last_attempt = now;
                entry.history.push(Attempt { at: now, error });
                trim_history(&mut entry.history, self.inner.settings.history_limit);
                let exhausted = entry.attempts >= self.inner.settings.max_attempts;
                if exhausted {
                    entry.status = Status::Exhausted;
                    state.stats.exhausted += 1;
                    report.exhausted += 1;
                }
                state.stats.redrive_failed += 1;
                report.failed += 1;
                if let Some(at) = local {
                    let slot = &mut state.entries[at];
                    slot.entry = entry.clone();
                    if message.is_some() {
                        slot.message = message;
                    }
                }
                drop(state);
                let stored = durable::Stored {
                    entry,
                    payload: stored.payload,
                };
                match durable::encode_record(&key, &stored) {
                    Ok(record) => Settle::Record {
                        pending: !exhausted,
                        record,
                    },
                    Err(error) => {
                        // Left as it was: the attempt is not recorded.
                        tracing::error!(target: "foundation::dead_letter", %key, %error, "could not encode a dead letter's failed attempt");
                        Settle::Leave
                    }
                }
            }
        }
    }
}
