//! The command dispatcher: wrappers removed, shells, `eval`, `xargs`, `parallel`, `find -exec`, `cd`.

use std::path::{Path, PathBuf};

use super::cmdopts::command_option_values;
use super::filetable::file_command;
use super::options::{interp, parse_options, wrapper};
use super::table::{
    command_name, formats_devices, is_dev_sink, is_shell, operands, skip_options, sql_client_flags,
};
use super::{Analyzer, COMMAND_OUTPUT, PROCESS_SUBSTITUTION, Stdin};
use crate::vocab::{Access, Op, RuleId, Word};

impl Analyzer {
    /// Analyzes a command line after expansion: unwraps wrappers and dispatches on the command name.
    pub(super) fn argv(&mut self, words: Vec<Word>, env: Vec<String>, stdin: Stdin) {
        let Some(first) = words.first() else { return };
        if first.dynamic {
            self.deny(format!(
                "the command name `{}` comes from an expansion that cannot be resolved statically",
                first.text
            ));
            return;
        }
        // `[` alone is the test command: a bracket without its closing `]` is no pattern, bash keeps it as is.
        if first.glob && first.text != "[" {
            self.deny(format!("the command name `{}` is a glob pattern", first.text));
            return;
        }
        let name = command_name(&first.text);
        if let Some(text) = self.aliases.get(&first.text).cloned() {
            // The alias's text, then the words after the name, as the shell expands it (once).
            let line = std::iter::once(text)
                .chain(words[1..].iter().map(|w| w.text.clone()))
                .collect::<Vec<_>>()
                .join(" ");
            self.aliases.remove(&first.text);
            self.script(&line, stdin.clone());
        }
        let args = &words[1..];
        self.ops.push(Op::Command { argv: words.clone(), env: env.clone() });
        if first.text.contains('/') {
            // `./s.sh`, `scripts/x`: a file run by its path; a shell script inside the root is read.
            let first = first.clone();
            self.run_script(&first, &first.text, true, true);
        }
        // Options whose value is a command: `tar --to-command=CMD`, `rsync -e CMD`, `ssh -o ProxyCommand=CMD`.
        for (opt, value) in command_option_values(&name, args) {
            self.shell_string(Some(&value), &format!("{name} {opt}"));
        }
        match name.as_str() {
            "env" => self.wrapper_env(args, env, stdin),
            "command" if args.iter().any(|a| a.text == "-v" || a.text == "-V") => {}
            _ if wrapper(&name).is_some() => {
                let w = wrapper(&name).expect("checked by the guard");
                let (opts, first) = parse_options(args, &w.opts);
                let saved = self.cwd.clone();
                for o in &opts {
                    if w.chdir.contains(&o.name.as_str())
                        && let Some(d) = &o.value
                    {
                        self.cd(std::slice::from_ref(d));
                    }
                    if matches!(o.name.as_str(), "o" | "--output")
                        && matches!(name.as_str(), "time" | "strace" | "ltrace")
                        && let Some(f) = &o.value
                        && !(f.is_static() && is_dev_sink(&f.text))
                    {
                        self.path(Access::Write, f.clone(), &name);
                    }
                }
                let rest = args.get(first + w.positional..).unwrap_or(&[]);
                self.argv(rest.to_vec(), env, stdin);
                if !w.chdir.is_empty() {
                    self.cwd = saved;
                }
            }
            "flock" => {
                let rest = skip_options(args, &["-w", "-E", "--timeout", "--conflict-exit-code"]);
                if let Some(c) = rest.iter().position(|w| w.text == "-c") {
                    self.shell_string(rest.get(c + 1), "flock -c");
                } else {
                    self.argv(rest.get(1..).unwrap_or(&[]).to_vec(), env, stdin);
                }
            }
            "watch" => {
                let rest = skip_options(args, &["-n", "--interval", "-q", "--equexit"]);
                // watch hands `sh -c` its words joined; `watch -x` runs them as they are: both are judged.
                self.joined_script(rest, "watch");
                if rest.iter().all(|w| w.is_static()) {
                    self.argv(rest.to_vec(), env, stdin);
                }
            }
            // `script -c`, `su -c` run only their command (see the table of command options above).
            "script" | "su" | "runuser" => {}
            "eval" => self.joined_script(args, "eval"),
            // `trap ACTION SIGNAL...`: the action is shell text that runs later, on the signal or at exit.
            "trap" => match args.first() {
                Some(a) if a.is_static() && matches!(a.text.as_str(), "-p" | "-l" | "--" | "-") => {}
                Some(a) if args.len() > 1 => self.shell_string(Some(a), "trap"),
                _ => {}
            },
            "alias" => {
                for a in args {
                    if let Some((n, v)) = a.text.split_once('=') {
                        if a.dynamic {
                            self.deny(format!("`alias {n}` is defined from a value known only at run time"));
                        } else {
                            self.aliases.insert(n.to_owned(), v.to_owned());
                        }
                    }
                }
            }
            "export" | "declare" | "typeset" | "local" | "readonly" => {
                // `export NAME=value`: the variable is set for the rest of the command line.
                for a in args.iter().filter(|a| !a.text.starts_with('-')) {
                    if let Some((n, v)) = a.text.split_once('=')
                        && !n.is_empty()
                        && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    {
                        self.vars.insert(n.to_owned(), a.is_static().then(|| v.to_owned()));
                    }
                }
            }
            "xargs" => self.xargs(args, env, &stdin),
            "parallel" => self.parallel(args, &stdin),
            "find" => self.find(args, env),
            "cd" | "pushd" => self.cd(args),
            "popd" => self.cwd = None,
            "source" | "." => {
                // `source <(CMD)` runs what `CMD` prints; `source "$(CMD)/f"` a file at a printed path.
                if args.first().is_some_and(|a| a.dynamic && a.text == PROCESS_SUBSTITUTION) {
                    self.deny(generated_code(&name));
                } else if let Some(a) = args.first().filter(|a| a.dynamic) {
                    self.deny(format!(
                        "`{name}` runs code from `{}`, which cannot be read statically",
                        a.text
                    ));
                } else if let Some(a) = args.first() {
                    self.read_arg(a.clone(), &name, true);
                    // Sourced code runs in this shell: its variables and `cd` stay in force afterwards.
                    self.run_script(a, &name, false, false);
                }
            }
            "apply_patch" | "applypatch" => self.apply_patch(&name, args, &stdin),
            "patch" => self.patch(args, &stdin),
            // Deletes, copies, moves, links and archives: a row of the file table each.
            _ if file_command(&name).is_some() => {
                let row = file_command(&name).expect("checked by the guard");
                self.file_command(row, &name, args);
            }
            "dd" => {
                for a in args {
                    if let Some(v) = a.text.strip_prefix("of=") {
                        if a.is_static() && is_dev_sink(v) {
                            continue;
                        }
                        self.path(Access::Write, Word { text: v.to_owned(), ..a.clone() }, "dd");
                    } else if let Some(v) = a.text.strip_prefix("if=") {
                        self.path(Access::Read, Word { text: v.to_owned(), ..a.clone() }, "dd");
                    }
                }
            }
            "sed" | "gsed" => self.sed(&name, args),
            "git" => self.git(args, &env, &stdin),
            _ if formats_devices(&name) => {
                // `mkfs.ext4 /dev/sdb1`, `wipefs -a /dev/sda`: every operand is written; listing changes nothing.
                let lists = args.iter().any(|a| {
                    matches!(
                        a.text.as_str(),
                        "-l" | "--list" | "print" | "--help" | "-V" | "--version" | "-h"
                    )
                });
                if !lists {
                    for a in operands(args, &["-t", "--type", "-L", "--label", "-b", "--backup"]) {
                        self.path(Access::Write, a.clone(), &name);
                    }
                }
            }
            "make" | "gmake" | "npm" | "pnpm" | "yarn" => {
                self.dir_flags(&name, args);
                self.generic_reads(&name, args);
            }
            _ if is_shell(&name) => {
                self.shell_startup_files(&name, &env);
                self.shell(&name, args, &stdin);
            }
            "awk" | "gawk" | "mawk" | "nawk" | "busybox-awk" => self.awk(&name, args),
            _ if interp(&name).is_some() => {
                let spec = interp(&name).expect("checked by the guard");
                self.interpreter(&name, spec, args, &stdin);
            }
            _ if sql_client_flags(&name).is_some() => self.sql_client(&name, args, &stdin),
            _ => self.generic_reads(&name, args),
        }
    }

