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
    Deny { rule: &'static str, reason: String },
    /// A symlink the command creates: later paths of the same command that pass through `link` follow it to
    /// `target` (both relative to `cwd`; a relative target already joined to the link's folder).
    Link { link: Word, target: Word, cwd: Option<PathBuf> },
}
