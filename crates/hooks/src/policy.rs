//! The declarative policy: `.agentry/hooks.toml`, or the built-in default that `init` writes out.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::Error;
use crate::paths::Glob;

/// Where the policy file lives, relative to the project root.
pub const POLICY_FILE: &str = ".agentry/hooks.toml";

/// The built-in default policy, as `init` writes it (comments document the schema).
pub const DEFAULT_POLICY_TOML: &str = include_str!("default_policy.toml");

/// A hook policy. Every field has the built-in default, so a file only states what it changes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Policy {
    /// Schema version; `1`.
    pub version: u32,
    /// Protected paths.
    pub paths: PathRules,
    /// Shell command rules.
    pub shell: ShellRules,
    /// The test command run after matching edits.
    pub quality_gate: QualityGate,
    /// Blocking the agent's stop while the last quality gate failed.
    pub stop_gate: StopGate,
    /// The append-only decision log.
    pub audit: Audit,
    /// File snapshots before allowed edits.
    pub checkpoints: Checkpoints,
    /// Extra context for prompts that mention keywords.
    pub prompt_routes: Vec<PromptRoute>,
    /// Context injected at session start.
    pub session: Session,
    /// Extra deny rules: a tool matcher, then a command glob and/or a path glob.
    pub rules: Vec<Rule>,
}

/// A deny rule of the policy's own. It fires when the tool matches and every condition given matches.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Names the rule in reasons and in the audit log.
    pub id: String,
    /// Tool kinds it applies to: `shell`, `write`, `read`, `search`, `patch`, `other`; empty: all.
    #[serde(default)]
    pub tools: Vec<String>,
    /// Glob over each command the shell would run (wrappers removed, words joined by spaces, lowercase);
    /// `*` spans anything, spaces and slashes included.
    #[serde(default)]
    pub command: Option<String>,
    /// Glob over each path the call touches (relative to the root, or absolute outside it).
    #[serde(default)]
    pub path: Option<String>,
    /// Which path accesses `path` applies to: `write` (default: writes and deletes), `read`, or `any`.
    #[serde(default)]
    pub access: Option<String>,
    /// The reason given to the model.
    pub message: String,
}

/// Which accesses a custom path rule matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AccessFilter {
    Write,
    Read,
    Any,
}

impl AccessFilter {
    pub(crate) fn allows(self, a: crate::vocab::Access) -> bool {
        use crate::vocab::Access;
        match self {
            Self::Any => true,
            Self::Read => matches!(a, Access::Read | Access::ReadTree),
            Self::Write => matches!(a, Access::Write | Access::Delete { .. } | Access::LinkTarget),
        }
    }
}

/// A compiled custom rule.
#[derive(Debug, Clone)]
pub(crate) struct CompiledRule {
    pub(crate) id: String,
    pub(crate) tools: Vec<String>,
    pub(crate) command: Option<String>,
    pub(crate) path: Option<Glob>,
    pub(crate) access: AccessFilter,
    pub(crate) message: String,
}

/// Path rules. Patterns are `/`-separated globs relative to the project root, matched case-folded on whole
/// components (`**` spans folders).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathRules {
    /// No tool and no shell command may write, edit, move or delete these.
    pub protected: Vec<String>,
    /// No tool and no shell command may read these.
    pub read_protected: Vec<String>,
    /// Absolute paths outside the project root that may still be written (globs on the absolute path).
    pub writable_outside_root: Vec<String>,
    /// Credentials nothing may read (rule `read-credential`): globs matched on the path relative to the root
    /// and on the absolute path, so `**/.ssh/id_*` covers `~/.ssh/id_ed25519`; public keys (`*.pub`) are
    /// never credentials. Empty turns the rule off.
    pub read_credentials: Vec<String>,
    /// Writes and deletes inside the temporary folders (`/tmp`, `/var/tmp`, `$TMPDIR`) are allowed; the
    /// folders themselves, and what `..` or a symlink resolves to outside them, are judged as usual.
    pub temp_writable: bool,
}

/// Shell rules.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ShellRules {
    /// SQL phrases denied in anything sent to a database client (matched case-insensitively, comments removed).
    pub sql_deny: Vec<String>,
    /// Production deploy rules.
    pub deploy: Vec<DeployRule>,
    /// Deny recursive deletes of `/`, `~`, the project root and its ancestors.
    pub deny_destructive_deletes: bool,
    /// Deny decoded or downloaded text piped into a shell or interpreter.
    pub deny_pipe_to_shell: bool,
    /// Deny git commands that lose work no commit holds (`reset --hard`, `clean -f`, `checkout -- PATHS`,
    /// `restore` without `--staged`, `push --force`, `stash drop|clear`, `branch -D`, history rewrites).
    pub deny_git_destructive: bool,
    /// Deny writes to block devices and the commands that format or partition them (`mkfs`, `dd of=/dev/sda`).
    pub deny_device_writes: bool,
}

