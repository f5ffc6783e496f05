//! Range sync between nodes (FORMAT.md §17.2): the request and response messages and their
//! framing, in the layout of §2 through [`Codec`], each list and byte string with its bound.
//!
//! No byte of these is hashed or signed, but they come from peers, so every length is checked
//! against its field's bound before anything is taken; the frame's length is checked against
//! [`REQUEST_SIZE_BYTES_MAX`] or [`RESPONSE_SIZE_BYTES_MAX`] before the frame is read. The node
//! runs the protocol (`node/src/network`); this module is only its bytes.

use crate::bundle::EquivocationProof;
use crate::codec::{write_bytes, write_length, write_variant, Codec, DecodeError, Reader};
use crate::ids::{Digest, RecordId};
use crate::limits::{MEMBERS_MAX, ORG_ID_BYTES_MAX, RECORD_SIZE_BYTES_MAX};
use crate::witnessed::WitnessedSet;

/// The request-response protocol's name. The frames are those of version 1 byte for byte
/// (the layout of §2 is what bincode wrote before), so the name is unchanged.
pub const SYNC_PROTOCOL_NAME: &str = "/aidledger/sync/1";
/// Most bytes of an encoded request.
pub const REQUEST_SIZE_BYTES_MAX: usize = 4 * 1024;
/// Most records in one range response.
pub const RANGE_RECORDS_MAX: u64 = 1024;
/// A range response stops adding records once it holds this many bytes (it always holds at
/// least one record, so that a record of any allowed size can be fetched).
pub const RANGE_SIZE_BYTES_MAX: usize = 8 * 1024 * 1024;
/// Most proofs in one proofs response (it always holds at least one if there is one).
pub const PROOFS_PER_RESPONSE_MAX: usize = 64;
/// Most heads in a heads response: one per member.
pub const HEADS_MAX: usize = MEMBERS_MAX;
/// Most bytes of an encoded response: a full range plus one more maximal record, or one proof
/// of two maximal records, with room for the framing.
pub const RESPONSE_SIZE_BYTES_MAX: usize =
    RANGE_SIZE_BYTES_MAX + 2 * RECORD_SIZE_BYTES_MAX + 64 * 1024;
/// Bytes of a frame's length prefix (u32, little endian).
pub const FRAME_PREFIX_BYTES: usize = 4;
/// Fewest bytes of an encoded head: an empty author's length, the seq and the id.
const HEAD_BYTES_MIN: usize = 8 + 8 + 32;
/// Most heads the decoder takes: as many as a response frame can hold. The requester refuses
/// (and penalises) a response of more than [`HEADS_MAX`] after decoding, as before; this bound
/// only keeps the decoder's reservation within the frame.
const HEADS_DECODE_MAX: usize = RESPONSE_SIZE_BYTES_MAX / HEAD_BYTES_MIN;
/// Records in a range response as the decoder bounds them (the responder caps at this).
const RANGE_RECORDS_DECODE_MAX: usize = RANGE_RECORDS_MAX as usize;

/// A sync request.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(bincode::Encode))]
pub enum SyncRequest {
    /// "What do you hold?": every head, and how many proofs.
    Heads,
    /// Records of `author` from `from_seq` on, at most `limit` (capped at [`RANGE_RECORDS_MAX`]).
    Range {
        /// The chain.
        author: String,
        /// The first seq wanted.
        from_seq: u64,
        /// How many records at most.
        limit: u64,
    },
    /// Every stored equivocation proof (up to [`PROOFS_PER_RESPONSE_MAX`]).
    Proofs,
    /// Variant 3: every cosigned checkpoint and split-view proof the responder holds (within
    /// the bounds of [`crate::witnessed`]).
    Witnessed,
}

/// One chain's head as the responder holds it.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(bincode::Encode))]
pub struct WireHead {
    /// The chain's author.
    pub author: String,
    /// The head's seq.
    pub seq: u64,
    /// The head's record id.
    pub id: [u8; 32],
}

impl WireHead {
    /// The id as a record id.
    pub fn record_id(&self) -> RecordId {
        Digest(self.id)
    }
}

