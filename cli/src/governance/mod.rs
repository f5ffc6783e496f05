//! The command line's side of governance: composing proposals from flags (`gov propose`), key
//! grant files (`key grant`), reading the governance state of a source (`gov status`, and the
//! authority `show`, `log` and the record commands verify under), and showing it to people.

pub mod compose;
pub mod grant;
pub mod lookup;
pub mod view;

/// Why a governance command could not do its work (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum GovError {
    /// A flag's value is not acceptable.
    #[error("{flag}: {problem}")]
    Flag {
        /// The flag.
        flag: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// A file could not be read or written.
    #[error("{path}: {detail}")]
    File {
        /// The file.
        path: String,
        /// What went wrong.
        detail: String,
    },
    /// The node or source could not be asked.
    #[error(transparent)]
    Source(#[from] crate::source::SourceError),
    /// The node answered something unexpected.
    #[error("node {url}: {detail}")]
    Node {
        /// The URL asked.
        url: String,
        /// What went wrong.
        detail: String,
    },
    /// The composed body breaks a field rule.
    #[error("{0}")]
    Field(#[from] aidledger_spec::text::FieldError),
}

impl GovError {
    pub(crate) fn flag(flag: &'static str, problem: impl Into<String>) -> GovError {
        GovError::Flag {
            flag,
            problem: problem.into(),
        }
    }
}
