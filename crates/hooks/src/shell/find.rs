//! `find`: its expression read (start paths, name and path tests, `-delete`, `-exec`, `-fprint`), and the
//! files it and `ls` would hand on now, found by walking the folder.

use std::path::{Path, PathBuf};

use super::runners::{may_be_option, substitute};
use super::{Analyzer, Stdin};
use crate::vocab::{Access, Word};

/// How many entries a walk for `find` or `ls` items visits before the items count as unknown.
const MAX_ITEMS_WALK: usize = 20_000;

/// Folders a `find` walk does not enter: they hold no project files an agent reads through `find`, and they
/// are large (the engine's recursive read check skips the same).
const SKIPPED_DIRS: [&str; 5] = [".git", "node_modules", "target", ".venv", "__pycache__"];

impl Analyzer {
    /// `find START... EXPRESSION`: `-delete` removes what matches (the start itself when nothing narrows the
    /// match), `-exec`/`-execdir`/`-ok` run their command with `{}` replaced by each match, and `-fprint`
    /// and friends write a file. The matches are the files that exist now.
    pub(super) fn find(&mut self, args: &[Word], env: Vec<String>) {
        let expr = FindExpr::parse(args);
        if let Some(w) = &expr.unknown {
            self.deny(format!(
                "`find` is given `{w}`, known only at run time, in its expression (it may be `-delete` or `-exec`)"
            ));
            return;
        }
        let starts = expr.starts.clone();
        for s in &starts {
            self.path(Access::Read, s.clone(), "find");
        }
        for f in &expr.writes {
            self.path(Access::Write, f.clone(), "find");
        }
        // The files find hands on are walked only when something uses them.
        let items = if expr.deletes || !expr.execs.is_empty() {
            self.find_items(&expr, self.cwd.as_deref())
        } else {
            Vec::new()
        };
        if expr.deletes {
            for s in &starts {
                if !expr.filtered() {
                    self.path(Access::Delete { recursive: true }, s.clone(), "find -delete");
                }
            }
            for item in &items {
                self.path(Access::Delete { recursive: false }, item.clone(), "find -delete");
            }
        }
        for cmd in &expr.execs {
            for item in &items {
                let replaced: Vec<Word> = cmd.iter().map(|w| substitute(w, "{}", item)).collect();
                self.argv(replaced, env.clone(), Stdin::Inherited);
            }
        }
    }

    /// The paths a `find` expression matches now (its name and path tests applied; other tests are assumed
    /// to match), the starts included; an unknown item when the walk is too large or a start is not known.
    pub(super) fn find_items(&self, expr: &FindExpr, cwd: Option<&Path>) -> Vec<Word> {
        let mut out = Vec::new();
        let mut visited = 0usize;
        for s in &expr.starts {
            if s.dynamic || s.glob {
                out.push(Word::unknown(format!("{}/…", s.text)));
                continue;
            }
            let Some(abs) = abs_in(cwd, &s.text) else {
                out.push(Word::unknown(format!("{}/…", s.text)));
                continue;
            };
            let shown = s.text.trim_end_matches('/').to_owned();
            let shown = if shown.is_empty() { "/".to_owned() } else { shown };
            if expr.matches(&shown, &shown) {
                out.push(s.clone());
            }
            if !std::fs::symlink_metadata(&abs).is_ok_and(|m| m.is_dir()) {
                continue;
            }
            let mut stack: Vec<(PathBuf, String)> = vec![(abs, shown)];
            while let Some((dir, shown)) = stack.pop() {
                let Ok(rd) = std::fs::read_dir(&dir) else { continue };
                for entry in rd.flatten() {
                    visited += 1;
                    if visited > MAX_ITEMS_WALK {
                        out.push(Word::unknown(format!("{}/… (more than {MAX_ITEMS_WALK} entries)", s.text)));
                        return out;
                    }
                    let name = entry.file_name().to_string_lossy().into_owned();
                    let path = if shown == "/" { format!("/{name}") } else { format!("{shown}/{name}") };
                    if expr.matches(&name, &path) {
                        out.push(Word::lit(path.clone()));
                    }
                    let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
                    if is_dir && !SKIPPED_DIRS.contains(&name.as_str()) {
                        stack.push((entry.path(), path));
                    }
                }
            }
        }
        out
    }