/// A sync response.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(test, derive(bincode::Encode))]
pub enum SyncResponse {
    /// The responder's heads and number of proofs.
    Heads {
        /// One per non-empty chain.
        heads: Vec<WireHead>,
        /// How many equivocation proofs it holds.
        proofs: u64,
    },
    /// Consecutive records of the asked chain, in seq order, from the asked seq (empty if the
    /// responder has none there).
    Records(Vec<Vec<u8>>),
    /// Equivocation proofs.
    Proofs(Vec<EquivocationProof>),
    /// The request could not be served (a store failure on the responder's side).
    Unavailable,
    /// Variant 5 (4 is unused): the answer to `Witnessed`.
    Witnessed(WitnessedSet),
}

mod variant {
    pub const HEADS: u32 = 0;
    pub const RANGE: u32 = 1;
    pub const PROOFS: u32 = 2;
    pub const RECORDS: u32 = 1;
    pub const UNAVAILABLE: u32 = 3;
    pub const WITNESSED: u32 = 3;
    /// Not 4: the refused inputs of `vectors/local-formats.json` name a response of variant 4
    /// as unknown, and keep that meaning.
    pub const WITNESSED_SET: u32 = 5;
}

impl Codec for SyncRequest {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            SyncRequest::Heads => write_variant(out, variant::HEADS),
            SyncRequest::Range {
                author,
                from_seq,
                limit,
            } => {
                write_variant(out, variant::RANGE);
                write_bytes(out, author.as_bytes());
                from_seq.write(out);
                limit.write(out);
            }
            SyncRequest::Proofs => write_variant(out, variant::PROOFS),
            SyncRequest::Witnessed => write_variant(out, variant::WITNESSED),
        }
    }

    fn read(reader: &mut Reader<'_>) -> Result<SyncRequest, DecodeError> {
        match reader.variant("a sync request")? {
            variant::HEADS => Ok(SyncRequest::Heads),
            variant::RANGE => Ok(SyncRequest::Range {
                author: reader
                    .text::<ORG_ID_BYTES_MAX>("a range's author")?
                    .to_owned(),
                from_seq: reader.u64("a range's from_seq")?,
                limit: reader.u64("a range's limit")?,
            }),
            variant::PROOFS => Ok(SyncRequest::Proofs),
            variant::WITNESSED => Ok(SyncRequest::Witnessed),
            index => Err(DecodeError::UnknownVariant {
                what: "a sync request",
                index,
            }),
        }
    }
}

impl Codec for WireHead {
    fn write(&self, out: &mut Vec<u8>) {
        write_bytes(out, self.author.as_bytes());
        self.seq.write(out);
        self.id.write(out);
    }

    fn read(reader: &mut Reader<'_>) -> Result<WireHead, DecodeError> {
        Ok(WireHead {
            author: reader
                .text::<ORG_ID_BYTES_MAX>("a head's author")?
                .to_owned(),
            seq: reader.u64("a head's seq")?,
            id: reader.array("a head's id")?,
        })
    }
}

/// An equivocation proof as in the bundle's proof frame (§13) and the proofs gossip topic
/// (§17.1): two envelopes, each bounded by one record's size. Decoding both under bincode's
/// one limit per call would refuse a valid proof of two records larger than half that limit.
impl Codec for EquivocationProof {
    fn write(&self, out: &mut Vec<u8>) {
        write_bytes(out, &self.first);
        write_bytes(out, &self.second);
    }

    fn read(reader: &mut Reader<'_>) -> Result<EquivocationProof, DecodeError> {
        Ok(EquivocationProof {
            first: reader
                .bytes::<RECORD_SIZE_BYTES_MAX>("a proof's first record")?
                .to_vec(),
            second: reader
                .bytes::<RECORD_SIZE_BYTES_MAX>("a proof's second record")?
                .to_vec(),
        })
    }
}

