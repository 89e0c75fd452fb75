//! The queue's store on PostgreSQL: one table every node shares, rows claimed with `FOR UPDATE SKIP LOCKED`, and a `NOTIFY` for every new pending letter.

use std::sync::Arc;

use foundation_persistence::{
    PostgresOpenError, StoreError,
    postgres::{
        Migration, Postgres,
        tokio_postgres::{self, AsyncMessage, NoTls},
    },
};
use futures::StreamExt;
use tokio::{
    sync::{Notify, watch},
    task::AbortHandle,
};

use crate::{EntryId, redrive::claimed::Listening};

/// The component name of the dead-letter table in `foundation_schema`.
const COMPONENT: &str = "dead_letters";
/// The channel new pending letters are announced on; the payload is
/// `<schema>/<queue name>`.
pub(crate) const CHANNEL: &str = "foundation_dead_letters";

/// The table's migrations. `pending` mirrors the record's status, so a
/// claim skips exhausted entries without decoding them. Ids are a per-node
/// prefix from `foundation_dead_letter_incarnations` above a per-node
/// counter, so nodes never hand out the same id. The triggers announce a
/// letter that becomes claimable: a new pending row, or a reset one; not a
/// failed attempt, which would have every node retry at once.
const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    sql: "CREATE TABLE {schema}.foundation_dead_letters (
              queue text NOT NULL,
              id bigint NOT NULL,
              pending boolean NOT NULL,
              record bytea NOT NULL,
              PRIMARY KEY (queue, id)
          );
          CREATE INDEX foundation_dead_letters_pending
              ON {schema}.foundation_dead_letters (queue, id) WHERE pending;
          CREATE SEQUENCE {schema}.foundation_dead_letter_incarnations AS bigint MINVALUE 1;
          CREATE FUNCTION {schema}.foundation_dead_letters_announce() RETURNS trigger
              LANGUAGE plpgsql AS $$
              BEGIN
                  PERFORM pg_notify('foundation_dead_letters', TG_TABLE_SCHEMA || '/' || NEW.queue);
                  RETURN NULL;
              END
              $$;
          CREATE TRIGGER foundation_dead_letters_inserted
              AFTER INSERT ON {schema}.foundation_dead_letters
              FOR EACH ROW WHEN (NEW.pending)
              EXECUTE FUNCTION {schema}.foundation_dead_letters_announce();
          CREATE TRIGGER foundation_dead_letters_reset
              AFTER UPDATE ON {schema}.foundation_dead_letters
              FOR EACH ROW WHEN (NEW.pending AND NOT OLD.pending)
              EXECUTE FUNCTION {schema}.foundation_dead_letters_announce();",
}];

/// The table's statements, with the schema filled in.
pub(crate) struct Sql {
    put: String,
    pub(crate) delete: String,
    load: String,
    incarnation: String,
    /// Locks up to `$2` pending rows of queue `$1`, oldest first, skipping
    /// rows another node holds.
    pub(crate) claim: String,
    /// Records a failed attempt of a claimed row.
    pub(crate) settle: String,
    /// The ids of queue `$1`'s rows.
    pub(crate) ids: String,
}

impl Sql {
    fn new(schema: &str) -> Self {
        let table = format!("{schema}.foundation_dead_letters");
        Self {
            put: format!(
                "INSERT INTO {table} (queue, id, pending, record) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (queue, id) DO UPDATE SET pending = EXCLUDED.pending, record = EXCLUDED.record"
            ),
            delete: format!("DELETE FROM {table} WHERE queue = $1 AND id = $2"),
            load: format!("SELECT id, record FROM {table} WHERE queue = $1 ORDER BY id"),
            incarnation: format!("SELECT nextval('{schema}.foundation_dead_letter_incarnations')"),
            claim: format!(
                "SELECT id, record FROM {table} WHERE queue = $1 AND pending
                 ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED"
            ),
            settle: format!(
                "UPDATE {table} SET pending = $3, record = $4 WHERE queue = $1 AND id = $2"
            ),
            ids: format!("SELECT id FROM {table} WHERE queue = $1"),
        }
    }
}

/// The dead-letter table of one PostgreSQL schema. Clones share the pool.
#[derive(Clone)]
pub(crate) struct PostgresDeadLetters {
    database: Postgres,
    pub(crate) sql: Arc<Sql>,
}

impl PostgresDeadLetters {
    /// Brings the table up to date on `database`.
    pub(crate) async fn open(database: Postgres) -> Result<Self, PostgresOpenError> {
        database.migrate(COMPONENT, MIGRATIONS).await?;
        let sql = Arc::new(Sql::new(database.quoted_schema()));
        Ok(Self { database, sql })
    }

