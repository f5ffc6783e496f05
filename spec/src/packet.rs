//! One-record proof packets (FORMAT.md §26): a small self-contained file that shows, offline and
//! with no node, that one record is genuine and is in its organisation's signed chain.
//!
//! The shape follows C2SP tlog-proof (an entry's index, its inclusion proof and the checkpoint
//! note verbatim, cosignatures included), with what an aidledger verifier needs besides: the
//! record's own bytes (the leaf is computed from them, never taken on trust), and the genesis
//! and governance records that say which keys the organisation could sign with at the record's
//! position and at the checkpoint's size. [`ProofPacket::tlog_proof_text`] writes the C2SP
//! text of the inclusion part for tools that speak it.
//!
//! **Which governance records.** The derivation of the authority (FORMAT.md §18.6) is a
//! function of the whole set of governance records: proposals apply in a chain of bases, and a
//! revocation made later can reach back to an earlier position. No subset can be shown to be
//! enough, so a packet carries every governance record its maker held, of every chain (as a
//! bundle does, §13.1). A packet cannot prove that no other governance record exists; the
//! verdict is "authorised under the governance records the packet carries", and says how many.
//!
//! **Redacted records** (FORMAT.md §26.3, §27). A packet may carry the record's withheld
//! envelope (§6.1) instead of the whole record: it then shows that the record exists, who
//! signed it, and which order in force made its nodes forget its body — an effective `redact`
//! step of the governance carried, or the author's own `redaction` record, which a version 2
//! packet (`AIDLPKT2`) carries in its `order` field. A writer writes version 1 whenever it can.

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use crate::checkpoint::{CheckpointError, SignedCheckpoint};
use crate::codec::{read_list, write_bytes, write_list, Bytes, Codec, DecodeError, Reader};
use crate::cosignature::{Cosigned, PolicyError, WitnessPolicy};
use crate::genesis::{Genesis, GenesisError};
use crate::governance::{self, GovernanceRecord};
use crate::ids::{Digest, NetworkId, PublicKey, RecordId};
use crate::limits::{
    GOVERNANCE_RECORDS_MAX, NOTE_BYTES_MAX, PROOF_PACKET_BYTES_MAX, RECORD_SIZE_BYTES_MAX,
};
use crate::merkle::{leaf_hash, InclusionProof, MerkleError};
use crate::record::BodyKind;
use crate::redaction::{judge_withheld, Order, OrdersInForce};
use crate::verify::{Rejection, Verifier};
use crate::withheld::is_withheld;

/// The first 8 bytes of a version 1 proof packet; the final `1` is the format's version.
pub const MAGIC: [u8; 8] = *b"AIDLPKT1";
/// The first 8 bytes of a version 2 proof packet (version 1's fields, then the author's order
/// of a redacted record, FORMAT.md §26.1).
pub const MAGIC_V2: [u8; 8] = *b"AIDLPKT2";
/// The first line of C2SP tlog-proof text.
pub const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

/// A one-record proof packet, as carried (nothing in it verified).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProofPacket {
    /// The genesis bytes (FORMAT.md §3); its hash is the network id.
    pub genesis: Vec<u8>,
    /// Every governance record the maker held, wire bytes (§6), in bundle order.
    pub governance: Vec<Vec<u8>>,
    /// The record's wire bytes (§6), or its withheld envelope (§6.1) when its body was redacted.
    pub record: Vec<u8>,
    /// The record's inclusion proof in the checkpoint's tree (§22.4).
    pub inclusion: InclusionProof,
    /// The checkpoint note, whole: text, blank line, the organisation's signature and any
    /// cosignatures (§23, §24).
    pub checkpoint: String,
    /// The record author's `redaction` record (kind 9, wire bytes) that orders its body
    /// forgotten, for a withheld record no admins' order covers. Present only in version 2.
    pub order: Option<Vec<u8>>,
}