    /// The entries `ls` lists: each folder operand's entries (dot files with `-a`/`-A`), each file itself.
    pub(super) fn ls_items(&self, args: &[Word], cwd: Option<&Path>) -> Vec<Word> {
        let all = args.iter().any(|a| {
            a.text.starts_with('-') && !a.text.starts_with("--") && a.text.contains(['a', 'A'])
                || a.text == "--all"
                || a.text == "--almost-all"
        });
        let mut operands: Vec<&Word> =
            args.iter().filter(|w| !w.text.starts_with('-') || w.dynamic).collect();
        let dot = Word::lit(".");
        if operands.is_empty() {
            operands.push(&dot);
        }
        let mut out = Vec::new();
        for o in operands {
            let Some(abs) = (o.is_static() && !o.glob).then(|| abs_in(cwd, &o.text)).flatten() else {
                out.push(Word::unknown(o.text.clone()));
                continue;
            };
            let Ok(rd) = std::fs::read_dir(&abs) else {
                out.push(o.clone());
                continue;
            };
            for entry in rd.flatten().take(4096) {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && !all {
                    continue;
                }
                let path =
                    if o.text == "." { name } else { format!("{}/{name}", o.text.trim_end_matches('/')) };
                out.push(Word::lit(path));
            }
        }
        out
    }
}

/// `text` as an absolute path from `cwd`; `None` when that folder is unknown.
fn abs_in(cwd: Option<&Path>, text: &str) -> Option<PathBuf> {
    let p = Path::new(text);
    if p.is_absolute() {
        return Some(p.to_path_buf());
    }
    cwd.map(|c| c.join(p))
}

/// A `find` command line, read: its starting points, its name and path tests, what it deletes, writes and
/// runs.
#[derive(Debug, Default, Clone)]
pub(super) struct FindExpr {
    pub(super) starts: Vec<Word>,
    /// `-name`/`-iname` patterns that are not negated: a match needs one of them (when there are any).
    names: Vec<(String, bool)>,
    /// `-path`/`-ipath`/`-wholename` patterns that are not negated.
    paths: Vec<(String, bool)>,
    /// `-delete` is in the expression.
    pub(super) deletes: bool,
    /// The commands of `-exec`, `-execdir`, `-ok`, `-okdir`.
    pub(super) execs: Vec<Vec<Word>>,
    /// Files `-fprint`, `-fprint0`, `-fprintf`, `-fls` write.
    pub(super) writes: Vec<Word>,
    /// `-empty` and other tests that make `-delete` act on less than the start.
    narrowed: bool,
    /// A word of the expression known only at run time (`parallel find .` appends one): it may be `-delete`.
    pub(super) unknown: Option<String>,
}

/// `find` primaries that take one value.
const FIND_VALUE: &[&str] = &[
    "-name",
    "-iname",
    "-path",
    "-ipath",
    "-wholename",
    "-iwholename",
    "-regex",
    "-iregex",
    "-lname",
    "-ilname",
    "-type",
    "-xtype",
    "-user",
    "-group",
    "-uid",
    "-gid",
    "-perm",
    "-size",
    "-mtime",
    "-mmin",
    "-atime",
    "-amin",
    "-ctime",
    "-cmin",
    "-newer",
    "-anewer",
    "-cnewer",
    "-samefile",
    "-inum",
    "-links",
    "-maxdepth",
    "-mindepth",
    "-used",
    "-fstype",
    "-context",
    "-printf",
    "-regextype",
    "-files0-from",
];