    pub(crate) fn database(&self) -> &Postgres {
        &self.database
    }

    /// A number no other queue incarnation on this database gets: the
    /// prefix of this one's ids.
    pub(crate) async fn incarnation(&self, queue: &str) -> Result<u64, StoreError> {
        let database = &self.database;
        database
            .timed(queue, async {
                let client = database.client(queue).await?;
                let row = client
                    .query_one(&self.sql.incarnation, &[])
                    .await
                    .map_err(|error| database.error(queue, error))?;
                Ok(row.get::<_, i64>(0).unsigned_abs())
            })
            .await
    }

    pub(crate) async fn put(
        &self,
        queue: &str,
        id: EntryId,
        pending: bool,
        record: Vec<u8>,
    ) -> Result<(), StoreError> {
        let key = super::key(queue, id);
        self.execute(
            &key,
            &self.sql.put,
            &[&queue, &number(id), &pending, &record],
        )
        .await
    }

    pub(crate) async fn delete(&self, queue: &str, id: EntryId) -> Result<(), StoreError> {
        let key = super::key(queue, id);
        self.execute(&key, &self.sql.delete, &[&queue, &number(id)])
            .await
    }

    /// Runs one cached statement for the entry `key`, within the timeout.
    async fn execute(
        &self,
        key: &str,
        sql: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Result<(), StoreError> {
        let database = &self.database;
        database
            .timed(key, async {
                let client = database.client(key).await?;
                let statement = client
                    .prepare_cached(sql)
                    .await
                    .map_err(|error| database.error(key, error))?;
                client
                    .execute(&statement, params)
                    .await
                    .map_err(|error| database.error(key, error))?;
                Ok(())
            })
            .await
    }

    /// Every record of `queue`, with the key it would have in a state store.
    pub(crate) async fn load(&self, queue: &str) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let database = &self.database;
        let prefix = super::prefix(queue);
        database
            .timed(&prefix, async {
                let client = database.client(&prefix).await?;
                let rows = client
                    .query(&self.sql.load, &[&queue])
                    .await
                    .map_err(|error| database.error(&prefix, error))?;
                Ok(rows
                    .iter()
                    .map(|row| {
                        let id = EntryId::new(row.get::<_, i64>(0).unsigned_abs());
                        (super::key(queue, id), row.get::<_, Vec<u8>>(1))
                    })
                    .collect())
            })
            .await
    }

    /// Listens for new pending letters of `queue` on a connection of its
    /// own and wakes `wake` for each. The listener runs until the returned
    /// handle aborts it; if its connection fails it logs why and ends (the
    /// redrive it wakes still runs at its interval).
    pub(crate) fn listen(
        &self,
        queue: &str,
        wake: Arc<Notify>,
        state: watch::Sender<Listening>,
    ) -> AbortHandle {
        let config = self.database.config().connection();
        let wanted = format!("{}/{queue}", self.database.config().schema_name());
        // audit:allow(FND001) owned by the periodic redrive it wakes, which aborts it when it stops
        let task = tokio::spawn(async move {
            let outcome = listen(config, &wanted, &wake, &state).await;
            state.send_replace(Listening::Off);
            if let Err(error) = outcome {
                tracing::warn!(target: "foundation::dead_letter", %error, queue = %wanted, "dead-letter listener stopped; the redrive runs at its interval only");
            }
        });
        task.abort_handle()
    }
}

/// Connects, `LISTEN`s, and wakes `wake` for every notification about
/// `wanted`, until the connection ends.
async fn listen(
    config: tokio_postgres::Config,
    wanted: &str,
    wake: &Notify,
    state: &watch::Sender<Listening>,
) -> Result<(), tokio_postgres::Error> {
    let (client, mut connection) = config.connect(NoTls).await?;
    let mut messages = futures::stream::poll_fn(move |context| connection.poll_message(context));
    // The connection is driven by reading its messages, so the LISTEN runs
    // while they are read.
    let statement = format!("LISTEN {CHANNEL}");
    let listening = client.batch_execute(&statement);
    tokio::pin!(listening);
    let mut listened = false;
    loop {
        tokio::select! {
            outcome = &mut listening, if !listened => {
                outcome?;
                listened = true;
                state.send_replace(Listening::Yes);
            }
            message = messages.next() => match message {
                Some(Ok(AsyncMessage::Notification(notification))) => {
                    if notification.payload() == wanted {
                        wake.notify_one();
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(error)) => return Err(error),
                None => return Ok(()),
            },
        }
    }
}

/// An id as the table stores it.
pub(crate) fn number(id: EntryId) -> i64 {
    i64::try_from(id.get()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests;
