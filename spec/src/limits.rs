//! Every size the protocol bounds, as named constants (FORMAT.md lists them too).

/// Largest encoded body, in bytes. Treaty texts of several MiB fit.
pub const BODY_SIZE_BYTES_MAX: usize = 16 * 1024 * 1024;
/// Largest encoded signed record (header + body + signature), in bytes.
pub const RECORD_SIZE_BYTES_MAX: usize = BODY_SIZE_BYTES_MAX + 64 * 1024;
/// Longest organisation id, in bytes.
pub const ORG_ID_BYTES_MAX: usize = 128;
/// Longest short text (names, titles, identifiers, references, language tags), in bytes.
pub const SHORT_TEXT_BYTES_MAX: usize = 1024;
/// Longest description or note, in bytes.
pub const DESCRIPTION_BYTES_MAX: usize = 64 * 1024;
/// Most members in a genesis.
pub const MEMBERS_MAX: usize = 1024;
/// Most keys (signing or node) per member.
pub const KEYS_PER_MEMBER_MAX: usize = 16;
/// Most parties of a treaty.
pub const TREATY_PARTIES_MAX: usize = 256;
/// Most language versions of a treaty text.
pub const TREATY_VERSIONS_MAX: usize = 32;
/// Most significant digits of an amount (so that every amount fits a 96-bit decimal mantissa).
pub const AMOUNT_DIGITS_MAX: usize = 28;
/// Most governance records a verifier holds and derives from (FORMAT.md 13.1); a real network
/// has a few per membership change, so this only bounds hostile input.
pub const GOVERNANCE_RECORDS_MAX: usize = 100_000;
/// Most digits after the decimal point of an amount.
pub const AMOUNT_SCALE_MAX: usize = 18;
/// Most titles (language versions) of an activity record.
pub const ACTIVITY_TITLES_MAX: usize = 64;
/// Longest activity title, in bytes (IATI titles run past a short text now and then).
pub const ACTIVITY_TITLE_BYTES_MAX: usize = 4 * 1024;
/// Most descriptions, one per (type, language), of an activity record.
pub const ACTIVITY_DESCRIPTIONS_MAX: usize = 64;
/// Most activity dates of an activity record.
pub const ACTIVITY_DATES_MAX: usize = 32;
/// Most recipient countries of an activity record.
pub const ACTIVITY_COUNTRIES_MAX: usize = 256;
/// Most recipient regions of an activity record.
pub const ACTIVITY_REGIONS_MAX: usize = 256;
/// Most sectors of an activity record.
pub const ACTIVITY_SECTORS_MAX: usize = 256;
/// Most participating organisations of an activity record.
pub const ACTIVITY_PARTICIPANTS_MAX: usize = 256;
/// Longest code (status, date type, role, vocabulary, country, sector) of an activity, in bytes.
pub const ACTIVITY_CODE_BYTES_MAX: usize = 64;
/// Longest percentage of an activity's country, region or sector, in bytes.
pub const ACTIVITY_PERCENTAGE_BYTES_MAX: usize = 32;
/// Most hashes in a Merkle proof (FORMAT.md §22): a tree size is a `u64`, so a path has at most
/// 64 hashes, and a consistency proof one more (the old tree's last complete subtree).
pub const MERKLE_PROOF_HASHES_MAX: usize = 65;
/// Largest signed note (text and signature lines), in bytes. C2SP signed-note asks verifiers
/// to accept at least 16 signatures of up to about 5 kB (post-quantum) each; this holds 16 such
/// signatures in base64 and the text with room to spare.
pub const NOTE_BYTES_MAX: usize = 256 * 1024;
/// Most signature lines of one signed note (C2SP: at least 16 must be accepted).
pub const NOTE_SIGNATURES_MAX: usize = 64;
/// Longest key name of a signature line or verifier key, in bytes.
pub const NOTE_KEY_NAME_BYTES_MAX: usize = 512;
/// Most bytes of one decoded signature (4-byte key id and the signature): an ML-DSA-44
/// cosignature is 4 + 8 + 2420; this leaves room for larger post-quantum signatures.
pub const NOTE_SIGNATURE_BYTES_MAX: usize = 8 * 1024;
/// Most witnesses of one witness policy.
pub const WITNESSES_MAX: usize = 32;
/// Most extension lines of a checkpoint read from elsewhere (aidledger writes none).
pub const CHECKPOINT_EXTENSION_LINES_MAX: usize = 16;
/// Largest proof packet (FORMAT.md §26), in bytes: one record of the largest size and room for
/// the genesis and the governance records of a large network beside it.
pub const PROOF_PACKET_BYTES_MAX: usize = RECORD_SIZE_BYTES_MAX + 48 * 1024 * 1024;
/// Most records one redaction order names (a `redaction` body or a `redact` change): 16,384
/// record ids and positions are 655,360 bytes, far below a body's limit, and an order of ten
/// thousand records (a publisher withdrawing a country's programme) fits in one.
pub const REDACTION_RECORDS_MAX: usize = 16 * 1024;
