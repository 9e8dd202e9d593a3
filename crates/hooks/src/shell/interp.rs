//! Interpreter code (`python -c`, `perl -e`, `node -e`, ...) and SQL clients.

use super::expand::ansi_c_decode;
use super::options::{Interp, OptSpec, interp, interp_args, parse_options};
use super::table::{basename, is_shell, operands, sql_client_flags};
use super::{Analyzer, FileText, Stdin};
use crate::vocab::{Access, Op, RuleId, Word};

impl Analyzer {
    /// An interpreter from the table (`python`, `perl`, `ruby`, `node`, `php`, ...): its inline code, the
    /// script it runs, the files `perl -i` edits in place, or a program on standard input.
    pub(super) fn interpreter(&mut self, name: &str, spec: &Interp, args: &[Word], stdin: &Stdin) {
        let parsed = interp_args(spec, args);
        if let Some(w) = &parsed.unknown_option {
            self.deny(format!(
                "`{name}` is given `{w}`, known only at run time, where it still reads options (it may be code or a module to load)"
            ));
            return;
        }
        if parsed.in_place {
            // `perl -i -e CODE FILES` / `perl -pi SCRIPT FILES`: every file operand is rewritten.
            // With inline code every operand is a file; with a script, the operands after it.
            for f in &parsed.operands {
                self.path(Access::Write, f.clone(), &format!("{name} -i"));
            }
        }
        for (flag, code) in &parsed.code {
            if code.dynamic {
                self.deny(format!("`{name} {flag}` runs code that cannot be resolved statically"));
            } else {
                self.code(name, &code.text);
            }
        }
        if !parsed.code.is_empty() || parsed.module {
            for a in &parsed.operands {
                self.read_arg(a.clone(), name, false);
            }
            return;
        }
        match &parsed.script {
            Some(s) if s.text == "-" && s.is_static() => {
                self.program_from_stdin(name, stdin, |a, text| a.code(name, text));
            }
            Some(s) if s.dynamic => self
                .deny(format!("`{name}` runs a script from `{}`, which cannot be read statically", s.text)),
            Some(s) => {
                self.read_arg(s.clone(), name, true);
                for a in &parsed.operands {
                    self.read_arg(a.clone(), name, false);
                }
            }
            None if spec.stdin_program => {
                self.program_from_stdin(name, stdin, |a, text| a.code(name, text));
            }
            None => {}
        }
    }

