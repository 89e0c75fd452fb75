//! Unit tests of the codec: round trips, and every kind of damage as a typed error.

use serde::{Deserialize, Serialize};

use super::*;
use crate::DecodeError;

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct State {
    count: u64,
    names: Vec<String>,
}

fn sample() -> State {
    State {
        count: 7,
        names: vec!["ada".into(), "bob".into()],
    }
}

#[test]
fn round_trips_with_the_schema_in_the_header() {
    let bytes = encode("k", 3, &sample()).unwrap();
    assert_eq!(&bytes[0..4], b"FNDS");
    assert_eq!(bytes[4], FORMAT);
    assert_eq!(u32::from_le_bytes(bytes[5..9].try_into().unwrap()), 3);
    assert_eq!(decode::<State>("k", &bytes, 3).unwrap(), sample());
}

#[test]
fn encode_into_reuses_the_buffer_and_matches_encode() {
    let mut buffer = vec![1, 2, 3];
    encode_into("k", 1, &sample(), &mut buffer).unwrap();
    assert_eq!(buffer, encode("k", 1, &sample()).unwrap());
}

#[test]
fn every_truncation_is_a_typed_error_naming_the_key() {
    let bytes = encode("counter/a", 1, &sample()).unwrap();
    for len in 0..bytes.len() {
        let error = decode::<State>("counter/a", &bytes[..len], 1).unwrap_err();
        assert_eq!(error.key(), "counter/a");
        if len < HEADER_LEN {
            assert!(
                matches!(error, DecodeError::TooShort { .. }),
                "{len}: {error}"
            );
        } else {
            assert!(
                matches!(error, DecodeError::LengthMismatch { .. }),
                "{len}: {error}"
            );
        }
    }
}

#[test]
fn every_flipped_bit_is_caught_never_a_panic() {
    let bytes = encode("k", 1, &sample()).unwrap();
    for index in 0..bytes.len() {
        for bit in 0..8 {
            let mut damaged = bytes.clone();
            damaged[index] ^= 1 << bit;
            let decoded = decode::<State>("k", &damaged, 1);
            // The schema field is not under the checksum: a flip there is a
            // newer schema (refused) or an older one (no migration).
            assert!(
                decoded.is_err(),
                "flip at byte {index} bit {bit} went unnoticed"
            );
        }
    }
}

#[test]
fn foreign_bytes_and_unknown_formats_are_refused() {
    let error = decode::<u8>("k", b"this is not an entry at all", 1).unwrap_err();
    assert!(matches!(error, DecodeError::BadMagic { .. }));
    let mut bytes = encode("k", 1, &5_u8).unwrap();
    bytes[4] = 9;
    let error = decode::<u8>("k", &bytes, 1).unwrap_err();
    assert_eq!(
        error.to_string(),
        "entry `k` has codec format 9; this build reads format 1"
    );
}

#[test]
fn a_newer_schema_is_refused_and_an_older_one_needs_a_migration() {
    let bytes = encode("k", 2, &5_u8).unwrap();
    let error = decode::<u8>("k", &bytes, 1).unwrap_err();
    assert!(matches!(
        error,
        DecodeError::NewerSchema {
            found: 2,
            supported: 1,
            ..
        }
    ));
    let error = decode::<u8>("k", &bytes, 3).unwrap_err();
    assert_eq!(
        error.to_string(),
        "entry `k` could not be migrated from schema 2 to 3: no migration from schema version 2"
    );
}

#[test]
fn a_payload_of_another_type_is_a_payload_error() {
    // A changed type without a schema bump: the checksum matches, the shape does not.
    let bytes = encode("k", 1, &String::from("text")).unwrap();
    let error = decode::<State>("k", &bytes, 1).unwrap_err();
    assert!(
        matches!(error, DecodeError::Payload { schema: 1, .. }),
        "{error}"
    );
}

#[test]
fn a_migration_reads_the_old_type() {
    let bytes = encode("k", 1, &(3_u32, String::from("x"))).unwrap();
    let migrated: State = decode_or_migrate("k", &bytes, 2, |old| {
        let (count, name): (u32, String) = old.decode()?;
        Ok(State {
            count: count.into(),
            names: vec![name],
        })
    })
    .unwrap();
    assert_eq!(migrated.count, 3);
    assert_eq!(migrated.names, ["x"]);
}