    pub(super) fn wrapper_env(&mut self, args: &[Word], mut env: Vec<String>, stdin: Stdin) {
        let mut i = 0;
        while i < args.len() {
            let a = &args[i];
            let t = a.text.as_str();
            if t == "--" {
                i += 1;
                break;
            }
            if t == "-S" || t == "--split-string" {
                let Some(s) = args.get(i + 1) else { return };
                if s.dynamic {
                    self.deny("env -S runs a string that cannot be resolved statically");
                    return;
                }
                // The split words are read again as env's own: `env -S 'A=1 -u B' cmd`.
                let mut words: Vec<Word> = s.text.split_whitespace().map(Word::lit).collect();
                words.extend(args[i + 2..].iter().cloned());
                if words.iter().any(|w| w.text == "-S" || w.text == "--split-string") {
                    self.deny("env -S inside env -S is not followed");
                    return;
                }
                self.wrapper_env(&words, env, stdin);
                return;
            }
            if matches!(t, "-u" | "--unset" | "-P") {
                i += 2;
                continue;
            }
            if t == "-C" || t == "--chdir" {
                if let Some(d) = args.get(i + 1) {
                    self.cd(std::slice::from_ref(d));
                }
                i += 2;
                continue;
            }
            if t.starts_with('-') {
                i += 1;
                continue;
            }
            if t.contains('=') && !t.starts_with('=') {
                env.push(t.to_owned());
                i += 1;
                continue;
            }
            break;
        }
        self.argv(args[i.min(args.len())..].to_vec(), env, stdin);
    }

