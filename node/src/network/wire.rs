//! The sync protocol's messages and their framing (spec/FORMAT.md, "Wire messages"): a request
//! or response is one frame, a u32 little-endian length then the bincode encoding (the spec's
//! settings: little endian, fixed-width integers) of [`SyncRequest`] or [`SyncResponse`].
//! Decoding rejects trailing bytes and frames over [`REQUEST_SIZE_BYTES_MAX`] /
//! [`RESPONSE_SIZE_BYTES_MAX`] before reading them.

use std::io;

use aidledger_spec::bundle::EquivocationProof;
use aidledger_spec::limits::RECORD_SIZE_BYTES_MAX;
use aidledger_spec::RecordId;
use futures_util::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;

/// The sync protocol's name.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new("/aidledger/sync/1");
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
pub const HEADS_MAX: usize = aidledger_spec::limits::MEMBERS_MAX;
/// Most bytes of an encoded response: a full range plus one more maximal record, or one proof
/// of two maximal records, with room for the framing.
pub const RESPONSE_SIZE_BYTES_MAX: usize =
    RANGE_SIZE_BYTES_MAX + 2 * RECORD_SIZE_BYTES_MAX + 64 * 1024;

/// The bincode settings of the wire messages: the spec's, with the response limit.
type WireConfig = bincode::config::Configuration<
    bincode::config::LittleEndian,
    bincode::config::Fixint,
    bincode::config::Limit<RESPONSE_SIZE_BYTES_MAX>,
>;

const fn wire_config() -> WireConfig {
    bincode::config::standard()
        .with_little_endian()
        .with_fixed_int_encoding()
        .with_limit::<RESPONSE_SIZE_BYTES_MAX>()
}

/// A sync request.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
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
}

/// One chain's head as the responder holds it.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
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
        aidledger_spec::Digest(self.id)
    }
}

/// A sync response.
#[derive(Clone, Debug, PartialEq, Eq, bincode::Encode, bincode::Decode)]
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
}

/// Encodes a message (no framing).
pub fn encode<T: bincode::Encode>(value: &T) -> Vec<u8> {
    // Encoding into a Vec cannot fail for these types (no I/O, no fallible encoders).
    bincode::encode_to_vec(value, wire_config()).unwrap_or_default()
}

/// Decodes exactly one message; trailing bytes are an error.
pub fn decode<T: bincode::Decode<()>>(bytes: &[u8]) -> io::Result<T> {
    let (value, read) = bincode::decode_from_slice(bytes, wire_config())
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error.to_string()))?;
    if read != bytes.len() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{} trailing bytes after a sync message", bytes.len() - read),
        ));
    }
    Ok(value)
}

/// The request-response codec of [`SYNC_PROTOCOL`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SyncCodec;

async fn read_frame<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    max_bytes: usize,
) -> io::Result<Vec<u8>> {
    let mut length = [0u8; 4];
    io.read_exact(&mut length).await?;
    let length = u32::from_le_bytes(length) as usize;
    if length > max_bytes {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a sync frame of {length} bytes is over the {max_bytes}-byte limit"),
        ));
    }
    let mut bytes = vec![0u8; length];
    io.read_exact(&mut bytes).await?;
    Ok(bytes)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(io: &mut T, bytes: &[u8]) -> io::Result<()> {
    let length = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "a sync frame over 4 GiB"))?;
    io.write_all(&length.to_le_bytes()).await?;
    // The request-response handler closes the stream after the message.
    io.write_all(bytes).await
}

impl libp2p::request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = SyncRequest;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        decode(&read_frame(io, REQUEST_SIZE_BYTES_MAX).await?)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        decode(&read_frame(io, RESPONSE_SIZE_BYTES_MAX).await?)
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: SyncRequest,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &encode(&request)).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: SyncResponse,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        write_frame(io, &encode(&response)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_trailing_bytes() {
        let request = SyncRequest::Range {
            author: "GB-GOV-1".into(),
            from_seq: 7,
            limit: 100,
        };
        let mut bytes = encode(&request);
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), request);
        bytes.push(0);
        assert!(decode::<SyncRequest>(&bytes).is_err());
    }
}
