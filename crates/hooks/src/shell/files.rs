//! Commands that read files: small files a command runs or applies, generic readers and searches, `@file`
//! uploads; and the links that copies make (the copies themselves are rows of the file table, `filetable`).

use std::path::Path;

use super::table::{basename, known_reader, never_reads_args, operands, reads_recursively};
use super::{Analyzer, FileText, MAX_INSPECTED_FILE, PROCESS_SUBSTITUTION};
use crate::vocab::{Access, Op, Word};

impl Analyzer {
    /// Reads a regular file of at most [`MAX_INSPECTED_FILE`] bytes. Devices and FIFOs are never opened
    /// (`/dev/zero` never ends, a FIFO blocks), so the hook always answers before the runtime's timeout.
    pub(super) fn read_small_file(&self, w: &Word) -> FileText {
        use std::io::Read;

        if w.dynamic {
            return FileText::Opaque(format!("`{}` cannot be resolved statically", w.text));
        }
        if w.text == "/dev/null" {
            return FileText::Text(String::new());
        }
        let p = Path::new(&w.text);
        let p = match (p.is_absolute(), &self.cwd) {
            (true, _) => p.to_path_buf(),
            (false, Some(cwd)) => cwd.join(p),
            (false, None) => {
                return FileText::Opaque(format!("`{}` is relative to an unknown folder", w.text));
            }
        };
        let opaque = |why: String| FileText::Opaque(format!("`{}` {why}", w.text));
        let meta = match std::fs::metadata(&p) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return FileText::Missing,
            Err(e) => return opaque(format!("cannot be inspected ({e})")),
        };
        if !meta.is_file() {
            return opaque("is not a regular file, so its content cannot be inspected".to_owned());
        }
        if meta.len() > MAX_INSPECTED_FILE {
            return opaque(format!("is larger than {MAX_INSPECTED_FILE} bytes, too large to inspect"));
        }
        let file = match std::fs::File::open(&p) {
            Ok(f) => f,
            Err(e) => return opaque(format!("cannot be read ({e})")),
        };
        // The file may have been swapped since the check above: look again at what was opened.
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return opaque("is not a regular file, so its content cannot be inspected".to_owned());
        }
        let mut bytes = Vec::new();
        if let Err(e) = file.take(MAX_INSPECTED_FILE + 1).read_to_end(&mut bytes) {
            return opaque(format!("cannot be read ({e})"));
        }
        if bytes.len() as u64 > MAX_INSPECTED_FILE {
            return opaque(format!("is larger than {MAX_INSPECTED_FILE} bytes, too large to inspect"));
        }
        FileText::Text(String::from_utf8_lossy(&bytes).into_owned())
    }

    /// `ln SRC... DEST`: each link points at its source, and a later write through the link changes the
    /// source, so the source must be a path that may be written (inside the root, not protected). A relative
    /// `ln -s` target is resolved from the link's own folder, as the kernel will.
    pub(super) fn link_targets(
        &mut self,
        soft: bool,
        from_cwd: bool,
        sources: &[&Word],
        dest: Option<&Word>,
        target_dir: Option<&Word>,
    ) {
        let link_dir: Option<Word> = match (target_dir, dest) {
            (Some(d), _) => Some(d.clone()),
            (None, Some(d)) if self.is_existing_dir(d) => Some(d.clone()),
            (None, Some(d)) => {
                let t = d.text.trim_end_matches('/');
                let parent = match t.rsplit_once('/') {
                    Some(("", _)) => "/",
                    Some((p, _)) => p,
                    None => ".",
                };
                Some(Word { text: parent.to_owned(), ..d.clone() })
            }
            (None, None) => None,
        };
        for s in sources {
            let target = match &link_dir {
                Some(dir) if soft && !from_cwd && !Path::new(&s.text).is_absolute() => Word {
                    text: format!("{}/{}", dir.text.trim_end_matches('/'), s.text),
                    dynamic: dir.dynamic || s.dynamic,
                    glob: s.glob,
                },
                _ => (*s).clone(),
            };
            let link = dest.or(target_dir).map(|d| d.text.as_str()).unwrap_or(".");
            self.path(Access::LinkTarget, target.clone(), &format!("writing through the link `{link}`"));
            if soft && let Some(dir) = &link_dir {
                let base = basename(s.text.trim_end_matches('/'));
                let link = match dest {
                    Some(d) if target_dir.is_none() && !self.is_existing_dir(d) => d.clone(),
                    _ => Word {
                        text: format!("{}/{base}", dir.text.trim_end_matches('/')),
                        dynamic: dir.dynamic,
                        glob: dir.glob,
                    },
                };
                self.ops.push(Op::Link { link, target, cwd: self.cwd.clone() });
            }
        }
    }

    pub(super) fn is_existing_dir(&self, w: &Word) -> bool {
        if w.dynamic {
            return false;
        }
        let p = Path::new(&w.text);
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.cwd.as_ref().map(|c| c.join(p)).unwrap_or_default()
        };
        p.is_dir()
    }

    pub(super) fn dir_flags(&mut self, name: &str, args: &[Word]) {
        for (i, a) in args.iter().enumerate() {
            let is_dir_flag = match name {
                "make" | "gmake" => a.text == "-C" || a.text == "--directory",
                "npm" | "pnpm" | "yarn" => a.text == "--prefix" || a.text == "--cwd" || a.text == "-C",
                _ => false,
            };
            if is_dir_flag && let Some(d) = args.get(i + 1) {
                self.path(Access::Write, d.clone(), &format!("{name} {}", a.text));
            }
        }
    }

    /// Every operand of a generic command might be a file it reads.
    pub(super) fn generic_reads(&mut self, name: &str, args: &[Word]) {
        if never_reads_args(name) {
            return;
        }
        let strict = known_reader(name);
        // A search's first operand is its pattern, not a file (`rg id_rsa src/`), unless -e or -f gave one.
        let pattern = search_pattern(name, args);
        for (i, a) in args.iter().enumerate() {
            if Some(i) == pattern {
                continue;
            }
            self.read_arg(a.clone(), name, strict);
        }
        if reads_recursively(name, args) {
            let searches_cwd = pattern.is_some_and(|p| {
                args[p + 1..].iter().all(|w| w.text.starts_with('-') && w.text.len() > 1 && w.is_static())
            });
            if searches_cwd {
                // `grep -r PATTERN` and `rg --hidden PATTERN` search the working directory.
                self.path(Access::ReadTree, Word::lit("."), &format!("{name} (recursive)"));
            }
            for a in operands(
                args,
                &[
                    "-f",
                    "-e",
                    "-C",
                    "--file",
                    "--directory",
                    "-m",
                    "--max-count",
                    "-A",
                    "-B",
                    "--exclude",
                    "--include",
                    "-g",
                    "--glob",
                    "-t",
                    "--type",
                ],
            ) {
                let is_pattern = pattern.is_some_and(|p| std::ptr::eq(a, &args[p]));
                if a.is_static() && !is_pattern {
                    self.path(Access::ReadTree, a.clone(), &format!("{name} (recursive)"));
                }
            }
        }
    }

    /// Records a possible read of `a`, and of the paths inside `--opt=PATH`, `@PATH` and `REV:PATH` forms.
    pub(super) fn read_arg(&mut self, a: Word, name: &str, strict: bool) {
        if a.dynamic && a.text == PROCESS_SUBSTITUTION {
            // `diff <(ls) <(ls -la)`: the output of a command already walked, not a file on disk.
            return;
        }
        if a.dynamic {
            if strict {
                self.deny(format!("`{name}` reads `{}`, which cannot be resolved statically", a.text));
            }
            return;
        }
        let mut candidates = vec![a.text.clone()];
        if let Some((_, v)) = a.text.split_once('=') {
            candidates.push(v.to_owned());
        }
        if let Some(v) = a.text.strip_prefix('@') {
            candidates.push(v.to_owned());
        }
        // Uploads: `curl -F f=@.env`, `-F 'f=<.env;type=text/plain'`, `--data-urlencode name@file`.
        for mark in ['@', '<'] {
            if let Some((_, v)) = a.text.split_once(mark) {
                let v = v.split(';').next().unwrap_or(v);
                candidates.push(v.to_owned());
            }
        }
        if let Some((_, v)) = a.text.rsplit_once(':') {
            candidates.push(v.to_owned());
        }
        if let Some(v) = a.text.strip_prefix("-") {
            // `-f.env`-style glued option values.
            let mut chars = v.chars();
            if chars.next().is_some_and(|c| c != '-') && !chars.as_str().is_empty() {
                candidates.push(chars.as_str().to_owned());
            }
        }
        for c in candidates {
            if c.is_empty() || c.starts_with('-') && c == a.text {
                continue;
            }
            self.path(Access::Read, Word { text: c, dynamic: false, glob: a.glob }, name);
        }
    }
}

