//! Commands that run another command over a list of items: `xargs` and GNU `parallel` (`find -exec` is in
//! `find`), with the items an upstream stage hands them.

use super::options::{OptSpec, parse_options};
use super::{Analyzer, Listing, Stdin};
use crate::vocab::Word;

/// An item `xargs` or `parallel` hands its command that is known only at run time (read from a pipe or a
/// file): any word at all, an option included. Written as a quoted variable so that shell text around it
/// parses as one unknown word.
pub(super) const UNKNOWN_ITEM: &str = "\"${item}\"";

/// Whether `w` holds an item known only at run time where it may be an option: at its start
/// (`"${item}"`, `"${item}"x`), or in a word that is an option already (`--ha"${item}"`); `./"${item}"` cannot
/// be one.
pub(super) fn may_be_option(w: &Word) -> bool {
    w.dynamic
        && (w.text.starts_with(UNKNOWN_ITEM) || (w.text.starts_with('-') && w.text.contains(UNKNOWN_ITEM)))
}

/// `xargs` options: the short letters and long names that take a value, and the optional glued ones.
const XARGS: OptSpec = OptSpec {
    short_value: "adEILnPs",
    short_glued: "eil",
    long_value: &[
        "--arg-file",
        "--delimiter",
        "--max-args",
        "--max-procs",
        "--max-chars",
        "--process-slot-var",
    ],
};

/// The `xargs` options that take no value (anything else is not understood, and refused).
const XARGS_FLAGS: &[&str] = &[
    "0",
    "o",
    "p",
    "r",
    "t",
    "x",
    "--null",
    "--open-tty",
    "--interactive",
    "--no-run-if-empty",
    "--verbose",
    "--exit",
    "--show-limits",
    "--help",
    "--version",
    "--eof",
    "--replace",
    "--max-lines",
];

/// GNU `parallel` options that take a value.
const PARALLEL_VALUE: &[&str] = &[
    "-j",
    "--jobs",
    "-P",
    "--max-procs",
    "-S",
    "--sshlogin",
    "--slf",
    "--sshloginfile",
    "--joblog",
    "--results",
    "--res",
    "--tmpdir",
    "--tempdir",
    "-a",
    "--arg-file",
    "--colsep",
    "-C",
    "-d",
    "--delimiter",
    "-E",
    "-I",
    "--tag-string",
    "--tagstring",
    "-n",
    "--max-args",
    "-N",
    "--max-replace-args",
    "-L",
    "--max-lines",
    "--timeout",
    "--delay",
    "--retries",
    "--halt",
    "--halt-on-error",
    "--memfree",
    "--load",
    "--env",
    "--basefile",
    "--bf",
    "--return",
    "--workdir",
    "--wd",
    "--block",
    "--block-size",
    "--shebang-wrap",
    "--seqreplace",
    "--termseq",
    "--nice",
    "--rpl",
    "--sqlmaster",
    "--sqlworker",
    "--limit",
    "--ssh",
    "--transferfile",
    "--tf",
    "--header",
    "--plus",
    "--resume-failed",
    "-s",
    "--max-chars",
    "--progress-bar",
];

/// GNU `parallel` options after which nothing runs.
const PARALLEL_NO_RUN: &[&str] = &[
    "--version",
    "-V",
    "--help",
    "-h",
    "--dry-run",
    "--dryrun",
    "--citation",
    "--number-of-cpus",
    "--number-of-cores",
    "--number-of-sockets",
    "--number-of-threads",
    "--max-line-length-allowed",
    "--minversion",
    "--record-env",
    "--embed",
];

impl Analyzer {
    /// The items a command reads from standard input, as `xargs` and `parallel` split them: the files an
    /// upstream `find` or `ls` hands on (walked now), an `echo`'s words, text; else one unknown item.
    fn stdin_items(&self, stdin: &Stdin) -> Vec<Word> {
        match stdin {
            Stdin::Pipe(up) => match up.listing.as_deref() {
                Some((Listing::Find(expr), cwd)) => self.find_items(expr, cwd.as_deref()),
                Some((Listing::Ls(args), cwd)) => self.ls_items(args, cwd.as_deref()),
                None => up.items.clone().unwrap_or_else(|| vec![Word::unknown(UNKNOWN_ITEM)]),
            },
            Stdin::Text(t) | Stdin::Template { raw: t, .. } => t.split_whitespace().map(Word::lit).collect(),
            Stdin::Inherited | Stdin::Opaque(_) => vec![Word::unknown(UNKNOWN_ITEM)],
        }
    }