/// Why a proof packet was refused: the first check that failed, in the order of FORMAT.md §26.2.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PacketError {
    /// Check 1: More bytes than [`PROOF_PACKET_BYTES_MAX`].
    #[error("{bytes} bytes, over the limit of {max}", max = PROOF_PACKET_BYTES_MAX)]
    TooLarge {
        /// The packet's size.
        bytes: usize,
    },
    /// Check 1: Not the magic.
    #[error("not an aidledger proof packet: it does not start with AIDLPKT1 or AIDLPKT2")]
    Magic,
    /// Check 1: The bytes are not a packet in the layout of §26.1.
    #[error("malformed packet: {0}")]
    Decode(#[from] DecodeError),
    /// Check 2: The genesis does not decode or breaks a genesis rule.
    #[error("the genesis: {0}")]
    Genesis(GenesisError),
    /// Check 2: The genesis is of another network than the one expected.
    #[error("the packet is of network {found}, not the expected {expected}")]
    WrongNetwork {
        /// The network id of the packet's genesis.
        found: NetworkId,
        /// The network id the verifier trusts.
        expected: NetworkId,
    },
    /// Check 3: A governance record breaks a record rule (signature, network, fields).
    #[error("governance record {index}: {reason}")]
    Governance {
        /// Its place in the packet's list, from 0.
        index: usize,
        /// The first rule it broke.
        reason: Rejection,
    },
    /// Check 3: A record in the governance list is not of a governance kind.
    #[error("governance record {index} is not a governance record")]
    NotGovernance {
        /// Its place in the packet's list, from 0.
        index: usize,
    },
    /// Check 4: The record breaks a record rule (it does not decode, its signature fails, …).
    #[error("the record: {0}")]
    Record(Rejection),
    /// Check 5: The record's key could not sign its position under the governance carried.
    #[error("the record's key was not authorised at its position: {0}")]
    NotAuthorised(Rejection),
    /// Check 6: The checkpoint note does not parse, is of another chain, or no key of the
    /// organisation valid at the checkpoint's size signed it.
    #[error("the checkpoint: {0}")]
    Checkpoint(CheckpointError),
    /// Check 7: The inclusion proof is for another leaf index than the record's `seq`.
    #[error("the inclusion proof is for index {index}, the record is at seq {seq}")]
    WrongIndex {
        /// The record's position.
        seq: u64,
        /// The proof's leaf index.
        index: u64,
    },
    /// Check 7: The inclusion proof is for another tree size than the checkpoint's.
    #[error("the inclusion proof is for a tree of {proof}, the checkpoint's has {checkpoint}")]
    WrongSize {
        /// The proof's tree size.
        proof: u64,
        /// The checkpoint's size.
        checkpoint: u64,
    },
    /// Check 8: The record's leaf and the proof do not lead to the checkpoint's root.
    #[error("the inclusion proof does not verify: {0}")]
    Inclusion(MerkleError),
    /// Check 9: A witness policy was given and the checkpoint does not meet it.
    #[error("not witnessed as required: {0}")]
    NotWitnessed(PolicyError),
    /// Check 10: The record is whole and the packet carries an order (only a withheld record
    /// needs one).
    #[error("the packet carries an order, but its record is whole")]
    UnexpectedOrder,
    /// Check 10: The order carried breaks a record rule (1–17) under the governance carried.
    #[error("the order: {0}")]
    Order(Rejection),
    /// Check 10: The order carried is not a `redaction` record (kind 9).
    #[error("the order carried is a {kind} record, not a redaction")]
    NotAnOrder {
        /// The kind's name.
        kind: &'static str,
    },
    /// Check 10: The record is withheld and no order the packet shows covers it (FORMAT.md
    /// §27.2): no effective `redact` step of the governance carried names it, and the order
    /// carried, if any, is not its author's, not later in its chain, or names another record.
    #[error(
        "the record's body is withheld, and no order the packet shows covers it \
         (withheld-without-order)"
    )]
    NotRedacted,
}

impl PacketError {
    /// A short stable name of the check that failed (the vectors' `error`).
    pub fn name(&self) -> &'static str {
        match self {
            PacketError::TooLarge { .. } => "too-large",
            PacketError::Magic => "magic",
            PacketError::Decode(_) => "malformed",
            PacketError::Genesis(_) => "genesis",
            PacketError::WrongNetwork { .. } => "wrong-network",
            PacketError::Governance { .. } => "governance",
            PacketError::NotGovernance { .. } => "not-governance",
            PacketError::Record(_) => "record",
            PacketError::NotAuthorised(_) => "not-authorised",
            PacketError::Checkpoint(_) => "checkpoint",
            PacketError::WrongIndex { .. } => "wrong-index",
            PacketError::WrongSize { .. } => "wrong-size",
            PacketError::Inclusion(_) => "inclusion",
            PacketError::NotWitnessed(_) => "not-witnessed",
            PacketError::UnexpectedOrder => "unexpected-order",
            PacketError::Order(_) => "order",
            PacketError::NotAnOrder { .. } => "not-an-order",
            PacketError::NotRedacted => "not-redacted",
        }
    }
}

