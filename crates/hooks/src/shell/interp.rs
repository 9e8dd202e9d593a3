//! Interpreter code (`python -c`, `perl -e`, `node -e`, ...) and SQL clients.

use super::table::{inline_code_flags, operands, reads_program_from_stdin, sql_client_flags};
use super::{Analyzer, FileText, Stdin};
use crate::vocab::{Access, Op, Word};

impl Analyzer {
    pub(super) fn inline_code(&mut self, name: &str, args: &[Word], stdin: &Stdin) {
        let flags = inline_code_flags(name);
        let mut found = false;
        let mut i = 0;
        while i < args.len() {
            let t = args[i].text.as_str();
            if flags.contains(&t) {
                found = true;
                match args.get(i + 1) {
                    Some(code) if code.dynamic => {
                        self.deny(format!("`{name} {t}` runs code that cannot be resolved statically"));
                    }
                    Some(code) => {
                        let code = code.text.clone();
                        self.code(name, &code);
                    }
                    None => {}
                }
                i += 2;
                continue;
            }
            if !t.starts_with('-') {
                break;
            }
            i += 1;
        }
        if found {
            return;
        }
        let script = operands(args, &["-m", "-W", "-X", "-I", "-r", "--require", "-M"]).into_iter().next();
        match script {
            Some(s) if s.text == "-" => {
                self.program_from_stdin(name, stdin, |a, text| a.code(name, text));
            }
            Some(s) if s.dynamic => self
                .deny(format!("`{name}` runs a script from `{}`, which cannot be read statically", s.text)),
            Some(s) => self.read_arg(s.clone(), name, true),
            None if reads_program_from_stdin(name) && !args.iter().any(|a| a.text == "-m") => {
                self.program_from_stdin(name, stdin, |a, text| a.code(name, text));
            }
            None => {}
        }
    }

    /// Inline interpreter code: every string literal in it is treated as a path it may read, and as a path
    /// it may write or delete when the code calls file-changing functions.
    pub(super) fn code(&mut self, name: &str, code: &str) {
        let via = format!("{name} inline code");
        let writes = [
            "open(",
            "write",
            "unlink",
            "remove",
            "rename",
            "shutil",
            "os.system",
            "subprocess",
            "fs.",
            "File.",
            "system(",
            "exec",
            "copy",
            "move",
            "`",
        ]
        .iter()
        .any(|k| code.contains(k));
        let recursive = ["rmtree", "rmSync", "rm_rf", "rimraf", "remove_dir_all", "rmdir", "recursive"]
            .iter()
            .any(|k| code.contains(k));
        for lit in string_literals(code) {
            let w = Word::lit(lit);
            self.path(Access::Read, w.clone(), &via);
            if writes || recursive {
                self.path(Access::Write, w.clone(), &via);
            }
            if recursive {
                self.path(Access::Delete { recursive: true }, w, &via);
            }
            // Commands handed to a shell from inside the code.
        }
        for lit in string_literals(code) {
            if (code.contains("system") || code.contains("subprocess") || code.contains("exec"))
                && lit.contains(' ')
            {
                self.script(&lit, Stdin::Inherited);
            }
        }
    }

    pub(super) fn sql_client(&mut self, name: &str, args: &[Word], stdin: &Stdin) {
        let Some((text_flags, file_flags)) = sql_client_flags(name) else { return };
        let via = name.to_owned();
        for (i, a) in args.iter().enumerate() {
            let t = a.text.as_str();
            let value = |flags: &[&str]| -> Option<Word> {
                for f in flags {
                    if t == *f {
                        return args.get(i + 1).cloned();
                    }
                    if let Some(v) = t.strip_prefix(&format!("{f}=")) {
                        return Some(Word { text: v.to_owned(), ..a.clone() });
                    }
                }
                None
            };
            if let Some(v) = value(text_flags) {
                if v.dynamic {
                    self.deny(format!("`{name}` runs SQL that cannot be resolved statically"));
                } else {
                    self.ops.push(Op::Sql { text: v.text, via: via.clone() });
                }
            }
            if let Some(v) = value(file_flags) {
                self.read_arg(v.clone(), name, true);
                match self.read_small_file(&v) {
                    FileText::Text(text) => {
                        self.ops.push(Op::Sql { text, via: format!("{name} file {}", v.text) })
                    }
                    FileText::Opaque(why) => self.deny(format!("`{name}` runs SQL from a file, and {why}")),
                    FileText::Missing => {}
                }
            }
        }
        // sqlite3 DB "SQL" and duckdb DB "SQL": positional SQL after the database.
        if matches!(name, "sqlite3" | "sqlite" | "duckdb") {
            let ops = operands(args, &["-cmd", "-separator", "-newline", "-nullvalue"]);
            for extra in ops.iter().skip(1) {
                if extra.dynamic {
                    self.deny(format!("`{name}` runs SQL that cannot be resolved statically"));
                } else {
                    self.ops.push(Op::Sql { text: extra.text.clone(), via: via.clone() });
                }
            }
        }
        match stdin {
            Stdin::Text(t) | Stdin::Template { raw: t, .. } => {
                self.ops.push(Op::Sql { text: t.clone(), via: format!("{name} standard input") })
            }
            Stdin::Pipe(up) => match &up.text {
                Some(t) => self.ops.push(Op::Sql { text: t.clone(), via: format!("{name} standard input") }),
                None if up.decodes_or_downloads => self
                    .deny_rule("pipe-to-shell", format!("decoded or downloaded text is piped into `{name}`")),
                None => {}
            },
            Stdin::Opaque(why) => self.deny(format!("`{name}` runs SQL read from standard input, and {why}")),
            Stdin::Inherited => {}
        }
        self.generic_reads(name, args);
    }
}

/// The quoted string literals in a piece of program text.
pub(super) fn string_literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut it = code.chars();
    while let Some(c) = it.next() {
        if c == '\'' || c == '"' || c == '`' {
            let mut s = String::new();
            let mut closed = false;
            while let Some(d) = it.next() {
                if d == '\\' {
                    if let Some(e) = it.next() {
                        s.push(e);
                    }
                    continue;
                }
                if d == c {
                    closed = true;
                    break;
                }
                s.push(d);
            }
            if closed && !s.is_empty() {
                out.push(s);
            }
        }
    }
    out
}
