//! The path checks of the engine: a path an operation reads, writes, deletes or links to, resolved and
//! judged against the protected, read-protected and credential globs, the root, the temporary folders and
//! the devices.

use std::path::Path;

use super::{Acc, Check, Denied, Engine, MAX_WALK, denied};
use crate::paths::{self, Resolved};
use crate::vocab::{Access, RuleId, Word};

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

impl Engine {
    pub(super) fn path(
        &self,
        access: Access,
        word: &Word,
        cwd: Option<&Path>,
        via: &str,
        acc: &mut Acc,
    ) -> Check {
        if word.dynamic {
            if access == Access::Read {
                return Ok(());
            }
            return denied(
                RuleId::ShellUnresolvable,
                format!("{via} changes `{}`, which cannot be resolved statically", word.text),
            );
        }
        if let Some(c) = word.text.chars().find(|c| is_invisible(*c)) {
            return denied(
                RuleId::SuspiciousPath,
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
                        RuleId::ReadSecret,
                        format!("{via} reads `{}`, which is read-protected", word.text),
                    );
                }
                return Ok(());
            }
            None => {
                return denied(
                    RuleId::ShellUnresolvable,
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
    pub(super) fn virtual_link(&self, link: &Word, target: &Word, cwd: Option<&Path>, acc: &mut Acc) {
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

    pub(super) fn resolve(&self, text: &str, cwd: &Path, via: &str, acc: &Acc) -> Result<Resolved, Denied> {
        paths::resolve_with(&self.root, cwd, text, &acc.links).map_err(|e| Denied {
            rule: RuleId::PathError,
            reason: format!("{via}: cannot resolve `{text}` ({e}); denied because it cannot be checked"),
        })
    }

    pub(super) fn read(&self, r: &Resolved, text: &str, via: &str) -> Check {
        if let Some(g) = self.compiled.read_protected.iter().find(|g| r.matches(g)) {
            return denied(
                RuleId::ReadSecret,
                format!("{via} reads `{text}`, which is read-protected by `{}`", g.as_str()),
            );
        }
        if let Some(g) = self.credential(r, text) {
            return denied(
                RuleId::ReadCredential,
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
                    RuleId::ReadSecret,
                    format!("{via} reads `{text}`, which is read-protected by `{}`", g.as_str()),
                );
            }
        }
        Ok(())
    }

    /// The `paths.read_credentials` glob a path matches: on its path relative to the root, on its absolute
    /// path as resolved and as written. Public keys (`*.pub`) are not credentials.
    pub(super) fn credential(&self, r: &Resolved, text: &str) -> Option<&paths::Glob> {
        let name = r.abs.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        if name.ends_with(".pub") || self.compiled.read_credentials.is_empty() {
            return None;
        }
        // Each form of the path is split and folded once, then matched against every glob of the list.
        let mut forms: Vec<Vec<String>> = Vec::with_capacity(4);
        forms.extend(r.rel.as_deref().map(paths::folded));
        forms.extend(r.lexical_rel.as_deref().map(paths::folded));
        forms.push(paths::folded(&r.abs.to_string_lossy()));
        if text.starts_with('/') {
            forms.push(paths::folded(&paths::lexical_normalize(Path::new(text)).to_string_lossy()));
        }
        self.compiled.read_credentials.iter().find(|g| forms.iter().any(|f| g.matches_folded(f)))
    }

    pub(super) fn write(&self, r: &Resolved, text: &str, via: &str, acc: &mut Acc) -> Check {
        self.writable(r, text, via)?;
        acc.touched.push(r.abs.clone());
        Ok(())
    }

    /// Whether `r` may be changed: inside the root (or a writable outside glob) and not protected.
    pub(super) fn writable(&self, r: &Resolved, text: &str, via: &str) -> Check {
        if self.compiled.policy.shell.deny_device_writes && is_device(&r.abs) {
            return denied(
                RuleId::DeviceWrite,
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
            if self.temp_dirs().iter().any(|t| r.abs.starts_with(t) && r.abs != *t) {
                return Ok(());
            }
            return denied(
                RuleId::OutsideRoot,
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
                RuleId::ProtectedPath,
                format!("{via} changes `{text}` (`{rel}`), which is protected by `{}`", g.as_str()),
            );
        }
        Ok(())
    }

    /// Recursive deletes of `/`, the home folder, the project root or an ancestor of it.
    pub(super) fn dangerous(&self, r: &Resolved, text: &str, via: &str) -> Check {
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
                denied(RuleId::DestructiveDelete, format!("{via} recursively deletes `{text}`, which is {w}"))
            }
            None => Ok(()),
        }
    }

    /// A folder read recursively: no read-protected file may be under it. Dependency and VCS folders are
    /// skipped (they hold no project secrets and would make the walk slow).
    pub(super) fn read_tree(&self, r: &Resolved, text: &str, via: &str) -> Check {
        let too_large = || {
            denied(
                RuleId::ReadSecret,
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
                    RuleId::ReadSecret,
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
                    RuleId::ReadCredential,
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
    pub(super) fn tree(&self, r: &Resolved, text: &str, via: &str, acc: &mut Acc) -> Check {
        let too_large = || {
            denied(
                RuleId::ProtectedPath,
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
                    RuleId::ProtectedPath,
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
pub(super) fn walk_bounded(
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