/// Whether the checkpoint was checked against witnesses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Witnessing {
    /// No witness policy was given: the checkpoint rests on the organisation's signature
    /// alone. `signature_lines` counts every line of the note, none checked but the
    /// organisation's.
    NotChecked {
        /// Signature lines of the note.
        signature_lines: usize,
    },
    /// The policy was met by these witnesses' cosignatures.
    Met {
        /// The cosignatures that verified (indices into the policy's witnesses).
        cosigned: Vec<Cosigned>,
        /// The policy's threshold.
        threshold: usize,
    },
}

/// What a valid packet shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// The network (the expected one).
    pub network: NetworkId,
    /// The record's id.
    pub record: RecordId,
    /// Its author.
    pub author: String,
    /// Its position in the author's chain.
    pub seq: u64,
    /// Its body kind's name (`transaction`, …).
    pub kind: &'static str,
    /// The key that signed it.
    pub signing_key: PublicKey,
    /// The checkpoint's tree size.
    pub size: u64,
    /// The checkpoint's root.
    pub root: Digest,
    /// The organisation's key that signed the checkpoint.
    pub checkpoint_key: PublicKey,
    /// Governance records the packet carried (the authority was derived from them).
    pub governance_records: usize,
    /// Witnesses.
    pub witnessing: Witnessing,
    /// For a withheld record: the order in force that covers it (its id, who made it, why).
    /// `None`: the packet carried the whole record.
    pub redacted: Option<Order>,
}

impl ProofPacket {
    /// The packet's bytes (FORMAT.md §26.1): version 1 when it carries no order, version 2
    /// (version 1's fields, then the order) when it does.
    pub fn to_packet_bytes(&self) -> Vec<u8> {
        match &self.order {
            None => {
                let mut out = MAGIC.to_vec();
                self.write(&mut out);
                out
            }
            Some(order) => {
                let mut out = MAGIC_V2.to_vec();
                self.write(&mut out);
                out.push(1);
                write_bytes(&mut out, order);
                out
            }
        }
    }

    /// The packet's version: 1, or 2 when it carries an order.
    pub fn version(&self) -> u8 {
        if self.order.is_some() {
            2
        } else {
            1
        }
    }

    /// Reads a packet's bytes of either version: the magic, then the layout of §26.1, nothing
    /// after it.
    pub fn from_packet_bytes(bytes: &[u8]) -> Result<ProofPacket, PacketError> {
        if bytes.len() > PROOF_PACKET_BYTES_MAX {
            return Err(PacketError::TooLarge { bytes: bytes.len() });
        }
        if let Some(rest) = bytes.strip_prefix(&MAGIC) {
            return Ok(ProofPacket::from_bytes(rest)?);
        }
        let rest = bytes.strip_prefix(&MAGIC_V2).ok_or(PacketError::Magic)?;
        let mut reader = Reader::new(rest);
        let mut packet = ProofPacket::read(&mut reader)?;
        packet.order = match reader.array::<1>("a packet's order flag")? {
            [0] => None,
            [1] => Some(
                reader
                    .bytes::<RECORD_SIZE_BYTES_MAX>("a packet's order")?
                    .to_vec(),
            ),
            [other] => {
                return Err(PacketError::Decode(DecodeError::Malformed(format!(
                    "a packet's order flag is {other}, not 0 or 1"
                ))))
            }
        };
        reader.finish()?;
        Ok(packet)
    }

    /// The C2SP tlog-proof text of the inclusion part: header, `index`, the path in base64
    /// one hash a line, a blank line, the checkpoint note verbatim. The leaf is the record's
    /// leaf hash (§22.1), which a reader computes from the record; the rest of the packet has
    /// no place in that text.
    pub fn tlog_proof_text(&self) -> String {
        let mut out = format!("{TLOG_PROOF_HEADER}\nindex {}\n", self.inclusion.leaf_index);
        for hash in &self.inclusion.path {
            out.push_str(&BASE64.encode(hash.0));
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.checkpoint);
        out
    }
}

