//! Durability: message codecs, the stored form of an entry, where it is stored (any `StateStore`, or PostgreSQL's shared table), the writer task that keeps the store in step, and loading at open.

use std::{fmt, marker::PhantomData, time::Duration};

use foundation_persistence::{StateStore, Store, StoreError, codec};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tokio::sync::{mpsc, oneshot};

use crate::{Entry, EntryId, FlushError, Message};

/// The schema version of [`Stored`]; bump it when its shape changes.
const RECORD_SCHEMA: u32 = 1;
/// The schema version message payloads are written with.
const MESSAGE_SCHEMA: u32 = 1;

/// A message codec with its type erased, so the queue can hold one per type.
pub(crate) trait ErasedCodec: Send + Sync + 'static {
    fn encode(&self, key: &str, message: &Message) -> Result<Vec<u8>, String>;
    fn decode(&self, key: &str, bytes: &[u8]) -> Result<Message, String>;
}

/// The codec of one message type: the persistence crate's checked format.
pub(crate) struct Codec<M>(PhantomData<fn() -> M>);

impl<M> Codec<M> {
    pub(crate) fn new() -> Self {
        Self(PhantomData)
    }
}

impl<M> ErasedCodec for Codec<M>
where
    M: Serialize + DeserializeOwned + Send + 'static,
{
    fn encode(&self, key: &str, message: &Message) -> Result<Vec<u8>, String> {
        let message = message
            .downcast_ref::<M>()
            .ok_or_else(|| format!("not a {}", std::any::type_name::<M>()))?;
        codec::encode(key, MESSAGE_SCHEMA, message).map_err(|error| error.to_string())
    }

    fn decode(&self, key: &str, bytes: &[u8]) -> Result<Message, String> {
        codec::decode::<M>(key, bytes, MESSAGE_SCHEMA)
            .map(Message::new)
            .map_err(|error| error.to_string())
    }
}

/// An entry as the store keeps it: its listing and its message's bytes.
#[derive(Serialize, Deserialize)]
pub(crate) struct Stored {
    pub(crate) entry: Entry,
    pub(crate) payload: Vec<u8>,
}

/// The store key of entry `id` in the queue named `name`: ids are
/// zero-padded so the store's byte order is append order.
pub(crate) fn key(name: &str, id: EntryId) -> String {
    format!("{}{:020}", prefix(name), id.get())
}

pub(crate) fn prefix(name: &str) -> String {
    format!("dead-letter/{name}/")
}

pub(crate) fn encode_record(key: &str, stored: &Stored) -> Result<Vec<u8>, String> {
    codec::encode(key, RECORD_SCHEMA, stored).map_err(|error| error.to_string())
}

/// Where a durable queue keeps its entries.
#[derive(Clone)]
pub(crate) enum Backend {
    /// Any state store, one key per entry: the queue's own memory is the
    /// truth, the store its copy for the next open.
    Store(Store),
    /// PostgreSQL's dead-letter table, shared by every node: claimed
    /// redrives work from the table itself.
    #[cfg(feature = "postgres")]
    Postgres(postgres::PostgresDeadLetters),
}

impl Backend {
    async fn put(
        &self,
        name: &str,
        id: EntryId,
        pending: bool,
        bytes: Vec<u8>,
    ) -> Result<(), StoreError> {
        match self {
            // A state store keeps the status inside the record only.
            Self::Store(store) => {
                let _ = pending;
                store.put(&key(name, id), bytes).await.map(drop)
            }
            #[cfg(feature = "postgres")]
            Self::Postgres(table) => table.put(name, id, pending, bytes).await,
        }
    }

    async fn delete(&self, name: &str, id: EntryId) -> Result<(), StoreError> {
        match self {
            Self::Store(store) => store.delete(&key(name, id)).await.map(drop),
            #[cfg(feature = "postgres")]
            Self::Postgres(table) => table.delete(name, id).await,
        }
    }

    /// Reads every stored entry of the queue named `name`, oldest first.
    /// An entry that cannot be decoded is skipped, logged and counted: a
    /// damaged record must not keep the rest from loading.
    pub(crate) async fn load(&self, name: &str) -> Result<(Vec<Stored>, u64), StoreError> {
        let records = match self {
            Self::Store(store) => {
                let mut records = Vec::new();
                for listed in store.list(&prefix(name)).await? {
                    if let Some(found) = store.get(&listed.key).await? {
                        records.push((listed.key, found.value));
                    }
                }
                records
            }
            #[cfg(feature = "postgres")]
            Self::Postgres(table) => table.load(name).await?,
        };
        let mut loaded = Vec::new();
        let mut corrupt = 0;
        for (key, bytes) in records {
            match decode_record(&key, &bytes) {
                Ok(stored) => loaded.push(stored),
                Err(error) => {
                    corrupt += 1;
                    tracing::error!(target: "foundation::dead_letter", %key, %error, "skipping a dead letter that cannot be decoded");
                }
            }
        }
        loaded.sort_by_key(|stored| stored.entry.id);
        Ok((loaded, corrupt))
    }
}

