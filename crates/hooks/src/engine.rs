//! The decision engine: a tool call, checked against the compiled policy.

use std::path::{Path, PathBuf};

use crate::error::Error;
use crate::event::{Decision, Tool};
use crate::paths::{self, Resolved, Root};
use crate::policy::{Compiled, Policy, normalize_sql};
use crate::shell;
use crate::vocab::{Access, Op, Word};

/// Files visited under a recursively deleted folder before the check falls back to pattern prefixes.
const MAX_WALK: usize = 20_000;

/// Zero-width, bidirectional-control and other format characters: a path holding one is meant to look like
/// another path.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{00AD}')
}

/// Whether `p` is a device file other than the harmless ones (`/dev/null`, terminals, `/dev/fd/N`, `/dev/shm`).
fn is_device(p: &Path) -> bool {
    let Ok(rest) = p.strip_prefix("/dev") else { return false };
    let first =
        rest.components().next().map(|c| c.as_os_str().to_string_lossy().into_owned()).unwrap_or_default();
    !first.is_empty()
        && !matches!(
            first.as_str(),
            "null"
                | "zero"
                | "full"
                | "random"
                | "urandom"
                | "stdout"
                | "stderr"
                | "stdin"
                | "tty"
                | "ptmx"
                | "pts"
                | "fd"
                | "shm"
                | "mqueue"
                | "console"
        )
}

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
    temp_dirs: Vec<PathBuf>,
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
    rule: &'static str,
    reason: String,
}

type Check = Result<(), Denied>;

fn denied(rule: &'static str, reason: String) -> Check {
    Err(Denied { rule, reason })
}

impl Engine {
    /// Binds `policy` to the project `root` (a path as the payload gives it; Windows-style paths work too).
    /// `home` is the user's home folder, for `~` and `$HOME`.
    pub fn new(policy: &Policy, root: &str, home: Option<&str>) -> Result<Self, Error> {
        let compiled = policy.compile("", Path::new("<policy>"))?;
        let root = Root::new(root).map_err(|e| Error::io("resolving the project root", root, e))?;
        let home_canon = home.and_then(|h| paths::resolve_abs(Path::new(h)).ok());
        let mut engine = Self {
            compiled,
            root,
            home: home.map(str::to_owned),
            home_canon,
            tmpdir: None,
            temp_dirs: Vec::new(),
        };
        engine.set_temp_dirs();
        Ok(engine)
    }

    /// Sets `$TMPDIR` (the hook's own, as the agent's commands see it): `$TMPDIR` in commands expands to it,
    /// and with `paths.temp_writable` what lies inside it may be changed, like `/tmp` and `/var/tmp`.
    pub fn with_tmpdir(mut self, tmpdir: Option<&str>) -> Self {
        self.tmpdir = tmpdir.filter(|t| !t.is_empty()).map(str::to_owned);
        self.set_temp_dirs();
        self
    }