    /// `BASH_ENV=file bash ...` and `ENV=file sh ...`: a non-interactive shell sources that file first.
    fn shell_startup_files(&mut self, name: &str, env: &[String]) {
        for var in ["BASH_ENV", "ENV"] {
            let from_env = env.iter().rev().find_map(|e| {
                let (n, v) = e.split_once('=')?;
                (n == var).then(|| (v != "$?").then(|| v.to_owned()))
            });
            let value = match from_env {
                Some(v) => v,
                None => match self.vars.get(var) {
                    Some(v) => v.clone(),
                    None => continue,
                },
            };
            match value {
                None => self.deny(format!(
                    "`{var}` names a file `{name}` runs first, and it cannot be resolved statically"
                )),
                Some(v) if v.is_empty() => {}
                Some(v) => {
                    let w = Word::lit(v);
                    self.read_arg(w.clone(), name, true);
                    self.run_script(&w, &format!("{var} of {name}"), false, true);
                }
            }
        }
    }

    pub(super) fn shell_string(&mut self, w: Option<&Word>, via: &str) {
        match w {
            // `bash -c` alone fails with a usage error: nothing runs.
            None => {}
            Some(w) if w.dynamic => {
                self.deny(format!("`{via}` runs a string that cannot be resolved statically: {}", w.text))
            }
            Some(w) => self.script(&w.text.clone(), Stdin::Inherited),
        }
    }

    pub(super) fn joined_script(&mut self, args: &[Word], via: &str) {
        if args.iter().any(|w| w.dynamic && w.text.contains(COMMAND_OUTPUT)) {
            self.deny(generated_code(via));
            return;
        }
        if args.iter().any(|w| w.dynamic) {
            self.deny(format!("`{via}` runs a string that cannot be resolved statically"));
            return;
        }
        let text = args.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
        self.script(&text, Stdin::Inherited);
    }

