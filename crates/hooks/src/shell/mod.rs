//! Static analysis of shell commands with a real bash parser.
//!
//! The analyzer never runs anything. It parses the command with `brush-parser`, walks every simple command
//! (pipelines, lists, subshells, compound commands, command and process substitutions, `bash -c` and `eval`
//! strings recursively, wrapper commands, `xargs` and `find -exec` payloads) and describes what the command
//! would do as a list of [`Op`]s: the paths it reads, writes or deletes, the SQL it sends, the argv of every
//! command it runs. Whatever it cannot see statically becomes an [`Op::Deny`] or a dynamic [`Word`], so the
//! policy can fail closed.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use brush_parser::ast;

use crate::vocab::{Access, Op, RuleId, Word};
use table::{command_name, has_short_flag, unwrap_simple_wrappers};

mod cmdopts;
mod dispatch;
mod expand;
mod fileops;
mod files;
mod filetable;
mod find;
mod git;
pub(crate) mod gitrules;
mod interp;
mod options;
mod redirect;
mod runners;
mod scripts;
mod sed;
mod table;
#[cfg(test)]
mod tests;

/// How deep `bash -c`, `eval` and command substitutions may nest before the analyzer gives up (and denies).
const MAX_DEPTH: usize = 12;
/// How many values of a `for` loop the body is analyzed for before the loop variable counts as unknown.
const MAX_LOOP_VALUES: usize = 16;
/// The largest file whose text the analyzer reads (a script on standard input, `psql -f`, `git apply`).
const MAX_INSPECTED_FILE: u64 = 1 << 20;
/// How many script files (`sh s.sh`, `source s.sh`, `./s.sh`) one decision reads and analyzes.
const MAX_SCRIPTS: usize = 32;
/// The bytes at the start of an executed file that tell a shell script from a binary or another interpreter.
const SNIFF_BYTES: u64 = 512;

/// The word a process substitution (`<(cmd)`) stands for: a `/dev/fd` path known only at run time.
const PROCESS_SUBSTITUTION: &str = "<(...)";
/// The text that stands for a command substitution's output when it is not known (`$(brew shellenv)`).
const COMMAND_OUTPUT: &str = "$(...)";

/// Where a command's standard input comes from.
#[derive(Debug, Clone)]
enum Stdin {
    /// The terminal or nothing we know about.
    Inherited,
    /// Known text (here-document, here-string, `echo` upstream).
    Text(String),
    /// A here-document with an unquoted delimiter: the shell expands `raw` before the command reads it.
    /// `expanded` is that text when every expansion in it is known statically.
    Template { raw: String, expanded: Option<String> },
    /// Output of an upstream stage of a pipeline.
    Pipe(Upstream),
    /// A redirected file whose text cannot be inspected (a device, a FIFO, too large): why.
    Opaque(String),
}

/// What reading a file named on the command line found.
#[derive(Debug)]
enum FileText {
    /// The file's text (invalid UTF-8 replaced).
    Text(String),
    /// There is no such file, so the command reads nothing from it.
    Missing,
    /// The text cannot be inspected: why (a device, a FIFO, a folder, too large, unreadable, dynamic).
    Opaque(String),
}

/// What the analyzer knows about the stages before a command in a pipeline.
#[derive(Debug, Clone, Default)]
struct Upstream {
    /// The stage's command names, first to last.
    names: Vec<String>,
    /// Some stage decodes or downloads text (base64 -d, curl, wget, xxd -r, rev, openssl ... -d).
    decodes_or_downloads: bool,
    /// The last stage's output as text, when it is known (echo, printf without escapes).
    text: Option<String>,
    /// The last stage's output as path items (echo's words).
    items: Option<Vec<Word>>,
    /// The last stage lists files (`find`, `ls`), from this folder: walked only when a later stage uses them.
    listing: Option<Box<(Listing, Option<PathBuf>)>>,
}

/// What a pipeline stage tells the next one.
#[derive(Debug, Default)]
struct Summary {
    name: String,
    decodes: bool,
    text: Option<String>,
    items: Option<Vec<Word>>,
    listing: Option<Box<(Listing, Option<PathBuf>)>>,
}

/// A pipeline stage whose output is the files it finds or lists.
#[derive(Debug, Clone)]
enum Listing {
    Find(find::FindExpr),
    Ls(Vec<Word>),
}

