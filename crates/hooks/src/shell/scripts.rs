//! Script files a command runs (`sh s.sh`, `source s.sh`, `./s.sh`), read and walked like `bash -c`.

use std::path::{Path, PathBuf};

use super::table::{basename, is_shell};
use super::{Analyzer, MAX_INSPECTED_FILE, MAX_SCRIPTS, SNIFF_BYTES, ScriptText, Stdin};
use crate::vocab::Word;

impl Analyzer {
    /// Analyzes the shell script `w` that a command runs (`sh w`, `source w`, `./w`): a regular file inside the
    /// root is read (at most 1 MiB) and walked like a `bash -c` string. `child` when it runs in a new process
    /// (its variables and `cd` do not come back). A file inside the root that cannot be read is denied.
    pub(super) fn run_script(&mut self, w: &Word, via: &str, direct: bool, child: bool) {
        match self.script_file(w, direct) {
            ScriptText::Skipped => {}
            ScriptText::Opaque(why) => self
                .deny(format!("`{via}` runs the script `{}`, whose text cannot be inspected: {why}", w.text)),
            ScriptText::Text(canon, text) => {
                if self.scripts.contains(&canon) {
                    self.deny(format!(
                        "the script `{}` runs itself, and its recursion cannot be followed statically",
                        w.text
                    ));
                    return;
                }
                if self.scripts_read > MAX_SCRIPTS {
                    self.deny(format!(
                        "the command runs more than {MAX_SCRIPTS} scripts, too many to inspect"
                    ));
                    return;
                }
                self.scripts.push(canon);
                let saved = child.then(|| (self.vars.clone(), self.cwd.clone()));
                self.in_script_file += 1;
                self.script(&text, Stdin::Inherited);
                self.in_script_file -= 1;
                if let Some((vars, cwd)) = saved {
                    self.vars = vars;
                    self.cwd = cwd;
                }
                self.scripts.pop();
            }
        }
    }

    /// Reads the script a command runs. Only a file inside the root is read; `direct` (run by its path, so
    /// the kernel picks the interpreter) skips binaries and scripts of other interpreters by their first bytes.
    pub(super) fn script_file(&mut self, w: &Word, direct: bool) -> ScriptText {
        use std::io::Read;

        if w.dynamic || w.glob {
            return ScriptText::Skipped;
        }
        let p = Path::new(&w.text);
        let p = match (p.is_absolute(), &self.cwd) {
            (true, _) => p.to_path_buf(),
            (false, Some(cwd)) => cwd.join(p),
            (false, None) => return ScriptText::Skipped,
        };
        let canon = match std::fs::canonicalize(&p) {
            Ok(c) => c,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return ScriptText::Skipped,
            Err(e) if lexically_inside(&p, &self.root) => {
                return ScriptText::Opaque(format!("it cannot be resolved ({e})"));
            }
            Err(_) => return ScriptText::Skipped,
        };
        if !canon.starts_with(&self.root) {
            return ScriptText::Skipped;
        }
        // A sourced `.env` is denied as a secret read; its values are not to be quoted in a deny reason.
        let name = canon.file_name().map(|n| n.to_string_lossy().to_lowercase()).unwrap_or_default();
        if name == ".env" || name.starts_with(".env.") {
            return ScriptText::Skipped;
        }
        let meta = match std::fs::metadata(&canon) {
            Ok(m) => m,
            Err(e) => return ScriptText::Opaque(format!("it cannot be inspected ({e})")),
        };
        if meta.is_dir() {
            return ScriptText::Skipped;
        }
        if !meta.is_file() {
            return ScriptText::Opaque("it is not a regular file".to_owned());
        }
        let file = match std::fs::File::open(&canon) {
            Ok(f) => f,
            Err(e) => return ScriptText::Opaque(format!("it cannot be read ({e})")),
        };
        // The file may have been swapped since the check above: look again at what was opened.
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return ScriptText::Opaque("it is not a regular file".to_owned());
        }
        self.scripts_read += 1;
        let mut file = file.take(MAX_INSPECTED_FILE + 1);
        let mut bytes = Vec::new();
        if let Err(e) = (&mut file).take(SNIFF_BYTES).read_to_end(&mut bytes) {
            return ScriptText::Opaque(format!("it cannot be read ({e})"));
        }
        if direct && !runs_as_shell(&bytes) {
            return ScriptText::Skipped;
        }
        if meta.len() > MAX_INSPECTED_FILE {
            return ScriptText::Opaque(format!("it is larger than {MAX_INSPECTED_FILE} bytes"));
        }
        if let Err(e) = file.read_to_end(&mut bytes) {
            return ScriptText::Opaque(format!("it cannot be read ({e})"));
        }
        if bytes.len() as u64 > MAX_INSPECTED_FILE {
            return ScriptText::Opaque(format!("it is larger than {MAX_INSPECTED_FILE} bytes"));
        }
        ScriptText::Text(canon, String::from_utf8_lossy(&bytes).into_owned())
    }
}

/// Whether a file run by its path is interpreted by a shell, from its first bytes: a `#!` line naming a
/// shell (directly or through `env`), or text without one (the calling shell runs such a file itself).
/// Binaries (a NUL byte, an ELF header) and scripts of other interpreters are not.
pub(super) fn runs_as_shell(head: &[u8]) -> bool {
    if let Some(line) = head.strip_prefix(b"#!") {
        let line = line.split(|b| *b == b'\n').next().unwrap_or(line);
        let line = String::from_utf8_lossy(line);
        let mut words = line.split_whitespace();
        let Some(interp) = words.next() else { return true };
        let interp = basename(interp);
        if interp == "env" {
            return words
                .find(|w| !w.starts_with('-') && !w.contains('='))
                .is_some_and(|w| is_shell(basename(w)));
        }
        return is_shell(interp);
    }
    !head.contains(&0) && !head.starts_with(b"\x7fELF")
}

/// Whether `p` (absolute) lies inside `root` once `.` and `..` are applied to it as text.
pub(super) fn lexically_inside(p: &Path, root: &Path) -> bool {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out.starts_with(root)
}