impl FindExpr {
    pub(super) fn parse(args: &[Word]) -> Self {
        let mut e = Self::default();
        let mut i = 0;
        // Global options before the starting points.
        while i < args.len() && matches!(args[i].text.as_str(), "-H" | "-L" | "-P") {
            i += 1;
        }
        if i < args.len() && args[i].text == "-D" {
            i += 2;
        }
        if i < args.len() && args[i].text.starts_with("-O") {
            i += 1;
        }
        while i < args.len() {
            let t = args[i].text.as_str();
            if may_be_option(&args[i]) {
                // An item from xargs or parallel may be `-delete` as well as a path.
                e.unknown.get_or_insert_with(|| t.to_owned());
            }
            if t.starts_with('-') || matches!(t, "(" | "!" | "\\(" | ")" | ",") {
                break;
            }
            e.starts.push(args[i].clone());
            i += 1;
        }
        if e.starts.is_empty() {
            e.starts.push(Word::lit("."));
        }
        let mut negated = false;
        while i < args.len() {
            let t = args[i].text.as_str();
            let next = args.get(i + 1);
            match t {
                _ if may_be_option(&args[i]) => {
                    e.unknown.get_or_insert_with(|| t.to_owned());
                }
                "!" | "-not" => {
                    negated = true;
                    i += 1;
                    continue;
                }
                "-delete" => e.deletes = true,
                "-empty" => e.narrowed = true,
                "-exec" | "-execdir" | "-ok" | "-okdir" => {
                    let end = args[i + 1..]
                        .iter()
                        .position(|w| w.text == ";" || w.text == "+")
                        .map_or(args.len(), |p| i + 1 + p);
                    e.execs.push(args[i + 1..end].to_vec());
                    i = end + 1;
                    negated = false;
                    continue;
                }
                "-fprint" | "-fprint0" | "-fls" | "-fprintf" => {
                    if let Some(f) = next {
                        e.writes.push(f.clone());
                    }
                    i += if t == "-fprintf" { 3 } else { 2 };
                    negated = false;
                    continue;
                }
                _ if t.starts_with("-newer") && t.len() > 6 => {
                    i += 2;
                    negated = false;
                    continue;
                }
                _ if FIND_VALUE.contains(&t) => {
                    if let Some(v) = next {
                        let fold = t.starts_with("-i");
                        match t {
                            "-name" | "-iname" if !negated && v.is_static() => {
                                e.names.push((v.text.clone(), fold));
                            }
                            "-path" | "-ipath" | "-wholename" | "-iwholename"
                                if !negated && v.is_static() =>
                            {
                                e.paths.push((v.text.clone(), fold));
                            }
                            "-name" | "-iname" | "-path" | "-ipath" | "-wholename" | "-iwholename" => {}
                            _ => {}
                        }
                    }
                    i += 2;
                    negated = false;
                    continue;
                }
                _ => {}
            }
            negated = false;
            i += 1;
        }
        e
    }

    /// A name or path test that narrows the match below "everything under the start".
    pub(super) fn filtered(&self) -> bool {
        self.narrowed
            || self.names.iter().any(|(p, _)| !p.chars().all(|c| matches!(c, '*' | '?' | '.' | '/')))
            || self.paths.iter().any(|(p, _)| !p.chars().all(|c| matches!(c, '*' | '?' | '.' | '/')))
    }

    /// Whether an entry with this name and shown path may match.
    fn matches(&self, name: &str, path: &str) -> bool {
        let names = self.names.is_empty() || self.names.iter().any(|(p, fold)| fnmatch(p, name, *fold));
        let paths = self.paths.is_empty() || self.paths.iter().any(|(p, fold)| fnmatch(p, path, *fold));
        names && paths
    }
}

/// Shell pattern matching as `find -name` and `-path` do it: `*` and `?` match any character, `/` included,
/// `[...]` a set; `fold` ignores case.
fn fnmatch(pattern: &str, text: &str, fold: bool) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = if fold {
        (pattern.to_lowercase().chars().collect(), text.to_lowercase().chars().collect())
    } else {
        (pattern.chars().collect(), text.chars().collect())
    };
    fn go(p: &[char], t: &[char]) -> bool {
        match p.first() {
            None => t.is_empty(),
            Some('*') => (0..=t.len()).any(|k| go(&p[1..], &t[k..])),
            Some('?') => !t.is_empty() && go(&p[1..], &t[1..]),
            Some('[') => {
                let Some(close) = p.iter().skip(2).position(|c| *c == ']').map(|x| x + 2) else {
                    return t.first() == Some(&'[') && go(&p[1..], &t[1..]);
                };
                let Some(c) = t.first() else { return false };
                let set = &p[1..close];
                let (neg, set) = match set.first() {
                    Some('!' | '^') => (true, &set[1..]),
                    _ => (false, set),
                };
                let mut hit = false;
                let mut k = 0;
                while k < set.len() {
                    if k + 2 < set.len() && set[k + 1] == '-' {
                        hit |= set[k] <= *c && *c <= set[k + 2];
                        k += 3;
                    } else {
                        hit |= set[k] == *c;
                        k += 1;
                    }
                }
                hit != neg && go(&p[close + 1..], &t[1..])
            }
            Some('\\') if p.len() > 1 => t.first() == Some(&p[1]) && go(&p[2..], &t[1..]),
            Some(c) => t.first() == Some(c) && go(&p[1..], &t[1..]),
        }
    }
    go(&p, &t)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, text: &str, expected: bool) {
        assert_eq!(fnmatch(pattern, text, false), expected, "{pattern} on {text}");
    }

    #[test]
    fn star_matches_dots_and_slashes() {
        check(".env*", ".env.local", true);
        check("*.rs", "main.rs", true);
        check("*.rs", "main.rsx", false);
        check("./src/*", "./src/a/b.rs", true);
        check("[ab].txt", "b.txt", true);
        check("[!ab].txt", "b.txt", false);
    }
}
