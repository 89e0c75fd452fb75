//! The entry format: a fixed header (magic, format, schema version, length, checksum) then the state in postcard.
//!
//! ```text
//! offset  size  field
//!      0     4  magic, b"FNDS"
//!      4     1  codec format, 1 (this layout)
//!      5     4  schema version of the state type, little-endian u32
//!      9     4  payload length in bytes, little-endian u32
//!     13     4  CRC-32 (IEEE) of the payload, little-endian u32
//!     17     -  payload: the state in postcard's compact binary format
//! ```
//!
//! The header lets a reader tell apart, by typed error and key, an entry
//! that is truncated, damaged, written by something else, written by a
//! newer codec, or written by a newer or older schema of the state type.
//! Decoding never panics, whatever the bytes.
//!
//! ```
//! use foundation_persistence::codec;
//!
//! let bytes = codec::encode("counter/a", 1, &41_u64).unwrap();
//! assert_eq!(codec::decode::<u64>("counter/a", &bytes, 1).unwrap(), 41);
//!
//! // One flipped bit is caught by the checksum, and the error names the key.
//! let mut damaged = bytes.clone();
//! *damaged.last_mut().unwrap() ^= 1;
//! let error = codec::decode::<u64>("counter/a", &damaged, 1).unwrap_err();
//! assert_eq!(error.to_string(), "entry `counter/a` is corrupt: checksum mismatch");
//! ```

use serde::{Serialize, de::DeserializeOwned};

use crate::{DecodeError, EncodeError, MigrationError};

/// The four bytes every entry starts with.
pub const MAGIC: [u8; 4] = *b"FNDS";
/// The header layout this build writes and reads.
pub const FORMAT: u8 = 1;
/// The header's length in bytes.
pub const HEADER_LEN: usize = 17;

/// Encodes `state` under schema version `schema`, for the entry `key`
/// (named in errors).
pub fn encode<T: Serialize + ?Sized>(
    key: &str,
    schema: u32,
    state: &T,
) -> Result<Vec<u8>, EncodeError> {
    let mut out = Vec::new();
    encode_into(key, schema, state, &mut out)?;
    Ok(out)
}

/// Encodes into `out`, replacing what it held and reusing its capacity.
pub fn encode_into<T: Serialize + ?Sized>(
    key: &str,
    schema: u32,
    state: &T,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    out.clear();
    out.extend_from_slice(&[0; HEADER_LEN]);
    let taken = std::mem::take(out);
    *out = postcard::to_extend(state, taken).map_err(|reason| EncodeError::Serialize {
        key: key.to_owned(),
        reason,
    })?;
    let payload = &out[HEADER_LEN..];
    let len = u32::try_from(payload.len()).map_err(|_| EncodeError::TooLarge {
        key: key.to_owned(),
        len: payload.len(),
    })?;
    let checksum = crc32fast::hash(payload);
    out[0..4].copy_from_slice(&MAGIC);
    out[4] = FORMAT;
    out[5..9].copy_from_slice(&schema.to_le_bytes());
    out[9..13].copy_from_slice(&len.to_le_bytes());
    out[13..17].copy_from_slice(&checksum.to_le_bytes());
    Ok(())
}

/// A checked entry: its schema version and its payload, not yet decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Checked<'a> {
    /// The schema version the entry was written with.
    pub schema: u32,
    /// The postcard payload; its checksum matched.
    pub payload: &'a [u8],
}

/// Checks an entry's header and checksum, without decoding the payload.
pub fn check<'a>(key: &str, bytes: &'a [u8]) -> Result<Checked<'a>, DecodeError> {
    let Some((header, payload)) = bytes.split_first_chunk::<HEADER_LEN>() else {
        return Err(DecodeError::TooShort {
            key: key.to_owned(),
            len: bytes.len(),
            header: HEADER_LEN,
        });
    };
    if header[0..4] != MAGIC {
        return Err(DecodeError::BadMagic {
            key: key.to_owned(),
        });
    }
    if header[4] != FORMAT {
        return Err(DecodeError::UnknownFormat {
            key: key.to_owned(),
            found: header[4],
            supported: FORMAT,
        });
    }
    let word = |at: usize| {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    let schema = word(5);
    let expected = word(9) as usize;
    if expected != payload.len() {
        return Err(DecodeError::LengthMismatch {
            key: key.to_owned(),
            expected,
            found: payload.len(),
        });
    }
    if word(13) != crc32fast::hash(payload) {
        return Err(DecodeError::Checksum {
            key: key.to_owned(),
        });
    }
    Ok(Checked { schema, payload })
}

/// Decodes an entry written with schema version `schema`; any other
/// version is an error (see [`decode_or_migrate`] for older ones).
pub fn decode<T: DeserializeOwned>(key: &str, bytes: &[u8], schema: u32) -> Result<T, DecodeError> {
    decode_or_migrate(key, bytes, schema, |old| {
        Err(MigrationError::Unsupported(old.schema()))
    })
}

/// Decodes an entry for a reader at schema version `schema`: the same
/// version decodes directly, an older one goes through `migrate`, a newer
/// one is [`DecodeError::NewerSchema`].
pub fn decode_or_migrate<T: DeserializeOwned>(
    key: &str,
    bytes: &[u8],
    schema: u32,
    migrate: impl FnOnce(Legacy<'_>) -> Result<T, MigrationError>,
) -> Result<T, DecodeError> {
    let checked = check(key, bytes)?;
    if checked.schema == schema {
        return postcard::from_bytes(checked.payload).map_err(|reason| DecodeError::Payload {
            key: key.to_owned(),
            schema,
            reason,
        });
    }
    if checked.schema > schema {
        return Err(DecodeError::NewerSchema {
            key: key.to_owned(),
            found: checked.schema,
            supported: schema,
        });
    }
    migrate(Legacy {
        schema: checked.schema,
        payload: checked.payload,
    })
    .map_err(|source| DecodeError::Migration {
        key: key.to_owned(),
        from: checked.schema,
        to: schema,
        source,
    })
}

/// A saved state written by an older schema version, handed to
/// [`PersistentActor::migrate`](crate::PersistentActor::migrate).
///
/// ```
/// use foundation_persistence::{MigrationError, codec};
///
/// // Version 1 stored a bare count; version 2 stores (count, label).
/// let old = codec::encode("k", 1, &5_u32).unwrap();
/// let new: (u64, String) = codec::decode_or_migrate("k", &old, 2, |legacy| match legacy.schema() {
///     1 => Ok((u64::from(legacy.decode::<u32>()?), String::from("migrated"))),
///     other => Err(MigrationError::Unsupported(other)),
/// })
/// .unwrap();
/// assert_eq!(new, (5, "migrated".to_owned()));
/// ```
#[derive(Clone, Copy, Debug)]
pub struct Legacy<'a> {
    schema: u32,
    payload: &'a [u8],
}

impl Legacy<'_> {
    /// The schema version the state was written with.
    pub fn schema(&self) -> u32 {
        self.schema
    }

    /// Decodes the payload as the type that schema version used.
    pub fn decode<T: DeserializeOwned>(&self) -> Result<T, MigrationError> {
        postcard::from_bytes(self.payload).map_err(MigrationError::Decode)
    }
}

#[cfg(test)]
mod tests;
