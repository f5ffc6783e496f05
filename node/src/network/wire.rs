//! The sync protocol's codec for libp2p: the messages, their bytes and their bounds are the
//! spec's (`aidledger_spec::sync`, spec/FORMAT.md §17.2); this module only moves frames over a
//! stream. A frame is a u32 little-endian length, checked against [`REQUEST_SIZE_BYTES_MAX`] /
//! [`RESPONSE_SIZE_BYTES_MAX`] before it is read, then the message, which must fill it exactly.

use std::io;

use aidledger_spec::codec::Codec;
use aidledger_spec::sync::{frame_length, FRAME_PREFIX_BYTES, SYNC_PROTOCOL_NAME};
pub use aidledger_spec::sync::{
    SyncRequest, SyncResponse, WireHead, HEADS_MAX, PROOFS_PER_RESPONSE_MAX, RANGE_RECORDS_MAX,
    RANGE_SIZE_BYTES_MAX, REQUEST_SIZE_BYTES_MAX, RESPONSE_SIZE_BYTES_MAX,
};
use futures_util::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;

/// The sync protocol's name.
pub const SYNC_PROTOCOL: StreamProtocol = StreamProtocol::new(SYNC_PROTOCOL_NAME);

/// Decodes exactly one message; trailing bytes are an error.
pub fn decode<T: Codec>(bytes: &[u8]) -> io::Result<T> {
    T::from_bytes(bytes).map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))
}

/// The request-response codec of [`SYNC_PROTOCOL`].
#[derive(Clone, Copy, Debug, Default)]
pub struct SyncCodec;

async fn read_frame<T: AsyncRead + Unpin + Send>(
    io: &mut T,
    max_bytes: usize,
    what: &'static str,
) -> io::Result<Vec<u8>> {
    let mut prefix = [0u8; FRAME_PREFIX_BYTES];
    io.read_exact(&mut prefix).await?;
    let length = frame_length(prefix, max_bytes, what)
        .map_err(|error| io::Error::new(io::ErrorKind::InvalidData, error))?;
    let mut bytes = vec![0u8; length];
    io.read_exact(&mut bytes).await?;
    Ok(bytes)
}

async fn write_frame<T: AsyncWrite + Unpin + Send>(
    io: &mut T,
    message: &impl Codec,
) -> io::Result<()> {
    let frame = aidledger_spec::sync::encode_frame(message)
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "a sync frame over 4 GiB"))?;
    // The request-response handler closes the stream after the message.
    io.write_all(&frame).await
}

impl libp2p::request_response::Codec for SyncCodec {
    type Protocol = StreamProtocol;
    type Request = SyncRequest;
    type Response = SyncResponse;

    async fn read_request<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncRequest>
    where
        T: AsyncRead + Unpin + Send,
    {
        decode(&read_frame(io, REQUEST_SIZE_BYTES_MAX, "a sync request frame").await?)
    }

    async fn read_response<T>(&mut self, _: &StreamProtocol, io: &mut T) -> io::Result<SyncResponse>
    where
        T: AsyncRead + Unpin + Send,
    {
        decode(&read_frame(io, RESPONSE_SIZE_BYTES_MAX, "a sync response frame").await?)
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
        write_frame(io, &request).await
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
        write_frame(io, &response).await
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
        let mut bytes = request.to_bytes();
        assert_eq!(decode::<SyncRequest>(&bytes).unwrap(), request);
        bytes.push(0);
        assert!(decode::<SyncRequest>(&bytes).is_err());
    }
}