/// The index of the pattern operand of a search command (`grep`, `rg`, ...): its first operand when no
/// `-e`/`--regexp`/`-f`/`--file` gives the pattern.
fn search_pattern(name: &str, args: &[Word]) -> Option<usize> {
    if !matches!(name, "grep" | "egrep" | "fgrep" | "zgrep" | "rg" | "ag" | "ack" | "git-grep")
        || args.iter().any(|a| matches!(a.text.as_str(), "--files" | "--type-list") && name != "grep")
    {
        // `rg --files DIR` takes no pattern: every operand is a path.
        return None;
    }
    // Short letters that take a value (the rest of the cluster or the next word); `e` and `f` give the pattern.
    let value_letters = if name == "rg" { "mABCgtTjMrdE" } else { "mABCdD" };
    const LONG_VALUE: &[&str] = &[
        "--max-count",
        "--glob",
        "--type",
        "--type-not",
        "--include",
        "--exclude",
        "--exclude-dir",
        "--threads",
        "--max-depth",
        "--replace",
        "--encoding",
        "--context",
        "--after-context",
        "--before-context",
        "--max-columns",
    ];
    // GNU grep and rg take options after operands: a pattern option anywhere means no pattern operand.
    let mut first_operand = None;
    let mut i = 0;
    while i < args.len() {
        let t = args[i].text.as_str();
        i += 1;
        if t == "--" {
            return first_operand.or((i < args.len()).then_some(i));
        }
        if matches!(t, "--regexp" | "--file") || t.starts_with("--regexp=") || t.starts_with("--file=") {
            return None;
        }
        if let Some(long) = t.strip_prefix("--") {
            if LONG_VALUE.contains(&long.split('=').next().unwrap_or(long)) && !long.contains('=') {
                i += 1;
            }
            continue;
        }
        if t.len() > 1 && t.starts_with('-') {
            for (at, c) in t[1..].char_indices() {
                if c == 'e' || c == 'f' {
                    return None;
                }
                if value_letters.contains(c) {
                    if t[1 + at + c.len_utf8()..].is_empty() {
                        i += 1;
                    }
                    break;
                }
            }
            continue;
        }
        first_operand.get_or_insert(i - 1);
    }
    first_operand
}