    /// `xargs [OPTIONS] [COMMAND [ARGS]]`: the command runs with the items read on standard input appended, or
    /// put in place of the replace string (`-I R`, `-i`, `--replace`). An option it does not know is refused,
    /// since it may take a value that would be read as the command.
    pub(super) fn xargs(&mut self, args: &[Word], env: Vec<String>, stdin: &Stdin) {
        let (opts, first) = parse_options(args, &XARGS);
        let mut replace: Option<String> = None;
        for o in &opts {
            match o.name.as_str() {
                "I" => replace = o.value.as_ref().map(|v| v.text.clone()),
                "i" | "--replace" => {
                    let r = o.value.as_ref().map(|v| v.text.clone()).filter(|r| !r.is_empty());
                    replace = Some(r.unwrap_or_else(|| "{}".to_owned()));
                }
                "a" | "--arg-file" => {
                    if let Some(f) = &o.value {
                        self.read_arg(f.clone(), "xargs", true);
                    }
                }
                n if XARGS_FLAGS.contains(&n) => {}
                n if XARGS.short_value.contains(n) || XARGS.short_glued.contains(n) => {}
                n if XARGS.long_value.contains(&n) => {}
                other => {
                    let shown = if other.starts_with("--") { other.to_owned() } else { format!("-{other}") };
                    self.deny(format!(
                        "`xargs {shown}` is an option this hook does not know, so the command it runs cannot be told"
                    ));
                    return;
                }
            }
        }
        if opts.iter().any(|o| matches!(o.name.as_str(), "--help" | "--version" | "--show-limits")) {
            return;
        }
        let mut cmd: Vec<Word> = args[first..].to_vec();
        if cmd.is_empty() {
            cmd.push(Word::lit("echo"));
        }
        // With `-a FILE` the items are the file's lines, not standard input.
        let from_file = opts.iter().any(|o| matches!(o.name.as_str(), "a" | "--arg-file"));
        let items = if from_file { vec![Word::unknown(UNKNOWN_ITEM)] } else { self.stdin_items(stdin) };
        match replace {
            Some(r) => {
                for item in &items {
                    let replaced = cmd.iter().map(|w| substitute(w, &r, item)).collect();
                    self.argv(replaced, env.clone(), Stdin::Inherited);
                }
            }
            None => {
                cmd.extend(items);
                self.argv(cmd, env, Stdin::Inherited);
            }
        }
    }