/// The analysis state: variables, working directory and collected ops.
#[derive(Debug)]
pub(crate) struct Analyzer {
    vars: HashMap<String, Option<String>>,
    cwd: Option<PathBuf>,
    home: Option<String>,
    ops: Vec<Op>,
    depth: usize,
    /// The canonical project root: only scripts inside it are read.
    root: PathBuf,
    /// The canonical paths of the scripts being analyzed, outermost first (a script that runs itself is seen).
    scripts: Vec<PathBuf>,
    /// How many script files this analysis has read.
    scripts_read: usize,
    /// Above zero while walking the text of a script file. Such a script used to run unread; its text is
    /// checked for what it names concretely (a protected path, a secret, `rm -rf ~`, destructive SQL), but what
    /// it leaves to run time (a command or a path held in a variable, as build wrappers like `gradlew` do) is
    /// not judged, or every such wrapper would be refused.
    in_script_file: usize,
    /// Above zero while walking a string literal of interpreter code handed to a command-running function: a
    /// literal that does not parse as shell (SQL given to `db.exec`) is only text.
    lenient: usize,
    /// Aliases defined earlier in the command (`alias x='rm -rf ~'; x`): the agent's shell may expand them.
    aliases: HashMap<String, String>,
}

/// What reading a script that a command runs found.
#[derive(Debug)]
enum ScriptText {
    /// The canonical path and the text of a shell script inside the root.
    Text(PathBuf, String),
    /// Not inspected, as before: missing, outside the root, a folder, a binary or another interpreter's script.
    Skipped,
    /// A script inside the root whose text cannot be inspected: why.
    Opaque(String),
}

/// Analyzes `command` as bash would parse it, run from `cwd`, with the project root `root` (for
/// `$CLAUDE_PROJECT_DIR` and friends) and the user's home `home` (for `~` and `$HOME`).
pub(crate) fn analyze(
    command: &str,
    cwd: &Path,
    root: &Path,
    home: Option<&str>,
    tmpdir: Option<&str>,
) -> Vec<Op> {
    let mut vars = HashMap::new();
    let root_text = root.to_string_lossy().into_owned();
    for name in ["CLAUDE_PROJECT_DIR", "DEVIN_PROJECT_DIR", "GEMINI_PROJECT_DIR", "CURSOR_PROJECT_DIR"] {
        vars.insert(name.to_owned(), Some(root_text.clone()));
    }
    vars.insert("PWD".to_owned(), Some(cwd.to_string_lossy().into_owned()));
    vars.insert("IFS".to_owned(), Some(" \t\n".to_owned()));
    if let Some(h) = home {
        vars.insert("HOME".to_owned(), Some(h.to_owned()));
    }
    if let Some(t) = tmpdir {
        vars.insert("TMPDIR".to_owned(), Some(t.to_owned()));
    }
    let mut a = Analyzer::new(vars, cwd, root, home);
    a.script(command, Stdin::Inherited);
    a.ops
}

/// Analyzes an argv that is executed directly (no shell), as Codex may send it.
pub(crate) fn analyze_argv(argv: &[String], cwd: &Path, root: &Path, home: Option<&str>) -> Vec<Op> {
    let mut a = Analyzer::new(HashMap::new(), cwd, root, home);
    let words = argv.iter().map(Word::lit).collect();
    a.argv(words, Vec::new(), Stdin::Inherited);
    a.ops
}

pub(super) fn parser_options() -> brush_parser::ParserOptions {
    brush_parser::ParserOptions::default()
}

impl Analyzer {
    fn new(vars: HashMap<String, Option<String>>, cwd: &Path, root: &Path, home: Option<&str>) -> Self {
        Self {
            vars,
            cwd: Some(cwd.to_path_buf()),
            home: home.map(str::to_owned),
            ops: Vec::new(),
            depth: 0,
            root: root.to_path_buf(),
            scripts: Vec::new(),
            scripts_read: 0,
            in_script_file: 0,
            lenient: 0,
            aliases: HashMap::new(),
        }
    }

    fn deny(&mut self, reason: impl Into<String>) {
        self.deny_rule(RuleId::ShellUnresolvable, reason);
    }

