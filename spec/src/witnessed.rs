//! What nodes tell each other about checkpoints (FORMAT.md §17.1, §17.2): a cosigned
//! checkpoint note or a split-view proof on the gossip topic `aidledger/<network>/witnessed/1`
//! ([`WitnessedMessage`]), and all of them at once in answer to the sync request
//! `Witnessed` ([`WitnessedSet`]), so that a node that missed the gossip catches up.
//!
//! No byte of these is hashed or signed: each note and proof is checked by the receiver
//! (§23–§25) before it is kept. Every length is bounded before anything is taken.

use crate::codec::{write_bytes, write_length, write_variant, Codec, DecodeError, Reader};
use crate::limits::{MEMBERS_MAX, NOTE_BYTES_MAX};
use crate::splitview::SplitViewProof;

/// Most checkpoint notes in one sync answer: one per member.
pub const WITNESSED_CHECKPOINTS_MAX: usize = MEMBERS_MAX;
/// Most split-view proofs in one sync answer.
pub const WITNESSED_SPLIT_VIEWS_MAX: usize = 64;
/// A responder stops adding notes and proofs to a sync answer once it holds this many bytes
/// (it always holds at least one of each it has), so that the answer fits in a sync frame
/// (`RESPONSE_SIZE_BYTES_MAX`, §17.2) whatever the notes' sizes.
pub const WITNESSED_ANSWER_BYTES_MAX: usize = 4 * 1024 * 1024;

/// One gossip message of the witnessed topic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WitnessedMessage {
    /// Variant 0: a checkpoint note, whole (text, blank line, signature lines), at most
    /// `NOTE_BYTES_MAX` bytes.
    Checkpoint(String),
    /// Variant 1: a split-view proof (§25.1).
    SplitView(SplitViewProof),
}

/// The answer to the sync request `Witnessed`: the responder's cosigned checkpoints (one per
/// organisation) and split-view proofs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct WitnessedSet {
    /// Checkpoint notes, at most [`WITNESSED_CHECKPOINTS_MAX`].
    pub checkpoints: Vec<String>,
    /// Split-view proofs, at most [`WITNESSED_SPLIT_VIEWS_MAX`].
    pub split_views: Vec<SplitViewProof>,
}

mod variant {
    pub const CHECKPOINT: u32 = 0;
    pub const SPLIT_VIEW: u32 = 1;
}

impl Codec for WitnessedMessage {
    fn write(&self, out: &mut Vec<u8>) {
        match self {
            WitnessedMessage::Checkpoint(note) => {
                write_variant(out, variant::CHECKPOINT);
                write_bytes(out, note.as_bytes());
            }
            WitnessedMessage::SplitView(proof) => {
                write_variant(out, variant::SPLIT_VIEW);
                proof.write(out);
            }
        }
    }

    fn read(reader: &mut Reader<'_>) -> Result<WitnessedMessage, DecodeError> {
        match reader.variant("a witnessed message")? {
            variant::CHECKPOINT => Ok(WitnessedMessage::Checkpoint(
                reader
                    .text::<NOTE_BYTES_MAX>("a checkpoint note")?
                    .to_owned(),
            )),
            variant::SPLIT_VIEW => Ok(WitnessedMessage::SplitView(SplitViewProof::read(reader)?)),
            index => Err(DecodeError::UnknownVariant {
                what: "a witnessed message",
                index,
            }),
        }
    }
}

impl Codec for WitnessedSet {
    fn write(&self, out: &mut Vec<u8>) {
        write_length(out, self.checkpoints.len());
        for note in &self.checkpoints {
            write_bytes(out, note.as_bytes());
        }
        write_length(out, self.split_views.len());
        for proof in &self.split_views {
            proof.write(out);
        }
    }

