//! Path resolution against the project root, and component-wise glob matching.
//!
//! A path from a payload or a command is made absolute against the working directory, its deepest existing
//! ancestor is resolved with every symlink followed (a dangling leaf symlink included), the missing tail is
//! appended, and the result is compared with the canonical root by components. Protected patterns are
//! matched, case-folded, on both the resolved relative path and the lexical one, so neither a symlink into a
//! protected folder nor a spelling such as `sub/../.env` gets around them.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io;
use std::path::{Component, Path, PathBuf};

/// Symlinks followed while resolving one path before it counts as a loop (the kernel's ELOOP limit).
const MAX_LINKS: usize = 40;

/// A glob over `/`-separated paths: `**` spans any number of components, `*`, `?` and `[...]` stay inside one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Glob {
    text: String,
    parts: Vec<String>,
}

impl Glob {
    /// Compiles a pattern; `Err` names what is wrong with it.
    pub(crate) fn new(text: &str) -> Result<Self, String> {
        if text.is_empty() {
            return Err("empty pattern".to_owned());
        }
        let mut depth = 0i32;
        for c in text.chars() {
            match c {
                '[' => depth += 1,
                ']' => depth -= 1,
                _ => {}
            }
            if depth < 0 {
                return Err(format!("unbalanced `]` in `{text}`"));
            }
        }
        if depth != 0 {
            return Err(format!("unbalanced `[` in `{text}`"));
        }
        let norm = text.replace('\\', "/");
        let parts = norm.trim_start_matches("./").split('/').filter(|p| !p.is_empty()).map(fold).collect();
        Ok(Self { text: text.to_owned(), parts })
    }

    /// The pattern as written.
    pub(crate) fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether the `/`-separated relative path matches, case-folded.
    pub(crate) fn matches(&self, rel: &str) -> bool {
        match_parts(&self.parts, &folded(rel))
    }

    /// Whether a path already split and folded by [`folded`] matches: for matching one path against many
    /// globs without folding it again for each.
    pub(crate) fn matches_folded(&self, comps: &[String]) -> bool {
        match_parts(&self.parts, comps)
    }
}

/// The components of a `/`-separated path as globs compare them: case-folded, without `.` and empty ones.
pub(crate) fn folded(rel: &str) -> Vec<String> {
    rel.split('/').filter(|c| !c.is_empty() && *c != ".").map(fold).collect()
}

/// Unicode lowercase, with the Windows-ignored trailing dots and spaces and any `:stream` suffix removed.
fn fold(component: &str) -> String {
    let c = component.split(':').next().unwrap_or(component);
    let c = if c.chars().all(|ch| ch == '.') { c } else { c.trim_end_matches(['.', ' ']) };
    c.to_lowercase()
}

fn match_parts(pat: &[String], comps: &[String]) -> bool {
    match pat.split_first() {
        None => comps.is_empty(),
        Some((p, rest)) if p == "**" => (0..=comps.len()).any(|i| match_parts(rest, &comps[i..])),
        Some((p, rest)) => match comps.split_first() {
            Some((c, crest)) => component_matches(p, c) && match_parts(rest, crest),
            None => false,
        },
    }
}

/// Shell-style match of one component: `*`, `?`, `[abc]`, `[!a-z]`.
pub(crate) fn component_matches(pat: &str, text: &str) -> bool {
    let p: Vec<char> = pat.chars().collect();
    let t: Vec<char> = text.chars().collect();
    wild(&p, &t)
}

fn wild(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') => (0..=t.len()).any(|i| wild(&p[1..], &t[i..])),
        Some('?') => !t.is_empty() && wild(&p[1..], &t[1..]),
        Some('[') => {
            let Some(close) = p.iter().skip(1).position(|c| *c == ']').map(|i| i + 1) else {
                return t.first() == Some(&'[') && wild(&p[1..], &t[1..]);
            };
            let Some(c) = t.first() else { return false };
            let set = &p[1..close];
            let (neg, set) = match set.first() {
                Some('!') | Some('^') => (true, &set[1..]),
                _ => (false, set),
            };
            let mut hit = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == '-' {
                    hit |= set[i] <= *c && *c <= set[i + 2];
                    i += 3;
                } else {
                    hit |= set[i] == *c;
                    i += 1;
                }
            }
            hit != neg && wild(&p[close + 1..], &t[1..])
        }
        Some(pc) => t.first() == Some(pc) && wild(&p[1..], &t[1..]),
    }
}