    fn deny_rule(&mut self, rule: RuleId, reason: impl Into<String>) {
        // Inside a script file, what cannot be read statically is left to run, as it ran before scripts were read.
        if self.in_script_file > 0 && matches!(rule, RuleId::ShellUnresolvable | RuleId::ShellUnparseable) {
            return;
        }
        if self.lenient > 0 && rule == RuleId::ShellUnparseable {
            return;
        }
        self.ops.push(Op::Deny { rule, reason: reason.into() });
    }

    fn path(&mut self, access: Access, word: Word, via: &str) {
        if self.in_script_file > 0 && word.dynamic {
            return;
        }
        self.ops.push(Op::Path { access, word, cwd: self.cwd.clone(), via: via.to_owned() });
    }

    /// Parses and walks a whole script.
    fn script(&mut self, text: &str, stdin: Stdin) {
        if self.depth >= MAX_DEPTH {
            self.deny(format!("shell code nests deeper than {MAX_DEPTH} levels"));
            return;
        }
        if text.contains('\0') {
            self.deny("command contains a NUL byte");
            return;
        }
        let mut parser = brush_parser::Parser::new(std::io::Cursor::new(text.as_bytes()), &parser_options());
        let program = match parser.parse_program() {
            Ok(p) => p,
            Err(e) => {
                self.deny_rule(
                    RuleId::ShellUnparseable,
                    format!("the command cannot be parsed as bash ({e}); refusing what cannot be read"),
                );
                return;
            }
        };
        self.depth += 1;
        let saved_stdin = stdin;
        for list in &program.complete_commands {
            self.compound_list(list, &saved_stdin);
        }
        self.depth -= 1;
    }

    fn compound_list(&mut self, list: &ast::CompoundList, stdin: &Stdin) {
        for ast::CompoundListItem(and_or, _) in &list.0 {
            self.pipeline(&and_or.first, stdin);
            for next in &and_or.additional {
                match next {
                    ast::AndOr::And(p) | ast::AndOr::Or(p) => self.pipeline(p, stdin),
                }
            }
        }
    }

    fn pipeline(&mut self, p: &ast::Pipeline, stdin: &Stdin) {
        if p.seq.len() == 1 {
            self.command(&p.seq[0], stdin.clone());
            return;
        }
        let mut up = Upstream::default();
        for (i, cmd) in p.seq.iter().enumerate() {
            let input = if i == 0 { stdin.clone() } else { Stdin::Pipe(up.clone()) };
            let s = self.command(cmd, input).unwrap_or_default();
            up.names.push(s.name);
            up.decodes_or_downloads |= s.decodes;
            up.text = s.text;
            up.items = s.items;
            up.listing = s.listing;
        }
    }

    /// Walks one command; for a simple command returns what a downstream pipeline stage needs to know.
    fn command(&mut self, cmd: &ast::Command, stdin: Stdin) -> Option<Summary> {
        match cmd {
            ast::Command::Simple(s) => self.simple(s, stdin),
            ast::Command::Compound(c, redirects) => {
                let stdin = match redirects {
                    Some(r) => self.redirects(&r.0, stdin),
                    None => stdin,
                };
                self.compound(c, &stdin);
                None
            }
            ast::Command::Function(f) => {
                let ast::FunctionBody(body, redirects) = &f.body;
                if let Some(r) = redirects {
                    self.redirects(&r.0, Stdin::Inherited);
                }
                self.compound(body, &Stdin::Inherited);
                None
            }
            ast::Command::ExtendedTest(t, redirects) => {
                if let Some(r) = redirects {
                    self.redirects(&r.0, Stdin::Inherited);
                }
                self.extended_test(&t.expr);
                None
            }
        }
    }

    fn extended_test(&mut self, e: &ast::ExtendedTestExpr) {
        match e {
            ast::ExtendedTestExpr::And(a, b) | ast::ExtendedTestExpr::Or(a, b) => {
                self.extended_test(a);
                self.extended_test(b);
            }
            ast::ExtendedTestExpr::Not(a) | ast::ExtendedTestExpr::Parenthesized(a) => self.extended_test(a),
            ast::ExtendedTestExpr::UnaryTest(_, w) => {
                self.expand(&w.value);
            }
            ast::ExtendedTestExpr::BinaryTest(_, a, b) => {
                self.expand(&a.value);
                self.expand(&b.value);
            }
        }
    }

