//! The decision engine: a tool call, checked against the compiled policy.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::event::{Decision, Tool};
use crate::paths::{self, Root};
use crate::policy::{Compiled, Policy, normalize_sql};
use crate::shell;
use crate::vocab::{Access, Op, RuleId, Word};

mod access;

/// Files visited under a recursively deleted folder before the check falls back to pattern prefixes.
const MAX_WALK: usize = 20_000;

/// A policy bound to a project root, ready to decide tool calls.
#[derive(Debug, Clone)]
pub struct Engine {
    compiled: Compiled,
    root: Root,
    home: Option<String>,
    home_canon: Option<PathBuf>,
    /// `$TMPDIR` as the hook sees it (the agent's commands run with the same environment).
    tmpdir: Option<String>,
    /// The canonical temporary folders whose contents may be changed (`paths.temp_writable`).
    /// Resolved on first use: most decisions never write outside the root, and resolving costs system calls.
    temp_dirs: std::sync::OnceLock<Vec<PathBuf>>,
}

/// A decision and the files an allowed call will change (for checkpoints).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// The decision.
    pub decision: Decision,
    /// Absolute paths inside the root that an allowed call writes or deletes.
    pub touched: Vec<PathBuf>,
}

/// What a tool call was found to do, for checkpoints and custom rules.
#[derive(Default)]
struct Acc {
    touched: Vec<PathBuf>,
    /// Symlinks the command creates, followed by its later paths.
    links: paths::VirtualLinks,
    seen: Vec<(Access, String)>,
    commands: Vec<String>,
    /// Denials of rules about what a command means (`git-destructive`), decided after the path rules and the
    /// policy's own rules, whose reasons are more specific.
    deferred: Option<Denied>,
}

struct Denied {
    rule: RuleId,
    reason: String,
}

type Check = Result<(), Denied>;

fn denied(rule: RuleId, reason: String) -> Check {
    Err(Denied { rule, reason })
}

impl Engine {
    /// Binds `policy` to the project `root` (a path as the payload gives it; Windows-style paths work too).
    /// `home` is the user's home folder, for `~` and `$HOME`.
    pub fn new(policy: &Policy, root: &str, home: Option<&str>) -> Result<Self, Error> {
        let compiled = policy.compile("", Path::new("<policy>"))?;
        let root = Root::new(root).map_err(|e| Error::io("resolving the project root", root, e))?;
        let home_canon = home.and_then(|h| paths::resolve_abs(Path::new(h)).ok());
        let engine = Self {
            compiled,
            root,
            home: home.map(str::to_owned),
            home_canon,
            tmpdir: None,
            temp_dirs: std::sync::OnceLock::new(),
        };
        Ok(engine)
    }

    /// Sets `$TMPDIR` (the hook's own, as the agent's commands see it): `$TMPDIR` in commands expands to it,
    /// and with `paths.temp_writable` what lies inside it may be changed, like `/tmp` and `/var/tmp`.
    pub fn with_tmpdir(mut self, tmpdir: Option<&str>) -> Self {
        self.tmpdir = tmpdir.filter(|t| !t.is_empty()).map(str::to_owned);
        self.temp_dirs = std::sync::OnceLock::new();
        self
    }

    /// The canonical temporary folders whose contents may change (none when `paths.temp_writable` is off).
    fn temp_dirs(&self) -> &[PathBuf] {
        self.temp_dirs.get_or_init(|| {
            let mut out: Vec<PathBuf> = Vec::new();
            if !self.compiled.policy.paths.temp_writable {
                return out;
            }
            let dirs = ["/tmp", "/var/tmp", "/dev/shm"].into_iter().chain(self.tmpdir.as_deref());
            for d in dirs {
                if let Ok(c) = paths::resolve_abs(Path::new(d))
                    && c != Path::new("/")
                    && !out.contains(&c)
                {
                    out.push(c);
                }
            }
            out
        })
    }

    /// The canonical project root.
    pub fn root(&self) -> &Path {
        &self.root.canon
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.compiled.policy
    }

    /// The path relative to the root when it is inside and matches the quality gate's globs.
    pub(crate) fn gate_match(&self, raw: &str, cwd: Option<&str>) -> Option<String> {
        let cwd = cwd
            .and_then(|c| paths::resolve(&self.root, &self.root.canon, c).ok())
            .map_or_else(|| self.root.canon.clone(), |r| r.abs);
        let r = paths::resolve(&self.root, &cwd, raw).ok()?;
        let rel = r.rel.clone()?;
        if rel.starts_with(".agentry/") {
            return None;
        }
        self.compiled.gate_globs.iter().any(|g| r.matches(g)).then_some(rel)
    }

