use std::path::PathBuf;

/// Everything that can go wrong in this crate.
///
/// Outcomes are not errors: a malformed line in a usage log is counted in the analysis report, and a lint
/// finding is a [`crate::Finding`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A price table (built-in, override or LiteLLM file) could not be read.
    #[error("price table {origin}: {reason}")]
    PriceTable {
        /// Where the table came from (a path or `built-in`).
        origin: String,
        /// What is wrong, naming the offending row or value.
        reason: String,
    },
    /// No row of the price table matches the model id.
    #[error("unknown model `{model}`: not in the price table (see `agentry-cache-econ prices`)")]
    UnknownModel {
        /// The id as given.
        model: String,
    },
    /// A parameter is outside its meaningful range.
    #[error("invalid {name} `{value}`: {reason}")]
    InvalidParameter {
        /// The parameter's name.
        name: &'static str,
        /// The value as given.
        value: String,
        /// The allowed range or form.
        reason: &'static str,
    },
    /// A request given to the linter is not an Anthropic Messages request.
    #[error("request {origin}: {reason}")]
    Request {
        /// Where the request came from.
        origin: String,
        /// What is wrong.
        reason: String,
    },
    /// A chart could not be drawn or written.
    #[error("cannot draw {}: {reason}", path.display())]
    Plot {
        /// The output file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// A file or folder could not be read.
    #[error("cannot read {}", path.display())]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Error {
    pub(crate) fn param(name: &'static str, value: impl ToString, reason: &'static str) -> Self {
        Self::InvalidParameter { name, value: value.to_string(), reason }
    }
}