    fn compound(&mut self, c: &ast::CompoundCommand, stdin: &Stdin) {
        match c {
            ast::CompoundCommand::BraceGroup(g) => self.compound_list(&g.list, stdin),
            ast::CompoundCommand::Subshell(s) => {
                let (vars, cwd) = (self.vars.clone(), self.cwd.clone());
                self.compound_list(&s.list, stdin);
                self.vars = vars;
                self.cwd = cwd;
            }
            ast::CompoundCommand::IfClause(i) => {
                self.compound_list(&i.condition, stdin);
                self.compound_list(&i.then, stdin);
                for e in i.elses.iter().flatten() {
                    if let Some(c) = &e.condition {
                        self.compound_list(c, stdin);
                    }
                    self.compound_list(&e.body, stdin);
                }
            }
            ast::CompoundCommand::WhileClause(w) | ast::CompoundCommand::UntilClause(w) => {
                self.compound_list(&w.0, stdin);
                self.compound_list(&w.1.list, stdin);
            }
            ast::CompoundCommand::ForClause(f) => {
                let values: Vec<Word> = match &f.values {
                    Some(ws) => ws.iter().flat_map(|w| self.expand(&w.value)).collect(),
                    None => vec![Word::unknown("$@")],
                };
                if values.is_empty() {
                    return;
                }
                if values.len() > MAX_LOOP_VALUES || values.iter().any(|v| v.dynamic || v.glob) {
                    // The body sees an unknown value; a glob is kept as a glob so that file checks expand it.
                    if values.len() == 1 && values[0].glob && !values[0].dynamic {
                        self.loop_body_with(
                            &f.variable_name,
                            Some(values[0].text.clone()),
                            &f.body.list,
                            stdin,
                        );
                    } else {
                        self.loop_body_with(&f.variable_name, None, &f.body.list, stdin);
                    }
                    return;
                }
                for v in values {
                    self.loop_body_with(&f.variable_name, Some(v.text), &f.body.list, stdin);
                }
            }
            ast::CompoundCommand::ArithmeticForClause(f) => self.compound_list(&f.body.list, stdin),
            ast::CompoundCommand::CaseClause(c) => {
                self.expand(&c.value.value);
                for item in &c.cases {
                    if let Some(cmd) = &item.cmd {
                        self.compound_list(cmd, stdin);
                    }
                }
            }
            ast::CompoundCommand::Arithmetic(a) => self.arithmetic(&a.expr.value),
            ast::CompoundCommand::Coprocess(c) => {
                // A coprocess reads what later commands write to it (`>&${COPROC[1]}`), which is not seen here.
                let input =
                    Upstream { names: vec!["the coprocess's input".to_owned()], ..Upstream::default() };
                self.command(&c.body, Stdin::Pipe(input));
            }
        }
    }

    fn loop_body_with(&mut self, var: &str, value: Option<String>, body: &ast::CompoundList, stdin: &Stdin) {
        self.vars.insert(var.to_owned(), value);
        self.compound_list(body, stdin);
    }

    fn arithmetic(&mut self, text: &str) {
        if text.contains("$(") || text.contains('`') {
            self.deny("command substitution inside an arithmetic expression");
        }
    }