impl Codec for SyncResponse {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            SyncResponse::Heads { heads, proofs } => {
                write_variant(out, variant::HEADS);
                crate::codec::write_list(out, heads);
                proofs.write(out);
            }
            SyncResponse::Records(records) => {
                write_variant(out, variant::RECORDS);
                write_length(out, records.len());
                for record in records {
                    write_bytes(out, record);
                }
            }
            SyncResponse::Proofs(proofs) => {
                write_variant(out, variant::PROOFS);
                write_length(out, proofs.len());
                for proof in proofs {
                    proof.write(out);
                }
            }
            SyncResponse::Unavailable => write_variant(out, variant::UNAVAILABLE),
            SyncResponse::Witnessed(set) => {
                write_variant(out, variant::WITNESSED_SET);
                set.write(out);
            }
        }
    }

    fn read(reader: &mut Reader<'_>) -> Result<SyncResponse, DecodeError> {
        match reader.variant("a sync response")? {
            variant::HEADS => Ok(SyncResponse::Heads {
                heads: crate::codec::read_list::<WireHead, HEADS_DECODE_MAX>(reader, "heads")?,
                proofs: reader.u64("a heads response's proof count")?,
            }),
            variant::RECORDS => {
                let count = reader.count::<RANGE_RECORDS_DECODE_MAX>("a range's records")?;
                let mut records = Vec::with_capacity(count);
                for _ in 0..count {
                    records.push(reader.bytes::<RECORD_SIZE_BYTES_MAX>("a record")?.to_vec());
                }
                Ok(SyncResponse::Records(records))
            }
            variant::PROOFS => {
                let count = reader.count::<PROOFS_PER_RESPONSE_MAX>("proofs")?;
                let mut proofs = Vec::with_capacity(count);
                for _ in 0..count {
                    proofs.push(EquivocationProof::read(reader)?);
                }
                Ok(SyncResponse::Proofs(proofs))
            }
            variant::UNAVAILABLE => Ok(SyncResponse::Unavailable),
            variant::WITNESSED_SET => Ok(SyncResponse::Witnessed(WitnessedSet::read(reader)?)),
            index => Err(DecodeError::UnknownVariant {
                what: "a sync response",
                index,
            }),
        }
    }
}

/// A frame: the message's length (u32 LE), then the message. `None` for a message over
/// 4 GiB, which no bound of this protocol allows.
pub fn encode_frame<T: Codec>(message: &T) -> Option<Vec<u8>> {
    let mut out = vec![0; FRAME_PREFIX_BYTES];
    message.write(&mut out);
    let length = u32::try_from(out.len() - FRAME_PREFIX_BYTES).ok()?;
    out[..FRAME_PREFIX_BYTES].copy_from_slice(&length.to_le_bytes());
    Some(out)
}

