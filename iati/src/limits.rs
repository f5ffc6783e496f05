//! Every bound the reader enforces, as named constants, so that memory stays bounded whatever the input.

/// Largest `iati-activity` element, in bytes of XML. A larger activity is not imported: it is
/// yielded with no transactions and an [`ActivityTooLarge`](crate::WarningReason::ActivityTooLarge)
/// warning, and reading goes on. The largest activity of the shared data is about 125 KiB.
pub const ACTIVITY_BYTES_MAX: u64 = 32 * 1024 * 1024;

/// Largest single XML token (a tag with its attributes, a run of text, a comment), in bytes.
/// The spec's longest text, a description, is 64 KiB; a longer token is a fatal error because the
/// XML parser must hold a whole token in memory.
pub const TOKEN_BYTES_MAX: u64 = 1024 * 1024;

/// How far into the input the root element must start, in bytes. Binary or non-XML input is
/// refused within this many bytes.
pub const PROLOG_BYTES_MAX: u64 = 64 * 1024;

/// Deepest element nesting. IATI activity files nest about 6 deep; the XML parser keeps the names
/// of open elements, so depth is bounded too.
pub const DEPTH_MAX: usize = 32;

/// The limits one reader applies. [`Default`] gives the named constants above; tests and callers
/// with other needs may lower or raise them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReaderLimits {
    /// See [`ACTIVITY_BYTES_MAX`].
    pub activity_bytes_max: u64,
    /// See [`TOKEN_BYTES_MAX`].
    pub token_bytes_max: u64,
    /// See [`PROLOG_BYTES_MAX`].
    pub prolog_bytes_max: u64,
    /// See [`DEPTH_MAX`].
    pub depth_max: usize,
}

impl Default for ReaderLimits {
    fn default() -> Self {
        Self {
            activity_bytes_max: ACTIVITY_BYTES_MAX,
            token_bytes_max: TOKEN_BYTES_MAX,
            prolog_bytes_max: PROLOG_BYTES_MAX,
            depth_max: DEPTH_MAX,
        }
    }
}
