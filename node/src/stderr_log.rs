//! The node's lines on stderr. `eprintln!` panics when the write fails, so a node whose stderr
//! went to a reader that has gone (`aidledger-node … 2>&1 | head -2`, a log pipe that closed)
//! ended with exit 101 at its next message. A node must not stop because nobody reads what it
//! says: [`log_line!`](crate::log_line) writes the line and ignores a failed write.

/// Writes one line to stderr, as `eprintln!` does, ignoring a failure to write it.
#[macro_export]
macro_rules! log_line {
    ($($arg:tt)*) => {{
        use ::std::io::Write as _;
        let _ = ::std::writeln!(::std::io::stderr(), $($arg)*);
    }};
}
