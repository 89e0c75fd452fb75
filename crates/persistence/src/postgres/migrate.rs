//! Versioned migrations: each component's tables carry a version in `foundation_schema`, brought up to date at open, a newer one refused.

use std::sync::Arc;

use super::Postgres;
use crate::{BackendError, PostgresOpenError};

/// One step of a component's tables: the SQL that takes them from
/// `version - 1` to `version`. In `sql`, `{schema}` stands for the quoted
/// schema name.
///
/// ```
/// use foundation_persistence::postgres::Migration;
///
/// const STEPS: &[Migration] = &[Migration {
///     version: 1,
///     sql: "CREATE TABLE {schema}.jobs (id bigint PRIMARY KEY, due timestamptz NOT NULL)",
/// }];
/// assert_eq!(STEPS.last().unwrap().version, 1);
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Migration {
    /// The version the tables are at once this step ran; the first step
    /// is 1, and each next one adds 1.
    pub version: u32,
    /// The statements, separated by `;`.
    pub sql: &'static str,
}

impl Postgres {
    /// Brings the tables of `component` in this schema up to the last of
    /// `steps` and returns that version: creates the schema and the
    /// version table if missing, then runs, in one transaction, every step
    /// above the version found. Nodes that open at once take turns (an
    /// advisory lock per schema), so each step runs once.
    ///
    /// # Errors
    ///
    /// [`PostgresOpenError::NewerSchema`] (and nothing is changed) if the
    /// database holds a newer version than the last step;
    /// [`PostgresOpenError::Migration`] if a step fails (all rolled back);
    /// [`PostgresOpenError::Unavailable`] or [`PostgresOpenError::Timeout`]
    /// if the server cannot be reached in time.
    pub async fn migrate(
        &self,
        component: &str,
        steps: &[Migration],
    ) -> Result<u32, PostgresOpenError> {
        debug_assert!(
            steps
                .iter()
                .enumerate()
                .all(|(index, step)| step.version as usize == index + 1),
            "migration steps must be numbered 1, 2, 3, ..."
        );
        let after = self.timeout();
        tokio::time::timeout(after, self.migrate_now(component, steps))
            .await
            .unwrap_or(Err(PostgresOpenError::Timeout { after }))
    }

    async fn migrate_now(
        &self,
        component: &str,
        steps: &[Migration],
    ) -> Result<u32, PostgresOpenError> {
        let schema = self.config().schema_name().to_owned();
        let quoted = self.quoted_schema();
        let supported = steps.last().map_or(0, |step| step.version);
        let failed = |version: u32| {
            let schema = schema.clone();
            move |error: tokio_postgres::Error| {
                if error.is_closed() || error.code().is_none() {
                    PostgresOpenError::Unavailable {
                        source: Arc::new(error),
                    }
                } else {
                    PostgresOpenError::Migration {
                        schema,
                        component: component.to_owned(),
                        version,
                        source: Arc::new(error) as BackendError,
                    }
                }
            }
        };
        let mut client =
            self.client(component)
                .await
                .map_err(|error| PostgresOpenError::Unavailable {
                    source: Arc::new(error),
                })?;
        let transaction = client.transaction().await.map_err(failed(supported))?;
        transaction
            .execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
                &[&format!("foundation-migrations:{schema}")],
            )
            .await
            .map_err(failed(supported))?;
        transaction
            .batch_execute(&format!(
                "CREATE SCHEMA IF NOT EXISTS {quoted};
                 CREATE TABLE IF NOT EXISTS {quoted}.foundation_schema (
                     component text PRIMARY KEY,
                     version integer NOT NULL
                 )"
            ))
            .await
            .map_err(failed(supported))?;
        let found = transaction
            .query_opt(
                &format!("SELECT version FROM {quoted}.foundation_schema WHERE component = $1"),
                &[&component],
            )
            .await
            .map_err(failed(supported))?
            .map_or(0, |row| row.get::<_, i32>(0));
        let found = u32::try_from(found).unwrap_or(0);
        if found > supported {
            // Dropping the transaction rolls it back: nothing was changed.
            return Err(PostgresOpenError::NewerSchema {
                schema,
                component: component.to_owned(),
                found,
                supported,
            });
        }
        if found == supported {
            return Ok(found);
        }
        for step in steps.iter().filter(|step| step.version > found) {
            transaction
                .batch_execute(&step.sql.replace("{schema}", quoted))
                .await
                .map_err(failed(step.version))?;
        }
        let version = i32::try_from(supported).unwrap_or(i32::MAX);
        transaction
            .execute(
                &format!(
                    "INSERT INTO {quoted}.foundation_schema (component, version) VALUES ($1, $2)
                     ON CONFLICT (component) DO UPDATE SET version = EXCLUDED.version"
                ),
                &[&component, &version],
            )
            .await
            .map_err(failed(supported))?;
        transaction.commit().await.map_err(failed(supported))?;
        tracing::info!(target: "foundation::persistence", schema = %schema, component, from = found, to = supported, "PostgreSQL tables migrated");
        Ok(supported)
    }
}