/// Whether a Windows-style path (`C:\x`, `\\server\share`, `\\?\C:\x`) was given.
pub(crate) fn is_windows_style(raw: &str) -> bool {
    let b = raw.as_bytes();
    raw.starts_with("\\\\") || (b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':')
}

/// Turns a Windows-style path into a `/`-separated one with a lowercase drive (`C:\a` -> `/c:/a`) so it
/// compares with a root given the same way.
pub(crate) fn normalize_separators(raw: &str, windows: bool) -> String {
    if !windows {
        return raw.to_owned();
    }
    let s = raw.strip_prefix("\\\\?\\").or_else(|| raw.strip_prefix("//?/")).unwrap_or(raw);
    let s = s.replace('\\', "/");
    let b = s.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        format!("/{}:{}", (b[0] as char).to_ascii_lowercase(), &s[2..])
    } else {
        s
    }
}

/// The project root, as given and canonicalized.
#[derive(Debug, Clone)]
pub(crate) struct Root {
    pub(crate) canon: PathBuf,
    pub(crate) lexical: PathBuf,
    pub(crate) windows: bool,
}

impl Root {
    pub(crate) fn new(raw: &str) -> io::Result<Self> {
        let windows = is_windows_style(raw);
        let lexical = lexical_normalize(Path::new(&normalize_separators(raw, windows)));
        if !lexical.is_absolute() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("project root `{raw}` is not absolute"),
            ));
        }
        let canon = resolve_abs(Path::new(&normalize_separators(raw, windows)))?;
        Ok(Self { canon, lexical, windows })
    }
}

/// A path resolved against the root.
#[derive(Debug, Clone)]
pub(crate) struct Resolved {
    /// Canonical absolute path (existing prefix resolved, symlinks followed, missing tail appended).
    pub(crate) abs: PathBuf,
    /// `abs` relative to the canonical root, `/`-separated; `None` when outside the root.
    pub(crate) rel: Option<String>,
    /// The lexical path relative to the root (before symlinks), when it is inside lexically.
    pub(crate) lexical_rel: Option<String>,
}

impl Resolved {
    pub(crate) fn inside(&self) -> bool {
        self.rel.is_some()
    }

    /// Whether `glob` matches the resolved or the lexical relative path.
    pub(crate) fn matches(&self, glob: &Glob) -> bool {
        self.rel.as_deref().is_some_and(|r| glob.matches(r))
            || self.lexical_rel.as_deref().is_some_and(|r| glob.matches(r))
    }
}

/// Symlinks that a command creates before it uses a later path (`ln -s t l && echo x > l/../f`): the link's
/// resolved path and its target as an absolute path, not yet resolved. They count as real symlinks.
pub(crate) type VirtualLinks = HashMap<PathBuf, PathBuf>;

/// Resolves `raw` (absolute, or relative to `cwd`) against the root. `Err` on an I/O error other than a
/// missing component, or a symlink loop: callers deny then.
pub(crate) fn resolve(root: &Root, cwd: &Path, raw: &str) -> io::Result<Resolved> {
    resolve_with(root, cwd, raw, &VirtualLinks::new())
}