/// A deploy rule: a command line with a word matching `command` and a word equal to one of `targets`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployRule {
    /// Glob on each word's file name (`deploy*` matches `./deploy.sh`, `deploy`, `deploy-app`).
    pub command: String,
    /// Target names, compared case-insensitively with each word and each `=`, `:` or `,` separated part.
    pub targets: Vec<String>,
}

/// The quality gate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct QualityGate {
    /// Shell command run in the project root (`sh -c`); empty disables the gate.
    pub command: String,
    /// Edited paths that trigger the gate.
    pub globs: Vec<String>,
    /// Seconds before the command is killed and the gate fails.
    pub timeout_secs: u64,
}

/// The stop gate.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct StopGate {
    /// Block stops while the last quality gate failed.
    pub enabled: bool,
    /// Consecutive blocks after which the gate lets the agent stop anyway.
    pub max_blocks: u32,
}

/// The audit log.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Audit {
    /// Append one JSON line per decision.
    pub enabled: bool,
    /// The log file, relative to the project root.
    pub path: String,
}

/// Checkpoints.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Checkpoints {
    /// Snapshot files before allowed edits and deletes.
    pub enabled: bool,
    /// Total bytes of stored content; the oldest checkpoints go first when it is exceeded.
    pub max_bytes: u64,
    /// Files larger than this are recorded without content (and then not restorable).
    pub max_file_bytes: u64,
}

/// A prompt route.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PromptRoute {
    /// Words that select the route (case-insensitive, whole words).
    pub keywords: Vec<String>,
    /// Context added to the prompt.
    pub context: String,
}

/// Session context.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Session {
    /// Text injected at session start.
    pub context: String,
    /// Files (relative to the root) whose content is injected at session start.
    pub files: Vec<String>,
}

/// The default `paths.read_credentials`: SSH and GPG private keys (by their usual names anywhere), the
/// folders that hold keys and cloud credentials when read as a whole, cloud CLI credentials, package registry
/// tokens, `.netrc`, git credentials, key and certificate bundles.
const DEFAULT_CREDENTIALS: [&str; 33] = [
    "**/.ssh/id_*",
    "**/id_rsa",
    "**/id_dsa",
    "**/id_ecdsa",
    "**/id_ed25519",
    "**/.ssh",
    "**/.aws",
    "**/.gnupg",
    "**/.kube",
    "**/.config/gcloud",
    "**/.ssh/*_key",
    "**/.aws/credentials",
    "**/.config/gcloud/credentials.db",
    "**/.config/gcloud/access_tokens.db",
    "**/.config/gcloud/application_default_credentials.json",
    "**/.config/gcloud/legacy_credentials/**",
    "**/.azure/accessTokens.json",
    "**/.azure/msal_token_cache.*",
    "**/.kube/config",
    "**/.docker/config.json",
    "**/.netrc",
    "**/_netrc",
    "**/.npmrc",
    "**/.pypirc",
    "**/.gem/credentials",
    "**/.cargo/credentials*",
    "**/.git-credentials",
    "**/.config/gh/hosts.yml",
    "**/.gnupg/private-keys-v1.d/**",
    "**/*.pem",
    "**/*.key",
    "**/*.p12",
    "**/*.pfx",
];

impl Default for PathRules {
    fn default() -> Self {
        Self {
            protected: ["generated/**", "fixtures/sensitive/**", ".git/**", "**/.env", "**/.env.*"]
                .map(String::from)
                .to_vec(),
            read_protected: ["**/.env", "**/.env.*"].map(String::from).to_vec(),
            writable_outside_root: Vec::new(),
            read_credentials: DEFAULT_CREDENTIALS.map(String::from).to_vec(),
            temp_writable: true,
        }
    }
}

impl Default for ShellRules {
    fn default() -> Self {
        Self {
            sql_deny: ["DROP TABLE", "TRUNCATE TABLE", "DROP DATABASE", "DROP SCHEMA"]
                .map(String::from)
                .to_vec(),
            deploy: vec![DeployRule {
                command: "deploy*".to_owned(),
                targets: vec!["production".to_owned(), "prod".to_owned()],
            }],
            deny_destructive_deletes: true,
            deny_pipe_to_shell: true,
            deny_git_destructive: true,
            deny_device_writes: true,
        }
    }
}

