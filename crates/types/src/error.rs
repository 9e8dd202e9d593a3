/// Why a text could not be parsed into one of the shared types.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// A hash was not 64 lowercase or uppercase hexadecimal digits.
    #[error("invalid hash {text:?}: expected 64 hexadecimal digits")]
    Hash {
        /// The text that was given.
        text: String,
    },
    /// A digest was not of the form `hash/size` or `function/hash/size`.
    #[error("invalid digest {text:?}: {reason}")]
    Digest {
        /// The text that was given.
        text: String,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// The digest function name is not one we know.
    #[error("unknown digest function {text:?}: expected sha256 or blake3")]
    DigestFunction {
        /// The text that was given.
        text: String,
    },
    /// A number (token count, size) did not parse.
    #[error("invalid {what} {text:?}: {reason}")]
    Number {
        /// What kind of number was expected.
        what: &'static str,
        /// The text that was given.
        text: String,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// A money amount was not an exact decimal with at most 12 fractional digits.
    #[error("invalid amount in dollars {text:?}: {reason}")]
    Money {
        /// The text that was given.
        text: String,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// An id was empty, too long or contained a forbidden character.
    #[error("invalid {what} {text:?}: {reason}")]
    Id {
        /// What kind of id was expected.
        what: &'static str,
        /// The text that was given.
        text: String,
        /// What was wrong with it.
        reason: &'static str,
    },
    /// A timestamp was not RFC 3339.
    #[error("invalid timestamp {text:?}: {reason}")]
    Timestamp {
        /// The text that was given.
        text: String,
        /// What was wrong with it.
        reason: &'static str,
    },
}
