//! The vocabulary the shell analysis, the patch reader and the policy share: a word, an access, an op.

use std::path::PathBuf;

/// One shell word after static expansion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Word {
    /// The expanded text; where a part was unknown it holds the original source of that part.
    pub(crate) text: String,
    /// Some part came from an expansion the analyzer could not resolve.
    pub(crate) dynamic: bool,
    /// The word has unquoted glob characters, so the shell would expand it against the file system.
    pub(crate) glob: bool,
}

impl Word {
    pub(crate) fn lit(text: impl Into<String>) -> Self {
        Self { text: text.into(), dynamic: false, glob: false }
    }

    pub(crate) fn unknown(text: impl Into<String>) -> Self {
        Self { text: text.into(), dynamic: true, glob: false }
    }

    pub(crate) fn is_static(&self) -> bool {
        !self.dynamic
    }
}

/// What a command does to a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Access {
    /// Reads the file's content.
    Read,
    /// Creates or changes the file.
    Write,
    /// Removes the path; `recursive` when a whole tree goes.
    Delete {
        /// Whole directory trees are removed.
        recursive: bool,
    },
    /// Reads a file, or every file under a folder (`grep -r`, `tar c`, `cp -r`, `zip -r`).
    ReadTree,
    /// A link is created that points at the path (`ln`, `ln -s`): a later write through the link changes it.
    LinkTarget,
}

/// Something the analyzed command would do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    /// A path access, relative paths to be resolved against `cwd` (`None`: the working directory is unknown).
    Path { access: Access, word: Word, cwd: Option<PathBuf>, via: String },
    /// A command that runs, after wrappers are removed; `env` holds its `NAME=value` assignments.
    Command { argv: Vec<Word>, env: Vec<String> },
    /// SQL text that reaches a database client.
    Sql { text: String, via: String },
    /// Something the analyzer refuses to allow: the rule id and the reason.
    Deny { rule: RuleId, reason: String },
    /// A symlink the command creates: later paths of the same command that pass through `link` follow it to
    /// `target` (both relative to `cwd`; a relative target already joined to the link's folder).
    Link { link: Word, target: Word, cwd: Option<PathBuf> },
}

/// The id of the rule behind a decision: stable, and written kebab-case (`protected-path`) in reasons, audit
/// lines and `explain --json`.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleId {
    /// A change to a protected path.
    ProtectedPath,
    /// A change outside the project root and the temporary folders.
    OutsideRoot,
    /// A read of a read-protected file (`.env`).
    ReadSecret,
    /// A read of a credential (`paths.read_credentials`).
    ReadCredential,
    /// A recursive delete of `/`, the home folder, the root or an ancestor.
    DestructiveDelete,
    /// A `shell.sql_deny` phrase sent to a database client.
    DestructiveSql,
    /// A production deploy (`shell.deploy`).
    ProductionDeploy,
    /// Decoded or downloaded text piped into a shell or interpreter.
    PipeToShell,
    /// Git that loses work no commit holds.
    GitDestructive,
    /// A write to a disk or partition.
    DeviceWrite,
    /// A command that does not parse as bash.
    ShellUnparseable,
    /// A command whose effect cannot be read statically.
    ShellUnresolvable,
    /// A path that cannot be resolved.
    PathError,
    /// A path holding invisible characters.
    SuspiciousPath,
    /// A `[[rules]]` entry of the policy.
    CustomRule,
    /// A payload the hook cannot read.
    MalformedPayload,
    /// An invalid policy file.
    PolicyError,
    /// A payload without a project root.
    NoProjectRoot,
    /// The hook failed; denied to stay safe.
    InternalError,
    /// The quality gate's result after an edit.
    QualityGate,
    /// A stop blocked while the last gate failed.
    StopGate,
    /// Context added at session start.
    SessionContext,
    /// Context added for a prompt's keywords.
    PromptRoute,
}

impl RuleId {
    /// The id as written (`protected-path`).
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::ProtectedPath => "protected-path",
            Self::OutsideRoot => "outside-root",
            Self::ReadSecret => "read-secret",
            Self::ReadCredential => "read-credential",
            Self::DestructiveDelete => "destructive-delete",
            Self::DestructiveSql => "destructive-sql",
            Self::ProductionDeploy => "production-deploy",
            Self::PipeToShell => "pipe-to-shell",
            Self::GitDestructive => "git-destructive",
            Self::DeviceWrite => "device-write",
            Self::ShellUnparseable => "shell-unparseable",
            Self::ShellUnresolvable => "shell-unresolvable",
            Self::PathError => "path-error",
            Self::SuspiciousPath => "suspicious-path",
            Self::CustomRule => "custom-rule",
            Self::MalformedPayload => "malformed-payload",
            Self::PolicyError => "policy-error",
            Self::NoProjectRoot => "no-project-root",
            Self::InternalError => "internal-error",
            Self::QualityGate => "quality-gate",
            Self::StopGate => "stop-gate",
            Self::SessionContext => "session-context",
            Self::PromptRoute => "prompt-route",
        }
    }
}

impl std::fmt::Display for RuleId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