    /// GNU `parallel [OPTIONS] COMMAND ::: ARGS`: the command line, with each argument put in place of `{}`
    /// (and `{.}`, `{/}`, `{1}`, ...) or appended, runs through a shell in `--workdir`. Without `:::` the
    /// arguments come from standard input or `::::` files; without a command the arguments are the commands.
    pub(super) fn parallel(&mut self, args: &[Word], stdin: &Stdin) {
        let mut i = 0;
        let mut workdir: Option<Word> = None;
        while i < args.len() {
            let a = &args[i];
            let t = a.text.as_str();
            if t == "--" {
                i += 1;
                break;
            }
            if !t.starts_with('-') || t.starts_with(":::") || a.dynamic {
                break;
            }
            let (name, glued) = match t.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(Word { text: v.to_owned(), ..a.clone() })),
                _ => (t, None),
            };
            if PARALLEL_NO_RUN.contains(&name) {
                return;
            }
            i += 1;
            let value = if glued.is_some() {
                glued
            } else if PARALLEL_VALUE.contains(&name) {
                i += 1;
                args.get(i - 1).cloned()
            } else {
                // `-j4`, `-I{}`: a short option with its value glued.
                name.get(..2)
                    .filter(|s| name.len() > 2 && !name.starts_with("--") && PARALLEL_VALUE.contains(s))
                    .map(|short| Word { text: name[short.len()..].to_owned(), ..a.clone() })
            };
            let short = match name.get(..2) {
                Some(s) if name.len() > 2 && !name.starts_with("--") => s,
                _ => name,
            };
            match short {
                "--workdir" | "--wd" => workdir = value,
                "-a" | "--arg-file" => {
                    if let Some(f) = value {
                        self.read_arg(f, "parallel", true);
                    }
                }
                _ => {}
            }
        }
        let rest = &args[i.min(args.len())..];
        let split = rest.iter().position(|w| w.text.starts_with(":::")).unwrap_or(rest.len());
        let command = &rest[..split];
        let mut sources: Vec<Vec<Word>> = Vec::new();
        let mut j = split;
        while j < rest.len() {
            let sep = rest[j].text.clone();
            let end = rest[j + 1..]
                .iter()
                .position(|w| w.text.starts_with(":::"))
                .map_or(rest.len(), |p| j + 1 + p);
            let values = rest[j + 1..end].to_vec();
            if sep.starts_with("::::") {
                // Arguments read from files: the files are read, their lines are unknown here.
                for f in &values {
                    self.read_arg(f.clone(), "parallel", true);
                }
                sources.push(vec![Word::unknown(UNKNOWN_ITEM)]);
            } else {
                sources.push(values);
            }
            j = end;
        }
        if sources.is_empty() {
            sources.push(self.stdin_items(stdin));
        }
        let saved = self.cwd.clone();
        if let Some(d) = &workdir {
            if d.is_static() && d.text == "..." {
                self.cwd = None;
            } else {
                self.cd(std::slice::from_ref(d));
            }
        }
        // Every argument of every source, each on its own: enough to see what the command does with it.
        let items: Vec<Word> = sources.into_iter().flatten().take(64).collect();
        for item in &items {
            if command.is_empty() {
                // `parallel ::: 'cmd one' 'cmd two'`: each argument is a command line.
                self.script(&item.text.clone(), Stdin::Inherited);
                continue;
            }
            let words: Vec<Word> = if command.iter().any(|w| has_replacement(&w.text)) {
                command.iter().map(|w| substitute_parallel(w, item)).collect()
            } else {
                let mut c = command.to_vec();
                c.push(item.clone());
                c
            };
            // parallel joins the words into one line that a shell runs: judge the words as a command, and
            // the line as shell text (`parallel 'rm -rf {}' ::: /`).
            let text = words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
            self.argv(words, Vec::new(), Stdin::Inherited);
            self.lenient += 1;
            self.script(&text, Stdin::Inherited);
            self.lenient -= 1;
        }
        self.cwd = saved;
    }
}

/// `w` with every `pattern` replaced by the item.
pub(super) fn substitute(w: &Word, pattern: &str, item: &Word) -> Word {
    if pattern.is_empty() || !w.text.contains(pattern) {
        return w.clone();
    }
    Word { text: w.text.replace(pattern, &item.text), dynamic: w.dynamic || item.dynamic, glob: w.glob }
}

/// Whether a `parallel` word holds a replacement string (`{}`, `{.}`, `{/}`, `{//}`, `{/.}`, `{#}`, `{%}`,
/// `{1}`, `{2.}`, ...).
fn has_replacement(text: &str) -> bool {
    replace_all_parallel(text, "\u{0}") != text
}

fn substitute_parallel(w: &Word, item: &Word) -> Word {
    if !has_replacement(&w.text) {
        return w.clone();
    }
    Word { text: replace_all_parallel(&w.text, &item.text), dynamic: w.dynamic || item.dynamic, glob: w.glob }
}

/// Replaces every `parallel` replacement string in `text` by `with`.
fn replace_all_parallel(text: &str, with: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else { break };
        let inner = &rest[open + 1..open + close];
        let is_repl = inner.is_empty()
            || matches!(inner, "." | "/" | "//" | "/." | "#" | "%")
            || inner.trim_end_matches(['.', '/']).chars().all(|c| c.is_ascii_digit())
                && !inner.trim_end_matches(['.', '/']).is_empty();
        out.push_str(&rest[..open]);
        if is_repl {
            out.push_str(with);
        } else {
            out.push_str(&rest[open..=open + close]);
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parallel_replacements() {
        assert_eq!(replace_all_parallel("rm -rf {}", "/"), "rm -rf /");
        assert_eq!(replace_all_parallel("cp {1} {2.}.bak {x}", "a"), "cp a a.bak {x}");
    }
}