impl Default for QualityGate {
    fn default() -> Self {
        Self { command: String::new(), globs: vec!["**/*".to_owned()], timeout_secs: 300 }
    }
}

impl Default for StopGate {
    fn default() -> Self {
        Self { enabled: true, max_blocks: 3 }
    }
}

impl Default for Audit {
    fn default() -> Self {
        Self { enabled: true, path: ".agentry/audit.jsonl".to_owned() }
    }
}

impl Default for Checkpoints {
    fn default() -> Self {
        Self { enabled: true, max_bytes: 64 << 20, max_file_bytes: 8 << 20 }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            version: 1,
            paths: PathRules::default(),
            shell: ShellRules::default(),
            quality_gate: QualityGate::default(),
            stop_gate: StopGate::default(),
            audit: Audit::default(),
            checkpoints: Checkpoints::default(),
            prompt_routes: Vec::new(),
            session: Session::default(),
            rules: Vec::new(),
        }
    }
}

/// A policy with its globs compiled, ready for decisions.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub(crate) policy: Policy,
    pub(crate) protected: Vec<Glob>,
    pub(crate) read_protected: Vec<Glob>,
    pub(crate) read_credentials: Vec<Glob>,
    pub(crate) writable_outside: Vec<Glob>,
    pub(crate) gate_globs: Vec<Glob>,
    pub(crate) deploy: Vec<(Glob, Vec<String>)>,
    pub(crate) sql_deny: Vec<String>,
    pub(crate) rules: Vec<CompiledRule>,
}

impl Policy {
    /// Parses and validates policy text; errors name the file, the line and the field.
    pub fn from_toml(text: &str, file: &Path) -> Result<Self, Error> {
        let policy: Self = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |s| line_of(text, s.start));
            let field = if e.message().contains("unknown field") || e.message().contains("missing field") {
                field_from_message(e.message()).unwrap_or_else(|| key_on_line(text, line))
            } else {
                key_on_line(text, line)
            };
            Error::Policy { file: file.to_path_buf(), line, field, message: e.message().trim().to_owned() }
        })?;
        policy.compile(text, file)?;
        Ok(policy)
    }

    /// Reads the policy of a project: `.agentry/hooks.toml` under `root`, or the default when there is none.
    pub fn load(root: &Path) -> Result<Self, Error> {
        let file = root.join(POLICY_FILE);
        match std::fs::read_to_string(&file) {
            Ok(text) => Self::from_toml(&text, &file),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::io("reading", file, e)),
        }
    }

    pub(crate) fn compile(&self, text: &str, file: &Path) -> Result<Compiled, Error> {
        let err = |field: &str, message: String| Error::Policy {
            file: file.to_path_buf(),
            line: key_line(text, field.rsplit('.').next().unwrap_or(field)),
            field: field.to_owned(),
            message,
        };
        if self.version != 1 {
            return Err(err("version", format!("unsupported version {} (expected 1)", self.version)));
        }
        let globs = |field: &str, list: &[String]| -> Result<Vec<Glob>, Error> {
            list.iter().map(|p| Glob::new(p).map_err(|m| err(field, m))).collect()
        };
        let deploy = self
            .shell
            .deploy
            .iter()
            .map(|d| {
                if d.targets.is_empty() {
                    return Err(err(
                        "shell.deploy.targets",
                        "a deploy rule needs at least one target".to_owned(),
                    ));
                }
                Ok((
                    Glob::new(&d.command).map_err(|m| err("shell.deploy.command", m))?,
                    d.targets.iter().map(|t| t.to_lowercase()).collect(),
                ))
            })
            .collect::<Result<_, _>>()?;
        if self.quality_gate.timeout_secs == 0 {
            return Err(err("quality_gate.timeout_secs", "must be at least 1".to_owned()));
        }
        if self.stop_gate.max_blocks == 0 && self.stop_gate.enabled {
            return Err(err(
                "stop_gate.max_blocks",
                "must be at least 1 when the stop gate is enabled".to_owned(),
            ));
        }
        for (i, r) in self.prompt_routes.iter().enumerate() {
            if r.keywords.is_empty() {
                return Err(err("prompt_routes.keywords", format!("route {} has no keywords", i + 1)));
            }
        }
        let mut rules = Vec::new();
        for r in &self.rules {
            if r.command.is_none() && r.path.is_none() {
                return Err(err("rules.id", format!("rule `{}` needs a `command` or a `path`", r.id)));
            }
            for t in &r.tools {
                if !matches!(t.as_str(), "shell" | "write" | "read" | "search" | "patch" | "other") {
                    return Err(err(
                        "rules.tools",
                        format!(
                            "rule `{}`: unknown tool kind `{t}` (shell, write, read, search, patch, other)",
                            r.id
                        ),
                    ));
                }
            }
            let access = match r.access.as_deref() {
                None | Some("write") => AccessFilter::Write,
                Some("read") => AccessFilter::Read,
                Some("any") => AccessFilter::Any,
                Some(other) => {
                    return Err(err(
                        "rules.access",
                        format!("rule `{}`: access `{other}` is not write, read or any", r.id),
                    ));
                }
            };
            rules.push(CompiledRule {
                id: r.id.clone(),
                tools: r.tools.clone(),
                command: r.command.as_ref().map(|c| c.to_lowercase()),
                path: r.path.as_deref().map(Glob::new).transpose().map_err(|m| err("rules.path", m))?,
                access,
                message: r.message.clone(),
            });
        }
        if self.audit.path.is_empty() {
            return Err(err("audit.path", "must not be empty".to_owned()));
        }
        Ok(Compiled {
            policy: self.clone(),
            protected: globs("paths.protected", &self.paths.protected)?,
            read_protected: globs("paths.read_protected", &self.paths.read_protected)?,
            read_credentials: globs("paths.read_credentials", &self.paths.read_credentials)?,
            writable_outside: globs("paths.writable_outside_root", &self.paths.writable_outside_root)?,
            gate_globs: globs("quality_gate.globs", &self.quality_gate.globs)?,
            deploy,
            sql_deny: self.shell.sql_deny.iter().map(|s| normalize_sql(s)).collect(),
            rules,
        })
    }
}