    fn read(reader: &mut Reader<'_>) -> Result<WitnessedSet, DecodeError> {
        let count = reader.count::<WITNESSED_CHECKPOINTS_MAX>("checkpoint notes")?;
        let mut checkpoints = Vec::with_capacity(count);
        for _ in 0..count {
            checkpoints.push(
                reader
                    .text::<NOTE_BYTES_MAX>("a checkpoint note")?
                    .to_owned(),
            );
        }
        let count = reader.count::<WITNESSED_SPLIT_VIEWS_MAX>("split-view proofs")?;
        let mut split_views = Vec::with_capacity(count);
        for _ in 0..count {
            split_views.push(SplitViewProof::read(reader)?);
        }
        Ok(WitnessedSet {
            checkpoints,
            split_views,
        })
    }
}

/// The sync module's tests check its old variants against bincode's bytes (version 1 of the
/// protocol), which needs every variant's fields to be `bincode::Encode`: this one writes its
/// own layout (the new variant has no bincode past to match).
#[cfg(test)]
impl bincode::Encode for WitnessedSet {
    fn encode<E: bincode::enc::Encoder>(
        &self,
        encoder: &mut E,
    ) -> Result<(), bincode::error::EncodeError> {
        use bincode::enc::write::Writer as _;
        encoder.writer().write(&self.to_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::splitview::SplitEvidence;

    fn proof() -> SplitViewProof {
        SplitViewProof {
            first: "a\n\n— x AAAA\n".into(),
            second: "b\n\n— x AAAA\n".into(),
            evidence: SplitEvidence::SameSize,
        }
    }

    #[test]
    fn messages_and_sets_round_trip_and_bounds_hold() {
        for message in [
            WitnessedMessage::Checkpoint("note\n\n— x AAAA\n".into()),
            WitnessedMessage::SplitView(proof()),
        ] {
            let bytes = message.to_bytes();
            assert_eq!(WitnessedMessage::from_bytes(&bytes).unwrap(), message);
            // Every truncation is refused, never a panic.
            for end in 0..bytes.len() {
                assert!(WitnessedMessage::from_bytes(&bytes[..end]).is_err());
            }
        }
        // Variant 0, then the note as a byte string: `00000000`, u64 length, bytes.
        assert_eq!(
            WitnessedMessage::Checkpoint("n".into()).to_bytes(),
            [&[0, 0, 0, 0][..], &1u64.to_le_bytes(), b"n"].concat()
        );
        assert!(WitnessedMessage::from_bytes(&[2, 0, 0, 0]).is_err());
        let set = WitnessedSet {
            checkpoints: vec!["one\n\n— x AAAA\n".into(), "two\n\n— x AAAA\n".into()],
            split_views: vec![proof()],
        };
        let bytes = set.to_bytes();
        assert_eq!(WitnessedSet::from_bytes(&bytes).unwrap(), set);
        let mut trailing = bytes.clone();
        trailing.push(0);
        assert!(WitnessedSet::from_bytes(&trailing).is_err());
        // A count over its bound is refused before anything is taken.
        let mut over = (WITNESSED_CHECKPOINTS_MAX as u64 + 1)
            .to_le_bytes()
            .to_vec();
        over.extend_from_slice(&0u64.to_le_bytes());
        assert!(WitnessedSet::from_bytes(&over).is_err());
        let mut note_over = 1u64.to_le_bytes().to_vec();
        note_over.extend_from_slice(&(NOTE_BYTES_MAX as u64 + 1).to_le_bytes());
        assert!(WitnessedSet::from_bytes(&note_over).is_err());

        // In sync frames: request variant 3, response variant 5 (§17.2).
        use crate::sync::{SyncRequest, SyncResponse};
        assert_eq!(SyncRequest::Witnessed.to_bytes(), [3, 0, 0, 0]);
        assert_eq!(
            SyncRequest::from_bytes(&[3, 0, 0, 0]).unwrap(),
            SyncRequest::Witnessed
        );
        let response = SyncResponse::Witnessed(set.clone());
        let bytes = response.to_bytes();
        assert_eq!(bytes[..4], [5, 0, 0, 0]);
        assert_eq!(bytes[4..], set.to_bytes()[..]);
        assert_eq!(SyncResponse::from_bytes(&bytes).unwrap(), response);
    }
}