/// [`resolve`], with the symlinks a command made earlier followed as if they existed.
pub(crate) fn resolve_with(root: &Root, cwd: &Path, raw: &str, links: &VirtualLinks) -> io::Result<Resolved> {
    if raw.contains('\0') {
        return Err(io::Error::new(io::ErrorKind::InvalidInput, "path contains a NUL byte"));
    }
    let windows = root.windows || is_windows_style(raw);
    let text = normalize_separators(raw, windows);
    let text = if windows { text.replace('\\', "/") } else { text };
    let p = Path::new(&text);
    let joined = if p.is_absolute() { p.to_path_buf() } else { cwd.join(p) };
    let lexical = lexical_normalize(&joined);
    // `..` is resolved in order after the symlinks before it, as the kernel does: `escape/../f` with
    // `escape -> /elsewhere` is `/f`, not `f` in the folder holding `escape`.
    let abs = resolve_abs_with(&joined, links)?;
    let rel = relative(&abs, &root.canon);
    let lexical_rel = relative(&lexical, &root.lexical).or_else(|| relative(&lexical, &root.canon));
    Ok(Resolved { abs, rel, lexical_rel })
}

fn relative(path: &Path, root: &Path) -> Option<String> {
    let rest = path.strip_prefix(root).ok()?;
    let parts: Vec<String> =
        rest.components().map(|c| c.as_os_str().to_string_lossy().into_owned()).collect();
    Some(parts.join("/"))
}