    /// Decides a tool call made from `cwd` (the payload's working directory; the root when absent).
    pub fn check_tool(&self, tool: &Tool, cwd: Option<&str>) -> Verdict {
        let cwd = match cwd {
            Some(c) if !c.is_empty() => match paths::resolve(&self.root, &self.root.canon, c) {
                Ok(r) => r.abs,
                Err(e) => {
                    return self.verdict(
                        denied(RuleId::PathError, format!("cannot resolve the working directory `{c}`: {e}")),
                        Vec::new(),
                    );
                }
            },
            _ => self.root.canon.clone(),
        };
        let mut acc = Acc::default();
        let result = self
            .tool(tool, &cwd, &mut acc)
            .and_then(|()| self.custom_rules(tool, &acc))
            .and_then(|()| acc.deferred.take().map_or(Ok(()), Err));
        self.verdict(result, acc.touched)
    }

    fn verdict(&self, result: Check, touched: Vec<PathBuf>) -> Verdict {
        match result {
            Ok(()) => Verdict { decision: Decision::allow(), touched },
            Err(d) => Verdict { decision: Decision::deny(d.rule, d.reason), touched: Vec::new() },
        }
    }

    fn tool(&self, tool: &Tool, cwd: &Path, acc: &mut Acc) -> Check {
        match tool {
            Tool::Shell(cmd) => {
                let ops =
                    shell::analyze(cmd, cwd, &self.root.canon, self.home.as_deref(), self.tmpdir.as_deref());
                self.ops(&ops, acc)
            }
            Tool::Argv(argv) => {
                let ops = shell::analyze_argv(argv, cwd, &self.root.canon, self.home.as_deref());
                self.ops(&ops, acc)
            }
            Tool::Write(paths) | Tool::Other(paths) => {
                for p in paths {
                    self.path(Access::Write, &Word::lit(p.as_str()), Some(cwd), "file tool", acc)?;
                }
                Ok(())
            }
            Tool::Read(paths) => {
                for p in paths {
                    self.path(Access::Read, &Word::lit(p.as_str()), Some(cwd), "file tool", acc)?;
                }
                Ok(())
            }
            Tool::Search { paths, globs } => {
                for p in paths {
                    self.path(Access::Read, &Word::lit(p.as_str()), Some(cwd), "search", acc)?;
                }
                for g in globs {
                    let last = g.rsplit(['/', '\\']).next().unwrap_or(g).to_lowercase();
                    for probe in [".env", ".env.local"] {
                        if paths::component_matches(&last, probe)
                            && self.compiled.read_protected.iter().any(|p| p.matches(probe))
                        {
                            return denied(
                                RuleId::ReadSecret,
                                format!(
                                    "the search pattern `{g}` reads `{probe}` files, which are read-protected"
                                ),
                            );
                        }
                    }
                }
                Ok(())
            }
            Tool::Patch(text) => {
                let Some(list) = crate::patch::patch_paths(text) else {
                    return denied(
                        RuleId::MalformedPayload,
                        "the patch is neither an apply_patch envelope nor a unified diff".to_owned(),
                    );
                };
                for (access, p) in list {
                    self.path(access, &Word::lit(p), Some(cwd), "patch", acc)?;
                }
                Ok(())
            }
        }
    }