    /// Inline interpreter code: every string literal in it is treated as a path it may read, and as a path
    /// it may write or delete when the code calls file-changing functions. A literal handed to a function
    /// that runs a command (`os.system`, `subprocess`, `execSync`, `system`, backquotes) is analyzed as a
    /// shell command; one that does not parse as shell (SQL given to `db.exec`) is only text.
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
        let literals = string_literals(code);
        for lit in &literals {
            let w = Word::lit(lit.as_str());
            self.path(Access::Read, w.clone(), &via);
            if writes || recursive {
                self.path(Access::Write, w.clone(), &via);
            }
            if recursive {
                self.path(Access::Delete { recursive: true }, w, &via);
            }
        }
        let runs = ["system", "subprocess", "exec", "popen", "spawn", "passthru", "`", "qx", "%x", "Command"]
            .iter()
            .any(|k| code.contains(k));
        if runs {
            for lit in literals.iter().filter(|l| l.contains(' ')) {
                self.lenient += 1;
                self.script(lit, Stdin::Inherited);
                self.lenient -= 1;
            }
        }
    }

    /// `awk`, `gawk`, `mawk`, `nawk`: the program (the first operand, `-e`/`--source`, or a `-f` file) is code;
    /// `system("...")`, `"cmd" | getline` and `print | "cmd"` run commands, `getline < "f"` reads and
    /// `print > "f"` writes. A command built at run time is denied; the remaining operands are read.
    pub(super) fn awk(&mut self, name: &str, args: &[Word]) {
        let spec = OptSpec {
            short_value: "FvfeilE",
            short_glued: "",
            long_value: &[
                "--field-separator",
                "--assign",
                "--file",
                "--source",
                "--include",
                "--load",
                "--exec",
            ],
        };
        let (opts, first) = parse_options(args, &spec);
        let mut programs: Vec<Word> = Vec::new();
        let mut from_option = false;
        for o in &opts {
            let Some(v) = &o.value else { continue };
            match o.name.as_str() {
                "e" | "--source" => {
                    programs.push(v.clone());
                    from_option = true;
                }
                "f" | "--file" | "i" | "--include" | "E" | "--exec" => {
                    from_option = true;
                    self.read_arg(v.clone(), name, true);
                    match self.read_small_file(v) {
                        super::FileText::Text(t) => programs.push(Word::lit(t)),
                        super::FileText::Missing => {}
                        super::FileText::Opaque(why) => {
                            self.deny(format!("`{name}` runs a program from a file, and {why}"))
                        }
                    }
                }
                _ => {}
            }
        }
        let rest = &args[first..];
        let files = if from_option {
            rest
        } else {
            if let Some(p) = rest.first() {
                programs.push(p.clone());
            }
            rest.get(1..).unwrap_or(&[])
        };
        for p in programs {
            if p.dynamic {
                self.deny(format!("`{name}` runs a program that cannot be resolved statically"));
                continue;
            }
            self.awk_program(name, &p.text);
        }
        for f in files {
            // `var=value` operands are assignments, not files.
            if f.is_static() && f.text.contains('=') && !f.text.starts_with(['.', '/']) {
                continue;
            }
            self.read_arg(f.clone(), name, true);
        }
    }

    fn awk_program(&mut self, name: &str, code: &str) {
        let via = format!("{name} program");
        for (start, end, _) in string_literal_spans(code) {
            // awk decodes `\x20` and `\040` in its strings: `system("rm\x20-rf\x20/")` runs `rm -rf /`.
            let lit = ansi_c_decode(&code[start + 1..end - 1]);
            let before = code[..start].trim_end();
            let after = code[end..].trim_start();
            let is_command = before.ends_with("system(") || before.ends_with('|') || after.starts_with('|');
            let redirect = before.ends_with('>') && !before.ends_with("->");
            let reads = before.ends_with('<');
            if is_command {
                if before.ends_with('|') && !after.starts_with('|') {
                    // `print ... | "cmd"`: the command reads the program's output as its input.
                    let first = lit.split_whitespace().next().unwrap_or("");
                    if is_shell(basename(first)) || interp(basename(first)).is_some() {
                        self.deny(format!(
                            "`{name}` pipes text it builds at run time into `{first}`, which runs it as a program"
                        ));
                    }
                }
                self.script(&lit, Stdin::Inherited);
                continue;
            }
            if redirect {
                self.path(Access::Write, Word::lit(lit.as_str()), &via);
            } else if reads {
                self.read_arg(Word::lit(lit.as_str()), &via, false);
            } else {
                self.path(Access::Read, Word::lit(lit.as_str()), &via);
            }
        }
        // A command whose text is built at run time: `system(cmd)`, `system("rm " $1)`, `cmd | getline`.
        let mut rest = code;
        while let Some(at) = rest.find("system(") {
            let arg = &rest[at + "system(".len()..];
            let arg = arg.trim_start();
            let closes_literal = arg.starts_with('"')
                && arg[1..].find('"').is_some_and(|q| arg[1 + q + 1..].trim_start().starts_with(')'));
            if !closes_literal {
                self.deny(format!("`{name}` runs a command built at run time (`system(...)`)"));
                break;
            }
            rest = &rest[at + 1..];
        }
        let piped_var = code.match_indices('|').any(|(i, _)| {
            let after = code[i + 1..].trim_start();
            let before = code[..i].trim_end();
            let next_is_getline = after.starts_with("getline");
            (next_is_getline && !before.ends_with('"') && !before.ends_with('|'))
                || (!next_is_getline
                    && !after.starts_with('"')
                    && !after.starts_with('|')
                    && !before.ends_with('|')
                    && before.contains("print"))
        });
        if piped_var {
            self.deny(format!("`{name}` pipes into a command built at run time"));
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
                None if up.decodes_or_downloads => self.deny_rule(
                    RuleId::PipeToShell,
                    format!("decoded or downloaded text is piped into `{name}`"),
                ),
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
    string_literal_spans(code).into_iter().map(|(_, _, s)| s).collect()
}

/// The quoted string literals in a piece of program text, with the byte range of each (quotes included).
pub(super) fn string_literal_spans(code: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut it = code.char_indices();
    while let Some((start, c)) = it.next() {
        if c == '\'' || c == '"' || c == '`' {
            let mut s = String::new();
            let mut end = None;
            while let Some((at, d)) = it.next() {
                if d == '\\' {
                    if let Some((_, e)) = it.next() {
                        s.push(e);
                    }
                    continue;
                }
                if d == c {
                    end = Some(at + d.len_utf8());
                    break;
                }
                s.push(d);
            }
            if let Some(end) = end
                && !s.is_empty()
            {
                out.push((start, end, s));
            }
        }
    }
    out
}