/// Uppercases SQL, removes `/* */` and `--` comments and collapses whitespace, so `drop/**/table` reads as
/// `DROP TABLE`.
pub(crate) fn normalize_sql(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let b: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < b.len() {
        if b[i] == '/' && b.get(i + 1) == Some(&'*') {
            i += 2;
            while i < b.len() && !(b[i] == '*' && b.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
            out.push(' ');
            continue;
        }
        if b[i] == '-' && b.get(i + 1) == Some(&'-') {
            while i < b.len() && b[i] != '\n' {
                i += 1;
            }
            out.push(' ');
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    out.split(|c: char| c.is_whitespace() || c == '"' || c == '`' || c == '(' || c == ';')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
        .to_uppercase()
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset.min(text.len())).map_or(0, |t| t.matches('\n').count() + 1)
}

/// The first backquoted name in a toml error message (`unknown field `x``).
fn field_from_message(msg: &str) -> Option<String> {
    let start = msg.find('`')? + 1;
    let end = msg[start..].find('`')? + start;
    Some(msg[start..end].to_owned())
}

fn key_on_line(text: &str, line: usize) -> String {
    let l = text.lines().nth(line.saturating_sub(1)).unwrap_or("");
    let key = l.split('=').next().unwrap_or("").trim().trim_matches(['[', ']']);
    if key.is_empty() { "(document)".to_owned() } else { key.to_owned() }
}

/// The line where `key = ` is first assigned (0 when the field is absent from the text).
fn key_line(text: &str, key: &str) -> usize {
    text.lines()
        .position(|l| {
            let t = l.trim_start();
            t.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='))
        })
        .map_or(0, |i| i + 1)
}

/// Resolves the policy path for `check`: an explicit file, or the project's.
pub fn policy_path(root: &Path, explicit: Option<&Path>) -> PathBuf {
    explicit.map_or_else(|| root.join(POLICY_FILE), Path::to_path_buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_err(text: &str, line: usize, field: &str) {
        match Policy::from_toml(text, Path::new("hooks.toml")) {
            Err(Error::Policy { line: l, field: f, .. }) => {
                assert_eq!((l, f.as_str()), (line, field), "{text}")
            }
            other => panic!("expected a policy error, got {other:?}"),
        }
    }

    #[test]
    fn default_text_is_the_default() {
        let p = Policy::from_toml(DEFAULT_POLICY_TOML, Path::new("default")).expect("default parses");
        assert_eq!(p, Policy::default());
    }

    #[test]
    fn errors_name_line_and_field() {
        check_err("version = 1\n[paths]\nprotectd = []\n", 3, "protectd");
        check_err("[quality_gate]\ncommand = 5\n", 2, "command");
        check_err("[paths]\nprotected = [\"a[\"]\n", 2, "paths.protected");
        check_err("version = 2\n", 1, "version");
    }

    #[test]
    fn sql_normalization() {
        assert!(normalize_sql("drop/**/table x").contains("DROP TABLE"));
        assert!(normalize_sql("DROP -- c\n  TABLE x").contains("DROP TABLE"));
    }
}
