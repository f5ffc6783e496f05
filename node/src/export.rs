//! The bundle export, streamed: a blocking thread writes the store's bundle
//! (`aidledger_store::export::write_bundle`) and
//! hands fixed-size chunks to the HTTP body over a bounded channel, so memory stays at
//! [`EXPORT_CHANNEL_CHUNKS_MAX`] × [`EXPORT_CHUNK_BYTES`] whatever the size of the store.
//!
//! At most [`crate::limits::EXPORTS_MAX`] exports run at once ([`ExportPermits`]): each holds
//! a blocking thread while the store is read, and a client that stops reading holds it until
//! its connection's write timeout (`crate::http`) ends the connection, which closes the
//! channel and ends the thread.

use std::io::{self, Write};
use std::sync::Arc;

use aidledger_store::export::write_bundle;
use axum::body::{Body, Bytes};
use tokio::sync::{mpsc, OwnedSemaphorePermit, Semaphore};

use aidledger_store::StoreReader;

/// Size of one chunk of the streamed bundle.
pub const EXPORT_CHUNK_BYTES: usize = 64 * 1024;
/// Most chunks written ahead of what the client has read.
pub const EXPORT_CHANNEL_CHUNKS_MAX: usize = 16;

/// The slots of concurrent exports of one public API.
#[derive(Clone)]
pub struct ExportPermits(Arc<Semaphore>);

impl ExportPermits {
    /// [`crate::limits::EXPORTS_MAX`] slots.
    pub fn new() -> ExportPermits {
        ExportPermits(Arc::new(Semaphore::new(crate::limits::EXPORTS_MAX)))
    }

    /// A slot, or `None` when every one is taken.
    pub fn try_acquire(&self) -> Option<ExportPermit> {
        let slot = self.0.clone().try_acquire_owned().ok()?;
        Some(ExportPermit { _slot: slot })
    }
}

impl Default for ExportPermits {
    fn default() -> ExportPermits {
        ExportPermits::new()
    }
}

/// One export's slot, released when its producer thread ends (which drops it).
pub struct ExportPermit {
    _slot: OwnedSemaphorePermit,
}

/// A response body that streams the store's bundle. If reading the store fails midway the
/// body ends with an error, so the client sees a cut transfer (and the bundle has no end
/// frame), never a bundle that looks complete.
pub fn stream_bundle(store: StoreReader, permit: ExportPermit) -> Body {
    let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(EXPORT_CHANNEL_CHUNKS_MAX);
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        let mut sink = ChunkSender {
            sender: sender.clone(),
            chunk: Vec::with_capacity(EXPORT_CHUNK_BYTES),
        };
        if let Err(error) = write_bundle(&store, &mut sink) {
            // The receiver may be gone (client left); then there is nobody to tell.
            let _ = sender.blocking_send(Err(error));
        }
    });
    let chunks = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    Body::from_stream(chunks)
}

/// A `Write` that cuts what it is given into chunks and sends them down the channel.
struct ChunkSender {
    sender: mpsc::Sender<io::Result<Bytes>>,
    chunk: Vec<u8>,
}

impl ChunkSender {
    fn send_chunk(&mut self) -> io::Result<()> {
        if self.chunk.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.chunk, Vec::with_capacity(EXPORT_CHUNK_BYTES));
        self.sender
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| {
                io::Error::new(
                    io::ErrorKind::BrokenPipe,
                    "the client stopped reading the export",
                )
            })
    }
}

impl Write for ChunkSender {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let room = EXPORT_CHUNK_BYTES - self.chunk.len();
        let taken = room.min(bytes.len());
        self.chunk.extend_from_slice(&bytes[..taken]);
        if self.chunk.len() == EXPORT_CHUNK_BYTES {
            self.send_chunk()?;
        }
        Ok(taken)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send_chunk()
    }
}
