use std::path::PathBuf;

/// Errors of the policy engine and its state files. A hook's deny is not an error: it is a [`crate::Decision`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The policy file is not valid: the line and the field it names.
    #[error("{file}:{line}: field `{field}`: {message}")]
    Policy {
        /// The policy file (or `<built-in>`).
        file: PathBuf,
        /// 1-based line of the offending value (0 when the error has no position).
        line: usize,
        /// The field the error is about.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The hook payload is not what the runtime sends.
    #[error("malformed {runtime} payload: {message}")]
    Payload {
        /// The runtime whose format was expected.
        runtime: &'static str,
        /// What is wrong with it.
        message: String,
    },
    /// A file operation on hook state failed.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done.
        action: &'static str,
        /// The path involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// A state file (checkpoint manifest, settings file) holds JSON we cannot read.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
    /// No checkpoint has this id.
    #[error("no checkpoint with id `{id}`")]
    UnknownCheckpoint {
        /// The id asked for.
        id: String,
    },
    /// The runtime name is not one we know.
    #[error("unknown runtime `{name}` (expected auto, claude, codex, cursor, devin or gemini)")]
    UnknownRuntime {
        /// The name given.
        name: String,
    },
}

impl Error {
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { action, path: path.into(), source }
    }
}