/// Removes `.` and resolves `..` lexically (never above `/`).
pub(crate) fn lexical_normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.parent().is_some() {
                    out.pop();
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// `realpath` that tolerates missing components: walks the components in order as the kernel does,
/// follows every symlink (dangling ones included, with a loop guard) and applies `..` to the folder reached
/// so far. A missing component is kept as it is, as if a command created it first (`mkdir -p a; x > a/../l/f`),
/// so a `..` after it can still lead back to a symlink, which is then followed.
pub(crate) fn resolve_abs(path: &Path) -> io::Result<PathBuf> {
    resolve_abs_with(path, &VirtualLinks::new())
}

/// [`resolve_abs`], with `links` followed before the file system is asked.
pub(crate) fn resolve_abs_with(path: &Path, links: &VirtualLinks) -> io::Result<PathBuf> {
    let mut pending: Vec<OsString> = Vec::new();
    push_components(&mut pending, path);
    let mut cur = PathBuf::from("/");
    let mut links_seen = 0;
    while let Some(c) = pending.pop() {
        if c == "." || c.is_empty() {
            continue;
        }
        if c == ".." {
            cur.pop();
            continue;
        }
        let next = cur.join(&c);
        if let Some(target) = links.get(&next) {
            links_seen += 1;
            if links_seen > MAX_LINKS {
                return Err(io::Error::other(format!("too many symlinks resolving {}", path.display())));
            }
            cur = PathBuf::from("/");
            push_components(&mut pending, target);
            continue;
        }
        match std::fs::symlink_metadata(&next) {
            Ok(m) if m.file_type().is_symlink() => {
                links_seen += 1;
                if links_seen > MAX_LINKS {
                    return Err(io::Error::other(format!("too many symlinks resolving {}", path.display())));
                }
                let target = std::fs::read_link(&next)?;
                if target.is_absolute() {
                    cur = PathBuf::from("/");
                }
                push_components(&mut pending, &target);
            }
            Ok(_) => cur = next,
            Err(e) if e.kind() == io::ErrorKind::NotFound || e.kind() == io::ErrorKind::NotADirectory => {
                cur = next;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(cur)
}

fn push_components(stack: &mut Vec<OsString>, p: &Path) {
    let comps: Vec<OsString> = p
        .components()
        .filter_map(|c| match c {
            Component::RootDir | Component::Prefix(_) => None,
            Component::CurDir => Some(OsString::from(".")),
            Component::ParentDir => Some(OsString::from("..")),
            Component::Normal(s) => Some(s.to_os_string()),
        })
        .collect();
    stack.extend(comps.into_iter().rev());
}

/// Expands a glob word against the file system, as the shell would (no match: the pattern itself).
pub(crate) fn expand_glob(cwd: &Path, pattern: &str) -> Vec<String> {
    let absolute = pattern.starts_with('/');
    let mut bases: Vec<(PathBuf, String)> = vec![(
        if absolute { PathBuf::from("/") } else { cwd.to_path_buf() },
        if absolute { "/".to_owned() } else { String::new() },
    )];
    for comp in pattern.split('/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        let wild = comp.contains(['*', '?', '[']);
        for (dir, shown) in &bases {
            let join = |name: &str| {
                if shown.is_empty() || shown.ends_with('/') {
                    format!("{shown}{name}")
                } else {
                    format!("{shown}/{name}")
                }
            };
            if !wild {
                next.push((dir.join(comp), join(comp)));
                continue;
            }
            let Ok(rd) = std::fs::read_dir(dir) else { continue };
            for entry in rd.flatten().take(4096) {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && !comp.starts_with('.') {
                    continue;
                }
                if component_matches(comp, &name) {
                    next.push((dir.join(&name), join(&name)));
                }
            }
        }
        bases = next;
        if bases.len() > 4096 {
            bases.truncate(4096);
        }
    }
    // Matches whose last, literal components do not exist yet are kept: a write may create them.
    let found: Vec<String> = bases.into_iter().map(|(_, s)| s).collect();
    if found.is_empty() { vec![pattern.to_owned()] } else { found }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, path: &str, expected: bool) {
        let g = Glob::new(pattern).expect("valid pattern");
        assert_eq!(g.matches(path), expected, "{pattern} ~ {path}");
    }

    #[test]
    fn globs() {
        check("generated/**", "generated", true);
        check("generated/**", "generated/a/b.txt", true);
        check("generated/**", "src/generated/a", false);
        check("**/.env", ".env", true);
        check("**/.env", "config/.ENV", true);
        check("**/.env.*", "a/.env.local", true);
        check("**/.env.*", "src/env.rs", false);
        check("**/.env", ".env.", true);
        check("**/.env", ".env::$DATA", true);
        check("src/*.rs", "src/a.rs", true);
        check("src/*.rs", "src/a/b.rs", false);
        check("[!a]?", "bc", true);
    }

    #[test]
    fn windows_paths() {
        assert_eq!(normalize_separators("C:\\proj\\x", true), "/c:/proj/x");
        assert_eq!(normalize_separators("\\\\?\\D:\\a", true), "/d:/a");
    }

    #[test]
    fn resolves_symlinks_and_missing_tails() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("root");
        std::fs::create_dir_all(root.join("generated")).expect("mkdir");
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink("generated", root.join("gen2")).expect("symlink");
            std::os::unix::fs::symlink("../outside/new.txt", root.join("dangling")).expect("symlink");
        }
        let r = Root::new(&root.to_string_lossy()).expect("root");
        let g = resolve(&r, &r.canon, "gen2/x.txt").expect("resolve");
        assert_eq!(g.rel.as_deref(), Some("generated/x.txt"));
        let d = resolve(&r, &r.canon, "dangling").expect("resolve");
        assert!(!d.inside());
        let up = resolve(&r, &r.canon, "sub/../../x").expect("resolve");
        assert!(!up.inside());
    }

    #[cfg(unix)]
    #[test]
    fn dot_dot_applies_after_the_symlink_before_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let base = dir.path().canonicalize().expect("canonical tempdir");
        let root = base.join("root");
        let out = base.join("outside").join("deep");
        std::fs::create_dir_all(&root).expect("mkdir");
        std::fs::create_dir_all(&out).expect("mkdir");
        std::os::unix::fs::symlink(&out, root.join("escape")).expect("symlink");
        let r = Root::new(&root.to_string_lossy()).expect("root");
        // Lexically `escape/../f` is `f` inside the root; the kernel lands in `outside/f`.
        let e = resolve(&r, &r.canon, "escape/../f").expect("resolve");
        assert_eq!(e.abs, base.join("outside").join("f"));
        assert!(!e.inside());
        // A missing folder before `..` does not stop the symlink after it from being followed.
        let m = resolve(&r, &r.canon, "new/../escape/g").expect("resolve");
        assert_eq!(m.abs, out.join("g"));
        assert!(!m.inside());
        let plain = resolve(&r, &r.canon, "new/../src/x").expect("resolve");
        assert_eq!(plain.rel.as_deref(), Some("src/x"));
    }
}