pub(crate) fn decode_record(key: &str, bytes: &[u8]) -> Result<Stored, String> {
    codec::decode::<Stored>(key, bytes, RECORD_SCHEMA).map_err(|error| error.to_string())
}

/// What the writer task is asked to do, in order.
pub(crate) enum Write {
    Put {
        id: EntryId,
        pending: bool,
        bytes: Vec<u8>,
    },
    Delete {
        id: EntryId,
    },
    Flush(oneshot::Sender<Result<(), StoreError>>),
    /// Finish, answer with the last failure, and release the store.
    Close(oneshot::Sender<Result<(), StoreError>>),
}

/// The sending side of the writer: every change to the store goes through
/// one task, so a delete never overtakes the put it undoes. Its queue is
/// bounded ([`Config::write_queue`](crate::Config::write_queue)): a write
/// that finds it full is refused and counted, and the entry stays in memory.
#[derive(Clone)]
pub(crate) struct Writer {
    sender: mpsc::Sender<Write>,
    timeout: Duration,
}

impl fmt::Debug for Writer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

impl Writer {
    /// Starts the writer for `store`. It ends when the last queue handle is
    /// dropped (its channel closes), after finishing the writes queued.
    pub(crate) fn start(
        store: Backend,
        name: String,
        bound: usize,
        timeout: Duration,
        on_error: impl Fn(Option<EntryId>) + Send + 'static,
    ) -> Self {
        let (sender, mut receiver) = mpsc::channel::<Write>(bound.max(1));
        // audit:allow(FND001) the writer is owned by its queue: it runs until the queue's last handle drops and closes its channel, then finishes the writes already queued and ends
        tokio::spawn(async move {
            let mut failed: Option<StoreError> = None;
            while let Some(write) = receiver.recv().await {
                let (outcome, put) = match write {
                    Write::Put { id, pending, bytes } => {
                        (store.put(&name, id, pending, bytes).await, Some(id))
                    }
                    Write::Delete { id } => (store.delete(&name, id).await, None),
                    Write::Flush(reply) => {
                        answer(reply, failed.take());
                        continue;
                    }
                    Write::Close(reply) => {
                        drop(store);
                        answer(reply, failed.take());
                        return;
                    }
                };
                if let Err(error) = outcome {
                    tracing::error!(target: "foundation::dead_letter", %error, "dead-letter store write failed; the entry stays in memory");
                    on_error(put);
                    failed.get_or_insert(error);
                }
            }
        });
        Self { sender, timeout }
    }

    /// Queues a write without waiting; `false` if the writer's queue is
    /// full or the writer has stopped.
    pub(crate) fn send(&self, write: Write) -> bool {
        match self.sender.try_send(write) {
            Ok(()) => true,
            Err(error) => {
                tracing::error!(target: "foundation::dead_letter", %error, "dead-letter store write not queued; the entry stays in memory");
                false
            }
        }
    }

    /// Waits until every write queued before it is done; with `close`,
    /// the writer then releases the store and stops.
    pub(crate) async fn flush(&self, close: bool) -> Result<(), FlushError> {
        let (reply, answer) = oneshot::channel();
        let write = if close {
            Write::Close(reply)
        } else {
            Write::Flush(reply)
        };
        // Both waits are bounded: a store that hangs fails the flush, it
        // does not hang the caller.
        match tokio::time::timeout(self.timeout, self.sender.send(write)).await {
            Err(_) => return Err(FlushError::Timeout(self.timeout)),
            Ok(Err(_)) => return Err(FlushError::WriterStopped),
            Ok(Ok(())) => {}
        }
        match tokio::time::timeout(self.timeout, answer).await {
            Err(_) => Err(FlushError::Timeout(self.timeout)),
            Ok(Err(_)) => Err(FlushError::WriterStopped),
            Ok(Ok(outcome)) => Ok(outcome?),
        }
    }
}

/// Tells a flush how the writes before it went.
fn answer(reply: oneshot::Sender<Result<(), StoreError>>, failed: Option<StoreError>) {
    if reply.send(failed.map_or(Ok(()), Err)).is_err() {
        // The flush timed out and left; the failure is logged and counted.
        tracing::debug!(target: "foundation::dead_letter", "a flush stopped waiting for its answer");
    }
}

#[cfg(feature = "postgres")]
pub(crate) mod postgres;
#[cfg(test)]
mod tests;