/// The fields of version 1 (FORMAT.md §26.1), which version 2 begins with; `read` leaves
/// `order` empty.
impl Codec for ProofPacket {
    fn write(&self, out: &mut Vec<u8>) {
        write_bytes(out, &self.genesis);
        write_length_prefixed_list(out, &self.governance);
        write_bytes(out, &self.record);
        self.inclusion.write(out);
        write_bytes(out, self.checkpoint.as_bytes());
    }

    fn read(reader: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let genesis = reader
            .bytes::<RECORD_SIZE_BYTES_MAX>("a packet's genesis")?
            .to_vec();
        let governance = read_list::<Bytes<RECORD_SIZE_BYTES_MAX>, GOVERNANCE_RECORDS_MAX>(
            reader,
            "a packet's governance records",
        )?
        .into_iter()
        .map(|bytes| bytes.0)
        .collect();
        let record = reader
            .bytes::<RECORD_SIZE_BYTES_MAX>("a packet's record")?
            .to_vec();
        let inclusion = InclusionProof::read(reader)?;
        let checkpoint = reader
            .text::<NOTE_BYTES_MAX>("a packet's checkpoint")?
            .to_owned();
        Ok(ProofPacket {
            genesis,
            governance,
            record,
            inclusion,
            checkpoint,
            order: None,
        })
    }
}

/// Writes a list of byte strings (a `u64` count, then each as §2's `Vec<u8>`).
fn write_length_prefixed_list(out: &mut Vec<u8>, items: &[Vec<u8>]) {
    let items: Vec<Bytes<RECORD_SIZE_BYTES_MAX>> =
        items.iter().map(|item| Bytes(item.clone())).collect();
    write_list(out, &items);
}

