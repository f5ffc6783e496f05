//! A `BufRead` wrapper that counts lines and bytes and refuses to hand out bytes past a limit,
//! so that no single XML token can make the parser buffer without bound.

use std::io::{self, BufRead, Read};

/// Counts what the XML parser consumes and stops it at `stop_bytes`.
pub(crate) struct CountingSource<R> {
    inner: R,
    consumed_bytes: u64,
    newlines: u64,
    stop_bytes: u64,
    stopped: bool,
}

impl<R: BufRead> CountingSource<R> {
    pub(crate) fn new(inner: R) -> Self {
        Self {
            inner,
            consumed_bytes: 0,
            newlines: 0,
            stop_bytes: u64::MAX,
            stopped: false,
        }
    }

    /// The 1-based line of the next unconsumed byte.
    pub(crate) fn line(&self) -> u64 {
        self.newlines + 1
    }

    pub(crate) fn consumed_bytes(&self) -> u64 {
        self.consumed_bytes
    }

    /// Allows at most `bytes` more bytes to be consumed (until the next call).
    pub(crate) fn allow(&mut self, bytes: u64) {
        self.stop_bytes = self.consumed_bytes.saturating_add(bytes);
        self.stopped = false;
    }

    /// Whether the last failure was the limit set by [`Self::allow`].
    pub(crate) fn stopped(&self) -> bool {
        self.stopped
    }

    /// The next bytes without consuming them, ignoring the limit (used to sniff the start).
    pub(crate) fn peek(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }
}

impl<R: BufRead> Read for CountingSource<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let count = available.len().min(out.len());
        out[..count].copy_from_slice(&available[..count]);
        self.consume(count);
        Ok(count)
    }
}

impl<R: BufRead> BufRead for CountingSource<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        let remaining = self.stop_bytes.saturating_sub(self.consumed_bytes);
        if remaining == 0 {
            self.stopped = true;
            return Err(io::Error::other("reader limit reached"));
        }
        let buffer = self.inner.fill_buf()?;
        let allowed = usize::try_from(remaining)
            .unwrap_or(usize::MAX)
            .min(buffer.len());
        Ok(&buffer[..allowed])
    }

    fn consume(&mut self, amount: usize) {
        if amount == 0 {
            return;
        }
        // A BufRead hands out the same bytes again until they are consumed, so this second
        // fill_buf does no I/O; it only lets us see the bytes being consumed.
        if let Ok(buffer) = self.inner.fill_buf() {
            let seen = &buffer[..amount.min(buffer.len())];
            self.newlines += seen.iter().filter(|&&byte| byte == b'\n').count() as u64;
        }
        self.consumed_bytes += amount as u64;
        self.inner.consume(amount);
    }
}
