//! What the store keeps of each job: its key, plan, next due time,
//! policies and message, in the persistence codec (a header with a schema
//! version and a checksum around postcard).

use foundation_persistence::{DecodeError, EncodeError, codec};
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::{Misfire, Overlap, job::Plan};

/// The layout version of a saved job.
const SCHEMA: u32 = 1;

/// A job as saved, borrowed for encoding.
#[derive(Serialize)]
pub(crate) struct RecordRef<'a, M> {
    pub(crate) key: &'a str,
    pub(crate) plan: &'a Plan,
    pub(crate) next_due: u64,
    pub(crate) misfire: Misfire,
    pub(crate) overlap: Overlap,
    pub(crate) message: &'a M,
}

/// A job as saved, read back. The fields are those of [`RecordRef`], in
/// the same order (postcard is positional).
#[derive(Deserialize)]
pub(crate) struct Record<M> {
    pub(crate) key: String,
    pub(crate) plan: Plan,
    pub(crate) next_due: u64,
    pub(crate) misfire: Misfire,
    pub(crate) overlap: Overlap,
    pub(crate) message: M,
}

impl<M: Serialize> RecordRef<'_, M> {
    pub(crate) fn encode(&self, store_key: &str) -> Result<Vec<u8>, EncodeError> {
        codec::encode(store_key, SCHEMA, self)
    }
}

impl<M: DeserializeOwned> Record<M> {
    pub(crate) fn decode(store_key: &str, bytes: &[u8]) -> Result<Self, DecodeError> {
        codec::decode(store_key, bytes, SCHEMA)
    }
}