    fn ops(&self, ops: &[Op], acc: &mut Acc) -> Check {
        // Structural denials first: they say the command could not be read at all.
        for op in ops {
            if let Op::Deny { rule, reason } = op {
                let shell = &self.compiled.policy.shell;
                let off = match *rule {
                    RuleId::PipeToShell => !shell.deny_pipe_to_shell,
                    RuleId::GitDestructive => !shell.deny_git_destructive,
                    _ => false,
                };
                if off {
                    continue;
                }
                if *rule == RuleId::GitDestructive {
                    acc.deferred.get_or_insert(Denied { rule: *rule, reason: reason.clone() });
                    continue;
                }
                return denied(*rule, reason.clone());
            }
        }
        for op in ops {
            match op {
                Op::Path { access, word, cwd, via } => self.path(*access, word, cwd.as_deref(), via, acc)?,
                Op::Command { argv, env } => {
                    acc.commands.push(argv.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" "));
                    self.deploy(argv, env)?
                }
                Op::Sql { text, via } => self.sql(text, via)?,
                Op::Link { link, target, cwd } => self.virtual_link(link, target, cwd.as_deref(), acc),
                Op::Deny { .. } => {}
            }
        }
        Ok(())
    }

    /// The policy's own `[[rules]]`: a tool matcher, then a command glob and/or a path glob.
    fn custom_rules(&self, tool: &Tool, acc: &Acc) -> Check {
        let kind = match tool {
            Tool::Shell(_) | Tool::Argv(_) => "shell",
            Tool::Write(_) => "write",
            Tool::Read(_) => "read",
            Tool::Search { .. } => "search",
            Tool::Patch(_) => "patch",
            Tool::Other(_) => "other",
        };
        for rule in &self.compiled.rules {
            if !rule.tools.is_empty() && !rule.tools.iter().any(|t| t == kind) {
                continue;
            }
            let command_hit = match &rule.command {
                Some(pattern) => acc
                    .commands
                    .iter()
                    .find(|c| paths::component_matches(pattern, &c.to_lowercase()))
                    .cloned(),
                None => Some(String::new()),
            };
            let path_hit = match &rule.path {
                Some(glob) => acc
                    .seen
                    .iter()
                    .find(|(a, p)| rule.access.allows(*a) && glob.matches(p))
                    .map(|(_, p)| p.clone()),
                None => Some(String::new()),
            };
            if let (Some(c), Some(p)) = (command_hit, path_hit) {
                let what = [c, p].into_iter().filter(|x| !x.is_empty()).collect::<Vec<_>>().join(", ");
                return denied(RuleId::CustomRule, format!("{} (rule `{}`: {what})", rule.message, rule.id));
            }
        }
        Ok(())
    }

    fn deploy(&self, argv: &[Word], env: &[String]) -> Check {
        for (glob, targets) in &self.compiled.deploy {
            let words = argv.iter().map(|w| w.text.as_str()).chain(env.iter().map(String::as_str));
            let hit_cmd = argv.iter().chain(std::iter::empty()).any(|w| {
                let base = w.text.rsplit('/').next().unwrap_or(&w.text);
                glob.matches(base)
            });
            if !hit_cmd {
                continue;
            }
            for w in words {
                for part in w.split(['=', ':', ',', '/', ' ']) {
                    let part = part.trim_start_matches('-').to_lowercase();
                    if targets.contains(&part) {
                        let line = argv.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
                        return denied(
                            RuleId::ProductionDeploy,
                            format!(
                                "`{line}` looks like a production deploy (rule `{}` with target `{part}`)",
                                glob.as_str()
                            ),
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn sql(&self, text: &str, via: &str) -> Check {
        let norm = format!(" {} ", normalize_sql(text));
        for phrase in &self.compiled.sql_deny {
            if norm.contains(&format!(" {phrase} ")) {
                return denied(RuleId::DestructiveSql, format!("`{phrase}` sent through {via} is denied"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule a shell command is denied by under `policy` (`None`: allowed). The root is this crate's
    /// folder (a checkout may itself be under /tmp, as a CI clone can be); deciding writes nothing.
    fn check(policy: &Policy, cmd: &str, expected: Option<RuleId>) {
        let engine = Engine::new(policy, env!("CARGO_MANIFEST_DIR"), Some("/home/someone"))
            .expect("engine")
            .with_tmpdir(Some("/tmp"));
        let v = engine.check_tool(&Tool::Shell(cmd.to_owned()), None);
        assert_eq!(v.decision.rule, expected, "{cmd}: {:?}", v.decision);
    }

    #[test]
    fn temp_folders_are_writable_unless_turned_off() {
        let on = Policy::default();
        check(&on, "rm -rf /tmp/build", None);
        check(&on, "rm -rf $TMPDIR/build", None);
        // Deleting the temporary folder itself is denied: as a folder outside the root, or, when the checkout
        // lives under /tmp, as a folder that contains the root.
        let inside_tmp = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).starts_with("/tmp");
        let whole_tmp = if inside_tmp { RuleId::DestructiveDelete } else { RuleId::OutsideRoot };
        check(&on, "rm -rf /tmp", Some(whole_tmp));
        let mut off = Policy::default();
        off.paths.temp_writable = false;
        check(&off, "rm -rf /tmp/build", Some(RuleId::OutsideRoot));
    }

    #[test]
    fn git_destructive_can_be_turned_off() {
        let on = Policy::default();
        check(&on, "git reset --hard", Some(RuleId::GitDestructive));
        check(&on, "git push --force-with-lease", None);
        let mut off = Policy::default();
        off.shell.deny_git_destructive = false;
        check(&off, "git reset --hard", None);
    }

    #[test]
    fn device_writes_can_be_turned_off() {
        check(&Policy::default(), "dd if=/dev/zero of=/dev/sda", Some(RuleId::DeviceWrite));
        let mut off = Policy::default();
        off.shell.deny_device_writes = false;
        // Without the rule the disk is still outside the root.
        check(&off, "dd if=/dev/zero of=/dev/sda", Some(RuleId::OutsideRoot));
    }

    #[test]
    fn credentials_can_be_turned_off() {
        check(&Policy::default(), "cat ~/.ssh/id_rsa", Some(RuleId::ReadCredential));
        check(&Policy::default(), "cat ~/.ssh/id_rsa.pub", None);
        let mut off = Policy::default();
        off.paths.read_credentials.clear();
        check(&off, "cat ~/.ssh/id_rsa", None);
    }
}