    fn set_temp_dirs(&mut self) {
        self.temp_dirs.clear();
        if !self.compiled.policy.paths.temp_writable {
            return;
        }
        let dirs = ["/tmp", "/var/tmp", "/dev/shm"].into_iter().chain(self.tmpdir.as_deref());
        for d in dirs {
            if let Ok(c) = paths::resolve_abs(Path::new(d))
                && c != Path::new("/")
                && !self.temp_dirs.contains(&c)
            {
                self.temp_dirs.push(c);
            }
        }
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
                        denied("path-error", format!("cannot resolve the working directory `{c}`: {e}")),
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
                                "read-secret",
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
                        "malformed-payload",
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
                    "pipe-to-shell" => !shell.deny_pipe_to_shell,
                    shell::gitrules::GIT_DESTRUCTIVE => !shell.deny_git_destructive,
                    _ => false,
                };
                if off {
                    continue;
                }
                if *rule == shell::gitrules::GIT_DESTRUCTIVE {
                    acc.deferred.get_or_insert(Denied { rule, reason: reason.clone() });
                    continue;
                }
                return denied(rule, reason.clone());
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
                return denied("custom-rule", format!("{} (rule `{}`: {what})", rule.message, rule.id));
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
                            "production-deploy",
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
                return denied("destructive-sql", format!("`{phrase}` sent through {via} is denied"));
            }
        }
        Ok(())
    }

    fn path(&self, access: Access, word: &Word, cwd: Option<&Path>, via: &str, acc: &mut Acc) -> Check {
        if word.dynamic {
            if access == Access::Read {
                return Ok(());
            }
            return denied(
                "shell-unresolvable",
                format!("{via} changes `{}`, which cannot be resolved statically", word.text),
            );
        }
        if let Some(c) = word.text.chars().find(|c| is_invisible(*c)) {
            return denied(
                "suspicious-path",
                format!(
                    "{via} names `{}`, which holds the invisible character U+{:04X}",
                    word.text.escape_debug(),
                    c as u32
                ),
            );
        }
        let is_abs = word.text.starts_with('/') || paths::is_windows_style(&word.text);
        let cwd = match cwd {
            Some(c) => c.to_path_buf(),
            None if is_abs => self.root.canon.clone(),
            None if access == Access::Read => {
                // Unknown working directory: the name alone still tells whether it is a secret.
                let name = word.text.rsplit('/').next().unwrap_or(&word.text);
                if self.compiled.read_protected.iter().any(|g| g.matches(name)) {
                    return denied(
                        "read-secret",
                        format!("{via} reads `{}`, which is read-protected", word.text),
                    );
                }
                return Ok(());
            }
            None => {
                return denied(
                    "shell-unresolvable",
                    format!("{via} changes `{}` after a change to an unknown directory", word.text),
                );
            }
        };
        let mut targets =
            if word.glob { paths::expand_glob(&cwd, &word.text) } else { vec![word.text.clone()] };
        // `fixtures\sensitive\k.json` names the protected file on Windows (and one odd name elsewhere): both
        // spellings are judged, so neither a Write payload nor a patch header slips past with backslashes.
        if word.text.contains('\\') && !paths::is_windows_style(&word.text) {
            let alt: Vec<String> = targets.iter().map(|t| t.replace('\\', "/")).collect();
            targets.extend(alt);
        }
        if word.glob && access == (Access::Delete { recursive: true }) {
            // `rm -rf /*` or `rm -rf ~/.*`: the folder holding the wildcard is as good as gone.
            if let Some((parent, last)) = word.text.rsplit_once('/').or(Some(("", word.text.as_str())))
                && last.chars().all(|c| matches!(c, '*' | '?' | '.'))
            {
                let parent = if parent.is_empty() && word.text.starts_with('/') {
                    "/"
                } else if parent.is_empty() {
                    "."
                } else {
                    parent
                };
                let r = self.resolve(parent, &cwd, via, acc)?;
                self.dangerous(&r, parent, via)?;
            }
        }
        for t in targets {
            if matches!(access, Access::Read | Access::ReadTree) && t.split('/').any(|c| c.len() > 255) {
                // No file system has a name this long, so nothing is read (`git commit -m 'xxxx…'`).
                continue;
            }
            let r = self.resolve(&t, &cwd, via, acc)?;
            let shown = r.rel.clone().unwrap_or_else(|| r.abs.to_string_lossy().into_owned());
            acc.seen.push((access, shown));
            match access {
                Access::Read => self.read(&r, &t, via)?,
                Access::ReadTree => {
                    self.read(&r, &t, via)?;
                    self.read_tree(&r, &t, via)?;
                }
                Access::Write => self.write(&r, &t, via, acc)?,
                // Not checkpointed: the link is what changes, and the link path has its own Write.
                Access::LinkTarget => self.writable(&r, &t, via)?,
                Access::Delete { recursive } => {
                    if recursive {
                        self.dangerous(&r, &t, via)?;
                    }
                    self.write(&r, &t, via, acc)?;
                    if recursive && r.inside() {
                        self.tree(&r, &t, via, acc)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Records a symlink the command creates (its target was checked as a `LinkTarget` before), so that later
    /// paths through it resolve as the kernel will resolve them once it exists.
    fn virtual_link(&self, link: &Word, target: &Word, cwd: Option<&Path>, acc: &mut Acc) {
        if link.dynamic || target.dynamic || link.glob || target.glob {
            return;
        }
        if paths::is_windows_style(&link.text) || paths::is_windows_style(&target.text) {
            return;
        }
        let Some(cwd) = cwd else { return };
        let link_path = cwd.join(&link.text);
        let (Some(parent), Some(name)) = (link_path.parent(), link_path.file_name()) else { return };
        let Ok(parent) = paths::resolve_abs_with(parent, &acc.links) else { return };
        acc.links.insert(parent.join(name), cwd.join(&target.text));
    }

    fn resolve(&self, text: &str, cwd: &Path, via: &str, acc: &Acc) -> Result<Resolved, Denied> {
        paths::resolve_with(&self.root, cwd, text, &acc.links).map_err(|e| Denied {
            rule: "path-error",
            reason: format!("{via}: cannot resolve `{text}` ({e}); denied because it cannot be checked"),
        })
    }

    fn read(&self, r: &Resolved, text: &str, via: &str) -> Check {
        if let Some(g) = self.compiled.read_protected.iter().find(|g| r.matches(g)) {
            return denied(
                "read-secret",
                format!("{via} reads `{text}`, which is read-protected by `{}`", g.as_str()),
            );
        }
        if let Some(g) = self.credential(r, text) {
            return denied(
                "read-credential",
                format!(
                    "{via} reads `{text}`, a credential (`{}` in paths.read_credentials); its contents must not reach the model",
                    g.as_str()
                ),
            );
        }
        if !r.inside() {
            // Outside the root only the file name can say it is a secret (`~/other/.env`).
            let name = r.abs.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            if let Some(g) = self.compiled.read_protected.iter().find(|g| g.matches(&name)) {
                return denied(
                    "read-secret",
                    format!("{via} reads `{text}`, which is read-protected by `{}`", g.as_str()),
                );
            }
        }
        Ok(())
    }

    /// The `paths.read_credentials` glob a path matches: on its path relative to the root, on its absolute
    /// path as resolved and as written. Public keys (`*.pub`) are not credentials.
    fn credential(&self, r: &Resolved, text: &str) -> Option<&paths::Glob> {
        let name = r.abs.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        if name.ends_with(".pub") || self.compiled.read_credentials.is_empty() {
            return None;
        }
        let abs = r.abs.to_string_lossy();
        let lexical = paths::lexical_normalize(Path::new(text));
        let lexical = lexical.to_string_lossy();
        self.compiled.read_credentials.iter().find(|g| {
            r.matches(g)
                || g.matches(abs.trim_start_matches('/'))
                || (text.starts_with('/') && g.matches(lexical.trim_start_matches('/')))
        })
    }

    fn write(&self, r: &Resolved, text: &str, via: &str, acc: &mut Acc) -> Check {
        self.writable(r, text, via)?;
        acc.touched.push(r.abs.clone());
        Ok(())
    }

    /// Whether `r` may be changed: inside the root (or a writable outside glob) and not protected.
    fn writable(&self, r: &Resolved, text: &str, via: &str) -> Check {
        if self.compiled.policy.shell.deny_device_writes && is_device(&r.abs) {
            return denied(
                "device-write",
                format!(
                    "{via} writes to the device `{}` (a disk or partition): its data would be lost (`shell.deny_device_writes = false` turns this rule off)",
                    r.abs.display()
                ),
            );
        }
        if !r.inside() {
            let abs = r.abs.to_string_lossy();
            if self.compiled.writable_outside.iter().any(|g| g.matches(&abs)) {
                return Ok(());
            }
            if self.temp_dirs.iter().any(|t| r.abs.starts_with(t) && r.abs != *t) {
                return Ok(());
            }
            return denied(
                "outside-root",
                format!(
                    "{via} changes `{text}`, which resolves to `{}`, outside the project root `{}`",
                    r.abs.display(),
                    self.root.canon.display()
                ),
            );
        }
        if let Some(g) = self.compiled.protected.iter().find(|g| r.matches(g)) {
            let rel = r.rel.as_deref().unwrap_or("");
            return denied(
                "protected-path",
                format!("{via} changes `{text}` (`{rel}`), which is protected by `{}`", g.as_str()),
            );
        }
        Ok(())
    }

    /// Recursive deletes of `/`, the home folder, the project root or an ancestor of it.
    fn dangerous(&self, r: &Resolved, text: &str, via: &str) -> Check {
        if !self.compiled.policy.shell.deny_destructive_deletes {
            return Ok(());
        }
        let what = if r.abs == Path::new("/") {
            Some("the file system root")
        } else if self.home_canon.as_deref() == Some(r.abs.as_path()) {
            Some("the home folder")
        } else if self.root.canon.starts_with(&r.abs) {
            Some("the project root or a folder containing it")
        } else {
            None
        };
        match what {
            Some(w) => {
                denied("destructive-delete", format!("{via} recursively deletes `{text}`, which is {w}"))
            }
            None => Ok(()),
        }
    }

    /// A folder read recursively: no read-protected file may be under it. Dependency and VCS folders are
    /// skipped (they hold no project secrets and would make the walk slow).
    fn read_tree(&self, r: &Resolved, text: &str, via: &str) -> Check {
        let too_large = || {
            denied(
                "read-secret",
                format!(
                    "{via} reads everything under `{text}`, a folder too large to check for secrets ({MAX_WALK}+ entries)"
                ),
            )
        };
        walk_bounded(&r.abs, too_large, |entry, p| {
            let name = entry.file_name();
            let rel = p
                .strip_prefix(&self.root.canon)
                .map(|x| x.to_string_lossy().into_owned())
                .unwrap_or_else(|_| name.to_string_lossy().into_owned());
            if let Some(g) = self
                .compiled
                .read_protected
                .iter()
                .find(|g| g.matches(&rel) || g.matches(&name.to_string_lossy()))
            {
                denied(
                    "read-secret",
                    format!(
                        "{via} reads everything under `{text}`, which contains `{rel}`, read-protected by `{}`",
                        g.as_str()
                    ),
                )?;
            }
            let lower = name.to_string_lossy().to_lowercase();
            if !lower.ends_with(".pub")
                && let Some(g) = self
                    .compiled
                    .read_credentials
                    .iter()
                    .find(|g| g.matches(&rel) || g.matches(p.to_string_lossy().trim_start_matches('/')))
            {
                denied(
                    "read-credential",
                    format!(
                        "{via} reads everything under `{text}`, which contains the credential `{rel}` (`{}`)",
                        g.as_str()
                    ),
                )?;
            }
            let skipped =
                matches!(name.to_str(), Some(".git" | "node_modules" | "target" | ".venv" | "__pycache__"));
            Ok(entry.file_type().is_ok_and(|t| t.is_dir()) && !skipped)
        })
    }

    /// A recursively deleted folder inside the root: every file in it must be deletable.
    fn tree(&self, r: &Resolved, text: &str, via: &str, acc: &mut Acc) -> Check {
        let too_large = || {
            denied(
                "protected-path",
                format!(
                    "{via} recursively deletes `{text}`, a folder too large to check ({MAX_WALK}+ entries)"
                ),
            )
        };
        walk_bounded(&r.abs, too_large, |entry, p| {
            let rel = p
                .strip_prefix(&self.root.canon)
                .map(|x| x.to_string_lossy().into_owned())
                .unwrap_or_default();
            if let Some(g) = self.compiled.protected.iter().find(|g| g.matches(&rel)) {
                denied(
                    "protected-path",
                    format!(
                        "{via} recursively deletes `{text}`, which contains `{rel}`, protected by `{}`",
                        g.as_str()
                    ),
                )?;
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                return Ok(true);
            }
            acc.touched.push(p.to_path_buf());
            Ok(false)
        })
    }
}

/// Walks the folder `start` (not following a symlink at `start`) depth-first, at most `MAX_WALK` entries.
/// `visit` sees each entry with its path and says whether to descend into it; a folder with more entries than
/// that is answered by `too_large`. Unreadable folders are skipped. Nothing happens when `start` is no folder.
fn walk_bounded(
    start: &Path,
    too_large: impl FnOnce() -> Check,
    mut visit: impl FnMut(&std::fs::DirEntry, &Path) -> Result<bool, Denied>,
) -> Check {
    if !std::fs::symlink_metadata(start).is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    let mut stack = vec![start.to_path_buf()];
    let mut seen = 0usize;
    while let Some(dir) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else { continue };
        for entry in rd.flatten() {
            seen += 1;
            if seen > MAX_WALK {
                return too_large();
            }
            let p = entry.path();
            if visit(&entry, &p)? {
                stack.push(p);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The rule a shell command is denied by under `policy` (`None`: allowed). The root is this crate's
    /// folder, which is not under a temporary folder; deciding writes nothing.
    fn check(policy: &Policy, cmd: &str, expected: Option<&str>) {
        let engine = Engine::new(policy, env!("CARGO_MANIFEST_DIR"), Some("/home/someone"))
            .expect("engine")
            .with_tmpdir(Some("/tmp"));
        let v = engine.check_tool(&Tool::Shell(cmd.to_owned()), None);
        assert_eq!(v.decision.rule.as_deref(), expected, "{cmd}: {:?}", v.decision);
    }

    #[test]
    fn temp_folders_are_writable_unless_turned_off() {
        let on = Policy::default();
        check(&on, "rm -rf /tmp/build", None);
        check(&on, "rm -rf $TMPDIR/build", None);
        check(&on, "rm -rf /tmp", Some("outside-root"));
        let mut off = Policy::default();
        off.paths.temp_writable = false;
        check(&off, "rm -rf /tmp/build", Some("outside-root"));
    }

    #[test]
    fn git_destructive_can_be_turned_off() {
        let on = Policy::default();
        check(&on, "git reset --hard", Some("git-destructive"));
        check(&on, "git push --force-with-lease", None);
        let mut off = Policy::default();
        off.shell.deny_git_destructive = false;
        check(&off, "git reset --hard", None);
    }

    #[test]
    fn device_writes_can_be_turned_off() {
        check(&Policy::default(), "dd if=/dev/zero of=/dev/sda", Some("device-write"));
        let mut off = Policy::default();
        off.shell.deny_device_writes = false;
        // Without the rule the disk is still outside the root.
        check(&off, "dd if=/dev/zero of=/dev/sda", Some("outside-root"));
    }

    #[test]
    fn credentials_can_be_turned_off() {
        check(&Policy::default(), "cat ~/.ssh/id_rsa", Some("read-credential"));
        check(&Policy::default(), "cat ~/.ssh/id_rsa.pub", None);
        let mut off = Policy::default();
        off.paths.read_credentials.clear();
        check(&off, "cat ~/.ssh/id_rsa", None);
    }
}