/// The length a frame's prefix declares, refused if over `max_bytes` (checked before the
/// frame is read).
pub fn frame_length(
    prefix: [u8; FRAME_PREFIX_BYTES],
    max_bytes: usize,
    what: &'static str,
) -> Result<usize, DecodeError> {
    let length = u32::from_le_bytes(prefix);
    match usize::try_from(length) {
        Ok(length) if length <= max_bytes => Ok(length),
        _ => Err(DecodeError::TooLong {
            what,
            length: u64::from(length),
            max: max_bytes,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
        proptest::collection::vec(any::<u8>(), 0..max)
    }

    fn request() -> impl Strategy<Value = SyncRequest> {
        prop_oneof![
            Just(SyncRequest::Heads),
            Just(SyncRequest::Proofs),
            ("[A-Z0-9-]{0,40}", any::<u64>(), any::<u64>()).prop_map(
                |(author, from_seq, limit)| SyncRequest::Range {
                    author,
                    from_seq,
                    limit
                }
            ),
        ]
    }

    fn response() -> impl Strategy<Value = SyncResponse> {
        let head = ("\\PC{0,20}", any::<u64>(), any::<[u8; 32]>())
            .prop_map(|(author, seq, id)| WireHead { author, seq, id });
        let proof =
            (bytes(64), bytes(64)).prop_map(|(first, second)| EquivocationProof { first, second });
        prop_oneof![
            (proptest::collection::vec(head, 0..5), any::<u64>())
                .prop_map(|(heads, proofs)| SyncResponse::Heads { heads, proofs }),
            proptest::collection::vec(bytes(100), 0..5).prop_map(SyncResponse::Records),
            proptest::collection::vec(proof, 0..4).prop_map(SyncResponse::Proofs),
            Just(SyncResponse::Unavailable),
        ]
    }

    proptest! {
        /// Round trip, and the bytes are those bincode wrote in version 1 of the protocol.
        #[test]
        fn requests_round_trip_in_version_1_bytes(value in request()) {
            let encoded = value.to_bytes();
            prop_assert_eq!(&encoded, &crate::codec::encode(&value));
            prop_assert_eq!(SyncRequest::from_bytes(&encoded)?, value);
        }

        #[test]
        fn responses_round_trip_in_version_1_bytes(value in response()) {
            let encoded = value.to_bytes();
            prop_assert_eq!(&encoded, &crate::codec::encode(&value));
            prop_assert_eq!(SyncResponse::from_bytes(&encoded)?, value.clone());
            let frame = encode_frame(&value).unwrap();
            let prefix: [u8; 4] = frame[..4].try_into().unwrap();
            prop_assert_eq!(frame_length(prefix, RESPONSE_SIZE_BYTES_MAX, "a response")?, encoded.len());
            prop_assert_eq!(&frame[4..], &encoded[..]);
        }
    }

    #[test]
    fn golden_bytes() {
        let request = SyncRequest::Range {
            author: "GB-GOV-1".into(),
            from_seq: 7,
            limit: 100,
        };
        assert_eq!(
            hex::encode(encode_frame(&request).unwrap()),
            "24000000\
             01000000\
             0800000000000000 47422d474f562d31\
             0700000000000000\
             6400000000000000"
                .replace(' ', "")
        );
        let heads = SyncResponse::Heads {
            heads: vec![WireHead {
                author: "A".into(),
                seq: 2,
                id: [0x11; 32],
            }],
            proofs: 3,
        };
        assert_eq!(
            hex::encode(heads.to_bytes()),
            format!(
                "00000000{}{}{}{}{}",
                "0100000000000000",
                "010000000000000041",
                "0200000000000000",
                "11".repeat(32),
                "0300000000000000"
            )
        );
        let records = SyncResponse::Records(vec![vec![0xaa, 0xbb]]);
        assert_eq!(
            hex::encode(records.to_bytes()),
            "0100000001000000000000000200000000000000aabb"
        );
        let proofs = SyncResponse::Proofs(vec![EquivocationProof {
            first: vec![1],
            second: vec![2],
        }]);
        assert_eq!(
            hex::encode(proofs.to_bytes()),
            "020000000100000000000000010000000000000001010000000000000002"
        );
        assert_eq!(
            hex::encode(SyncResponse::Unavailable.to_bytes()),
            "03000000"
        );
    }

    /// A proof of two records of 9 MiB each: valid (each side within one record's limit),
    /// but over bincode's one budget per decode call, which is why proofs use `Codec`.
    #[test]
    fn a_proof_of_two_large_records_decodes() {
        let side = 9 * 1024 * 1024;
        let proof = EquivocationProof {
            first: vec![1; side],
            second: vec![2; side],
        };
        let bytes = proof.to_bytes();
        assert_eq!(bytes, crate::codec::encode(&proof));
        assert!(crate::codec::decode_exact::<EquivocationProof>(&bytes).is_err());
        assert_eq!(EquivocationProof::from_bytes(&bytes).unwrap(), proof);
        let mut over = Vec::new();
        write_length(&mut over, RECORD_SIZE_BYTES_MAX + 1);
        assert!(matches!(
            EquivocationProof::from_bytes(&over),
            Err(DecodeError::TooLong { .. })
        ));
    }

    #[test]
    fn bounds_are_checked_before_reading() {
        let mut records = Vec::new();
        write_variant(&mut records, variant::RECORDS);
        write_length(&mut records, RANGE_RECORDS_DECODE_MAX + 1);
        assert!(matches!(
            SyncResponse::from_bytes(&records),
            Err(DecodeError::TooLong { .. })
        ));
        let mut record = Vec::new();
        write_variant(&mut record, variant::RECORDS);
        write_length(&mut record, 1);
        write_length(&mut record, RECORD_SIZE_BYTES_MAX + 1);
        assert!(matches!(
            SyncResponse::from_bytes(&record),
            Err(DecodeError::TooLong { .. })
        ));
        let mut author = Vec::new();
        write_variant(&mut author, variant::RANGE);
        write_bytes(&mut author, &[b'a'; ORG_ID_BYTES_MAX + 1]);
        assert!(matches!(
            SyncRequest::from_bytes(&author),
            Err(DecodeError::TooLong { .. })
        ));
        assert!(matches!(
            SyncResponse::from_bytes(&[4, 0, 0, 0]),
            Err(DecodeError::UnknownVariant { index: 4, .. })
        ));
        let over = u32::try_from(REQUEST_SIZE_BYTES_MAX + 1).unwrap();
        assert!(frame_length(over.to_le_bytes(), REQUEST_SIZE_BYTES_MAX, "a request").is_err());
        let mut trailing = SyncRequest::Heads.to_bytes();
        trailing.push(0);
        assert_eq!(
            SyncRequest::from_bytes(&trailing),
            Err(DecodeError::TrailingBytes { trailing: 1 })
        );
    }
}
