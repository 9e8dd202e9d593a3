//! What the hook answers: an [`Outcome`], its [`DecisionKind`], and the [`Decision`] that pairs it with a rule.

use crate::vocab::RuleId;

/// What the hook answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing to say: the action proceeds.
    Allow,
    /// Block the tool call (or the payload we could not read), with the reason for the model.
    Deny(String),
    /// Add context for the model.
    Context(String),
    /// Feed a reason back and keep the agent going (failed quality gate after an edit, blocked stop).
    Block(String),
}

/// The kind of an [`Outcome`], without its text; written lowercase in audit lines and `explain --json`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DecisionKind {
    /// The call proceeds.
    Allow,
    /// The call is blocked.
    Deny,
    /// Context is added for the model.
    Context,
    /// A reason is fed back and the agent keeps going.
    Block,
}

impl DecisionKind {
    /// The kind as written (`deny`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Allow => "allow",
            Self::Deny => "deny",
            Self::Context => "context",
            Self::Block => "block",
        }
    }
}

impl std::fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An outcome and the rule that produced it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What to answer.
    pub outcome: Outcome,
    /// The rule behind it (`protected-path`, `read-secret`, ...); `None` for a plain allow.
    pub rule: Option<RuleId>,
}

impl Decision {
    /// A plain allow.
    pub const fn allow() -> Self {
        Self { outcome: Outcome::Allow, rule: None }
    }

    /// A deny by `rule`.
    pub fn deny(rule: RuleId, reason: impl Into<String>) -> Self {
        Self { outcome: Outcome::Deny(reason.into()), rule: Some(rule) }
    }

    /// `allow`, `deny`, `context` or `block`.
    pub const fn verdict(&self) -> &'static str {
        self.kind().as_str()
    }

    /// Which kind of outcome it is.
    pub const fn kind(&self) -> DecisionKind {
        match self.outcome {
            Outcome::Allow => DecisionKind::Allow,
            Outcome::Deny(_) => DecisionKind::Deny,
            Outcome::Context(_) => DecisionKind::Context,
            Outcome::Block(_) => DecisionKind::Block,
        }
    }
}