    /// Walks a simple command.
    #[allow(clippy::type_complexity)]
    fn simple(&mut self, s: &ast::SimpleCommand, stdin: Stdin) -> Option<Summary> {
        let mut assigns: Vec<(String, Option<String>)> = Vec::new();
        let mut redirects: Vec<ast::IoRedirect> = Vec::new();
        let mut words: Vec<Word> = Vec::new();
        let items = s.prefix.iter().flat_map(|p| p.0.iter());
        for item in items {
            match item {
                ast::CommandPrefixOrSuffixItem::AssignmentWord(a, _) => assigns.push(self.assignment(a)),
                ast::CommandPrefixOrSuffixItem::IoRedirect(r) => redirects.push(r.clone()),
                ast::CommandPrefixOrSuffixItem::Word(w) => words.extend(self.expand(&w.value)),
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, sub) => {
                    self.process_substitution(kind, sub);
                    words.push(Word::unknown(PROCESS_SUBSTITUTION));
                }
            }
        }
        let mut name_fields = 0;
        if let Some(w) = &s.word_or_name {
            let before = words.len();
            words.extend(self.expand(&w.value));
            if w.value.contains('$') {
                name_fields = words.len() - before;
            }
        }
        for item in s.suffix.iter().flat_map(|p| p.0.iter()) {
            match item {
                ast::CommandPrefixOrSuffixItem::AssignmentWord(_, w)
                | ast::CommandPrefixOrSuffixItem::Word(w) => words.extend(self.expand(&w.value)),
                ast::CommandPrefixOrSuffixItem::IoRedirect(r) => redirects.push(r.clone()),
                ast::CommandPrefixOrSuffixItem::ProcessSubstitution(kind, sub) => {
                    self.process_substitution(kind, sub);
                    words.push(Word::unknown(PROCESS_SUBSTITUTION));
                }
            }
        }
        let replaces_stdin = redirects.iter().any(|r| match r {
            ast::IoRedirect::File(
                fd,
                ast::IoFileRedirectKind::Read | ast::IoFileRedirectKind::ReadAndWrite,
                _,
            ) => {
                matches!(fd, None | Some(0))
            }
            ast::IoRedirect::HereDocument(fd, _) | ast::IoRedirect::HereString(fd, _) => {
                matches!(fd, None | Some(0))
            }
            _ => false,
        });
        if replaces_stdin && words.len() == 1 && command_name(&words[0].text) == "exec" {
            // `exec < file`: every later command of this shell reads the file, which is not followed here.
            self.deny(
                "`exec` with its standard input redirected feeds later commands text that is not followed",
            );
        }
        let stdin = self.redirects(&redirects, stdin);
        if words.is_empty() {
            for (name, value) in assigns {
                self.vars.insert(name, value);
            }
            return None;
        }
        let env: Vec<String> =
            assigns.iter().map(|(n, v)| format!("{n}={}", v.as_deref().unwrap_or("$?"))).collect();
        if name_fields > 1 && words.iter().all(|w| w.is_static()) {
            // A whole command held in a variable (`W='rm -rf ~'; $W`): judged as if its text were typed.
            let text = words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
            self.script(&text, Stdin::Inherited);
        }
        let mut summary = self.summarize(&words);
        summary.name = command_name(&words[0].text);
        self.argv(words, env, stdin);
        Some(summary)
    }

    /// What a pipeline stage made of `words` tells the next stage.
    fn summarize(&self, words: &[Word]) -> Summary {
        let (name, rest) = unwrap_simple_wrappers(words);
        let name = command_name(&name.text);
        let name = name.as_str();
        let flags: Vec<&str> = rest.iter().map(|w| w.text.as_str()).collect();
        let decodes = match name {
            "curl" | "wget" | "fetch" | "aria2c" | "rev" | "uudecode" => true,
            "base64" | "base32" | "basenc" => {
                flags.iter().any(|f| has_short_flag(f, 'd') || *f == "--decode")
            }
            "xxd" => flags.iter().any(|f| has_short_flag(f, 'r')),
            "openssl" => flags.iter().any(|f| *f == "-d" || *f == "-base64" || *f == "base64"),
            "gunzip" | "zcat" | "bzcat" | "xzcat" | "unxz" => true,
            _ => rest.iter().any(|w| w.dynamic) && name == "printf",
        };
        let text = match name {
            "echo" if rest.iter().all(|w| w.is_static()) => {
                let args: Vec<&str> =
                    rest.iter().map(|w| w.text.as_str()).filter(|a| !matches!(*a, "-n" | "-E")).collect();
                if rest.iter().any(|w| w.text == "-e") { None } else { Some(args.join(" ")) }
            }
            "printf" if rest.iter().all(|w| w.is_static() && !w.text.contains(['\\', '%'])) => {
                Some(rest.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" "))
            }
            _ => None,
        };
        let items = match name {
            "find" | "ls" => None,
            // What echo and a printf without directives or escapes print; anything else is unknown.
            "echo" if !rest.iter().any(|w| w.text.starts_with("-e")) => {
                Some(rest.iter().filter(|w| !w.text.starts_with('-')).cloned().collect())
            }
            "printf" if rest.iter().all(|w| !w.text.contains(['%', '\\'])) => {
                Some(rest.iter().filter(|w| !w.text.starts_with('-')).cloned().collect())
            }
            _ => None,
        };
        let listing = match name {
            "find" => Some(Listing::Find(find::FindExpr::parse(rest))),
            "ls" => Some(Listing::Ls(rest.to_vec())),
            _ => None,
        }
        .map(|l| Box::new((l, self.cwd.clone())));
        Summary { name: String::new(), decodes, text, items, listing }
    }
}