/// Verifies a proof packet offline (FORMAT.md §26.2) against the one value a verifier trusts,
/// the network id, and optionally a witness policy. The first failure, in check order, is the
/// error; no input makes it panic.
pub fn verify_packet(
    bytes: &[u8],
    expected_network: &NetworkId,
    witness_policy: Option<&WitnessPolicy>,
) -> Result<Verdict, PacketError> {
    // 1. The bytes.
    let packet = ProofPacket::from_packet_bytes(bytes)?;

    // 2. The genesis, and the network the reader trusts.
    let genesis = Genesis::decode(&packet.genesis).map_err(PacketError::Genesis)?;
    let network = genesis.network_id();
    if network != *expected_network {
        return Err(PacketError::WrongNetwork {
            found: network,
            expected: *expected_network,
        });
    }

    // 3. The governance records: each by the record rules, then the authority they derive.
    let genesis_verifier = Verifier::new(genesis.clone());
    let mut governance_records = Vec::with_capacity(packet.governance.len());
    for (index, bytes) in packet.governance.iter().enumerate() {
        let record = genesis_verifier
            .verify_record_rules(bytes.clone())
            .map_err(|rejected| PacketError::Governance {
                index,
                reason: rejected.reason,
            })?;
        let governance_record =
            GovernanceRecord::from_verified(&record).ok_or(PacketError::NotGovernance { index })?;
        governance_records.push(governance_record);
    }
    let authority = governance::derive(&genesis, &governance_records).authority;
    let verifier = Verifier::with_authority(genesis, authority);

    // 4. The record by the record rules (its signature among them), 5. its key at its seq;
    // a withheld envelope by every rule that does not need the body (§6.1).
    let record = if is_withheld(&packet.record) {
        let record = verifier
            .verify_withheld(packet.record)
            .map_err(|rejected| match rejected.reason {
                reason if reason.is_authority_rule() => PacketError::NotAuthorised(reason),
                reason => PacketError::Record(reason),
            })?;
        Shown::Withheld {
            header: record.header().clone(),
            id: record.id(),
        }
    } else {
        let record = verifier
            .verify_record_rules(packet.record)
            .map_err(|rejected| PacketError::Record(rejected.reason))?;
        let record = verifier
            .check_authority(record)
            .map_err(|rejected| PacketError::NotAuthorised(rejected.reason))?;
        Shown::Whole {
            header: record.header().clone(),
            id: record.id(),
            kind: record.body().kind(),
        }
    };
    let (header, record_id) = match &record {
        Shown::Whole { header, id, .. } | Shown::Withheld { header, id } => (header, *id),
    };
    let (author, seq) = (header.author.clone(), header.seq);

    // 6. The checkpoint: the organisation's chain on this network, signed by a key the
    // authority lets it sign with at the checkpoint's last position.
    let size = checkpoint_size(&packet.checkpoint)?;
    let org_keys = verifier.authority().checkpoint_keys(&author, size);
    let signed = SignedCheckpoint::open(&packet.checkpoint, &network, &author, &org_keys)
        .map_err(PacketError::Checkpoint)?;

    // 7. The proof is for this record's position in this checkpoint's tree; 8. it verifies.
    if packet.inclusion.leaf_index != seq {
        return Err(PacketError::WrongIndex {
            seq,
            index: packet.inclusion.leaf_index,
        });
    }
    if packet.inclusion.tree_size != signed.checkpoint.size {
        return Err(PacketError::WrongSize {
            proof: packet.inclusion.tree_size,
            checkpoint: signed.checkpoint.size,
        });
    }
    packet
        .inclusion
        .verify(&leaf_hash(&record_id), &signed.checkpoint.root)
        .map_err(PacketError::Inclusion)?;

    // 9. Witnesses, when the reader names them.
    let witnessing = match witness_policy {
        Some(policy) => Witnessing::Met {
            cosigned: policy
                .check(&signed.note)
                .map_err(PacketError::NotWitnessed)?,
            threshold: policy.threshold(),
        },
        None => Witnessing::NotChecked {
            signature_lines: signed.note.signatures.len(),
        },
    };

    // 10. Why the body is missing: an order in force that the packet shows (§27.2).
    let (kind, redacted) = match &record {
        Shown::Whole { kind, .. } => {
            if packet.order.is_some() {
                return Err(PacketError::UnexpectedOrder);
            }
            (*kind, None)
        }
        Shown::Withheld { header, id } => {
            let orders = orders_shown(&verifier, packet.order)?;
            let entry = judge_withheld(&orders, &author, seq, *id, header.body_kind)
                .map_err(|_| PacketError::NotRedacted)?;
            // `verify_withheld` accepts only the redactable kinds, every one of them known.
            let kind = BodyKind::from_wire(header.body_kind).ok_or(PacketError::NotRedacted)?;
            (kind, Some(entry.order))
        }
    };

    Ok(Verdict {
        network,
        record: record_id,
        author,
        seq,
        kind: kind.name(),
        signing_key: header.signing_key,
        size: signed.checkpoint.size,
        root: signed.checkpoint.root,
        checkpoint_key: signed.signed_by,
        governance_records: packet.governance.len(),
        witnessing,
        redacted,
    })
}

/// The record a packet shows, once it passed rules 1–17 (or, withheld, 1–5, 25 and 12–17).
enum Shown {
    Whole {
        header: crate::record::RecordHeader,
        id: RecordId,
        kind: BodyKind,
    },
    Withheld {
        header: crate::record::RecordHeader,
        id: RecordId,
    },
}

/// The orders in force a packet shows (FORMAT.md §26.2 check 10): the effective `redact` steps
/// of the authority derived from the governance carried, and the order carried, which must pass
/// rules 1–17 under that authority and be a `redaction` record.
fn orders_shown(verifier: &Verifier, order: Option<Vec<u8>>) -> Result<OrdersInForce, PacketError> {
    let mut orders = OrdersInForce::from_authority(verifier.authority());
    if let Some(bytes) = order {
        let record = verifier
            .verify_record_rules(bytes)
            .map_err(|rejected| PacketError::Order(rejected.reason))?;
        let record = verifier
            .check_authority(record)
            .map_err(|rejected| PacketError::Order(rejected.reason))?;
        if !orders.add_order_record(&record) {
            return Err(PacketError::NotAnOrder {
                kind: record.body().kind().name(),
            });
        }
    }
    Ok(orders)
}

/// The tree size a checkpoint note states, read before its signature is checked (the keys to
/// check it with depend on the size); everything is checked again by `SignedCheckpoint::open`.
fn checkpoint_size(note_text: &str) -> Result<u64, PacketError> {
    crate::checkpoint::Checkpoint::of_note(note_text)
        .map(|checkpoint| checkpoint.size)
        .map_err(PacketError::Checkpoint)
}