    /// A shell: `-c STRING` (the `c` anywhere in a cluster: `-lc`, `-ec`, a `--` after it), a script operand,
    /// or a program on standard input. `-n` reads without running anything.
    pub(super) fn shell(&mut self, name: &str, args: &[Word], stdin: &Stdin) {
        let mut i = 0;
        let mut command = false;
        let mut noexec = false;
        while i < args.len() {
            let t = args[i].text.as_str();
            if t == "--" || t == "-" {
                i += 1;
                break;
            }
            if (t.starts_with('-') || t.starts_with('+')) && t.len() > 1 && !args[i].dynamic {
                i += 1;
                if t.starts_with("--") {
                    if matches!(t, "--rcfile" | "--init-file") {
                        i += 1;
                    }
                    noexec |= t == "--noexec" || t == "--no-execute";
                    continue;
                }
                let cluster = &t[1..];
                for (at, c) in cluster.char_indices() {
                    if matches!(c, 'o' | 'O') {
                        // `-o OPTION`, `-O SHOPT`, or the option joined (`-Oextglob`).
                        if at + 1 == cluster.len() {
                            i += 1;
                        }
                        break;
                    }
                    command |= c == 'c';
                    noexec |= c == 'n' && t.starts_with('-');
                }
                continue;
            }
            break;
        }
        if noexec {
            return;
        }
        if command {
            // `sh -c 'rm -rf "$1"' _ /`: the words after the string are `$0`, `$1`, ... inside it.
            let saved = self.vars.clone();
            for n in 0..10 {
                let value = args.get(i + 1 + n).map(|w| (!w.dynamic).then(|| w.text.clone()));
                match value {
                    Some(v) => self.vars.insert(n.to_string(), v),
                    None => self.vars.remove(&n.to_string()),
                };
            }
            self.shell_string(args.get(i), &format!("{name} -c"));
            self.vars = saved;
            return;
        }
        if let Some(script) = args.get(i) {
            if script.dynamic {
                self.deny(format!(
                    "`{name}` runs a script from `{}`, which cannot be read statically",
                    script.text
                ));
                return;
            }
            self.read_arg(script.clone(), name, true);
            let script = script.clone();
            self.run_script(&script, name, false, true);
            return;
        }
        self.program_from_stdin(name, stdin, |a, text| a.script(text, Stdin::Inherited));
    }

    pub(super) fn program_from_stdin(
        &mut self,
        name: &str,
        stdin: &Stdin,
        on_text: impl FnOnce(&mut Self, &str),
    ) {
        match stdin {
            Stdin::Text(t) | Stdin::Template { raw: t, expanded: None } => on_text(self, t),
            // The shell reads the expanded text; its raw form is judged as well.
            Stdin::Template { raw, expanded: Some(t) } => {
                let both = format!("{raw}\n{t}");
                on_text(self, &both)
            }
            Stdin::Pipe(up) if up.decodes_or_downloads => self.deny_rule(
                RuleId::PipeToShell,
                format!(
                    "decoded or downloaded text is piped into `{name}` ({} | {name})",
                    up.names.join(" | ")
                ),
            ),
            Stdin::Pipe(up) => match &up.text {
                Some(t) => on_text(self, t),
                None => self.deny(format!(
                    "`{name}` runs a program read from a pipe (`{} | {name}`) whose text cannot be seen",
                    up.names.join(" | ")
                )),
            },
            Stdin::Opaque(why) => {
                self.deny(format!("`{name}` runs a program read from standard input, and {why}"))
            }
            Stdin::Inherited => {}
        }
    }

    pub(super) fn cd(&mut self, args: &[Word]) {
        let target = args.iter().find(|a| !a.text.starts_with('-') || a.text == "-");
        let Some(t) = target else {
            self.cwd = self.home.as_ref().map(PathBuf::from);
            return;
        };
        if t.dynamic || t.glob || t.text == "-" {
            self.cwd = None;
            return;
        }
        self.cwd = match &self.cwd {
            _ if Path::new(&t.text).is_absolute() => Some(PathBuf::from(&t.text)),
            Some(c) => Some(c.join(&t.text)),
            None => None,
        };
    }
}

/// The reason `eval "$(CMD)"`, `source <(CMD)` and their kin are refused, from well-known generators too
/// (`brew shellenv`, `pyenv init -`, `ssh-agent -s`, `direnv hook bash`): the code runs unseen, and what a
/// generator prints follows what the command line can set. `PYENV_ROOT='/tmp/$(CMD)' eval "$(pyenv init -)"`
/// runs `CMD`, because `pyenv init -` prints `export PATH="$PYENV_ROOT/shims:..."` with the value pasted in.
fn generated_code(via: &str) -> String {
    format!(
        "`{via}` runs the shell code another command prints, which cannot be seen before it runs; generated code \
         is refused even from well-known generators (`brew shellenv`, `pyenv init -`), since what they print \
         follows variables and files the command can set; run it in a shell profile instead"
    )
}
