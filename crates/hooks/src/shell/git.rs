//! `git`, `git apply`, `apply_patch` and `patch(1)` run as commands.

use super::filetable::file_command;
use super::runners::may_be_option;
use super::table::{basename, has_short_flag, is_dev_sink, operands};
use super::{Analyzer, FileText, Stdin, gitrules};
use crate::vocab::{Access, RuleId, Word};

impl Analyzer {
    /// `git [-C DIR] [-c KEY=VALUE] SUBCOMMAND ...`: the folder it works in, what the subcommand changes, and
    /// the programs git itself would run (`GIT_SSH_COMMAND`, `core.sshCommand`, aliases, pagers, editors).
    pub(super) fn git(&mut self, args: &[Word], env: &[String], stdin: &Stdin) {
        let mut i = 0;
        let mut dir: Option<Word> = None;
        let mut configs: Vec<Word> = Vec::new();
        while i < args.len() {
            let t = args[i].text.as_str();
            if t == "-C" {
                if let Some(d) = args.get(i + 1) {
                    dir = Some(d.clone());
                }
                i += 2;
                continue;
            }
            if t == "-c" {
                configs.extend(args.get(i + 1).cloned());
                i += 2;
                continue;
            }
            if let Some(v) = t.strip_prefix("-c") {
                // `-ckey=value`, the value joined to the option.
                configs.push(Word { text: v.to_owned(), ..args[i].clone() });
                i += 1;
                continue;
            }
            if let Some(v) = t.strip_prefix("--config-env=") {
                configs.push(Word { text: v.to_owned(), dynamic: true, glob: false });
                i += 1;
                continue;
            }
            if t == "--config-env" {
                // `--config-env KEY=ENVVAR`: the value comes from the environment, unseen here.
                if let Some(v) = args.get(i + 1) {
                    configs.push(Word { text: v.text.clone(), dynamic: true, glob: false });
                }
                i += 2;
                continue;
            }
            if let Some(v) = t.strip_prefix("--work-tree=").or_else(|| t.strip_prefix("--git-dir=")) {
                dir = Some(Word { text: v.to_owned(), ..args[i].clone() });
                i += 1;
                continue;
            }
            if matches!(t, "--work-tree" | "--git-dir" | "--namespace" | "--super-prefix" | "--attr-source") {
                if matches!(t, "--work-tree" | "--git-dir") {
                    dir = args.get(i + 1).cloned();
                }
                i += 2;
                continue;
            }
            if t.starts_with('-') {
                i += 1;
                continue;
            }
            break;
        }
        configs.extend(self.git_env_config(env));
        // `git -c alias.nuke=reset nuke --hard` runs `git reset --hard`: an alias is expanded once.
        let mut words: Vec<Word> = args[i.min(args.len())..].to_vec();
        if let Some(first) = words.first().cloned()
            && let Some(value) = configs.iter().find_map(|c| {
                let (k, v) = c.text.split_once('=')?;
                let name = k.strip_prefix("alias.").or_else(|| k.strip_prefix("ALIAS."))?;
                (name == first.text && !v.starts_with('!') && c.is_static()).then(|| v.to_owned())
            })
        {
            let mut expanded: Vec<Word> = value.split_whitespace().map(Word::lit).collect();
            expanded.extend(words.drain(1..));
            words = expanded;
        }
        let sub_name = words.first().map(|w| w.text.clone()).unwrap_or_default();
        let sub_rest = words.get(1..).unwrap_or(&[]);
        let network = match sub_name.as_str() {
            "fetch" | "pull" | "push" | "clone" | "ls-remote" | "submodule" => true,
            // `git remote -v` lists; `git remote update` fetches.
            "remote" => {
                sub_rest.iter().any(|w| matches!(w.text.as_str(), "update" | "show" | "prune" | "set-head"))
            }
            "archive" => sub_rest.iter().any(|w| w.text.starts_with("--remote")),
            _ => false,
        };
        for v in &configs {
            self.git_config(v, network);
        }
        self.git_env(env, network);
        let saved = self.cwd.clone();
        if let Some(d) = &dir {
            self.cd(std::slice::from_ref(d));
        }
        let Some(sub) = words.first() else {
            self.cwd = saved;
            return;
        };
        let rest = &words[1..];
        if sub.dynamic {
            self.deny(format!("`git` runs the subcommand `{}`, known only at run time", sub.text));
        } else if let Some(w) = rest.iter().take_while(|w| w.text != "--").find(|w| may_be_option(w))
            && gitrules::destructive_capable(&sub.text)
        {
            // `xargs -I{} git reset --ha{}`: an item read at run time may be any option.
            self.deny(format!(
                "`git {}` is given `{}`, an item known only at run time, which may be an option that loses work",
                sub.text, w.text
            ));
        }
        let read_only = matches!(
            sub.text.as_str(),
            "status"
                | "diff"
                | "log"
                | "show"
                | "blame"
                | "ls-files"
                | "ls-tree"
                | "rev-parse"
                | "grep"
                | "describe"
                | "shortlog"
                | "cat-file"
                | "rev-list"
                | "help"
                | "version"
                | "whatchanged"
                | "reflog"
                | "name-rev"
                | "for-each-ref"
                | "show-ref"
                | "check-ignore"
                | "var"
                | "fetch"
                | "remote"
                | "branch"
                | "tag"
                | "config"
        );
        if let Some(d) = &dir
            && !read_only
        {
            self.path(Access::Write, d.clone(), &format!("git -C … {}", sub.text));
        }
        if let Some(why) = gitrules::destructive(&sub.text, rest) {
            self.deny_rule(
                RuleId::GitDestructive,
                format!(
                    "{why}; commit or stash first (`shell.deny_git_destructive = false` turns this rule off)"
                ),
            );
        }
        match sub.text.as_str() {
            "rm" => {
                let recursive = rest.iter().any(|a| a.text == "-r");
                for a in operands(rest, &[]) {
                    self.path(Access::Delete { recursive }, a.clone(), "git rm");
                }
            }
            "mv" => self.file_command(file_command("mv").expect("mv is a row"), "git mv", rest),
            "checkout" | "restore" => {
                if let Some(p) = rest.iter().position(|a| a.text == "--") {
                    for a in &rest[p + 1..] {
                        self.path(Access::Write, a.clone(), &format!("git {}", sub.text));
                    }
                }
                self.generic_reads("git", rest);
            }
            "clean" => {
                // `-x`/`-X` also remove ignored files (`.env`, build output): the whole tree is at stake.
                let ignored =
                    rest.iter().any(|a| has_short_flag(&a.text, 'x') || has_short_flag(&a.text, 'X'));
                let target = if ignored { Word::lit(".") } else { Word::lit("./{}") };
                self.path(
                    Access::Delete {
                        recursive: ignored || rest.iter().any(|a| has_short_flag(&a.text, 'd')),
                    },
                    target,
                    "git clean",
                );
            }
            "apply" | "am" => self.git_apply(&sub.text, rest, stdin),
            // Subcommands that run a command of their own.
            "rebase" | "difftool" | "mergetool" => {
                for (i, a) in rest.iter().enumerate() {
                    let t = a.text.as_str();
                    let value = if matches!(t, "-x" | "--exec" | "--extcmd" | "-t" | "--tool") {
                        rest.get(i + 1).cloned()
                    } else {
                        ["--exec=", "--extcmd="]
                            .iter()
                            .find_map(|p| t.strip_prefix(p))
                            .map(|v| Word { text: v.to_owned(), ..a.clone() })
                    };
                    if let Some(v) = value.filter(|_| !matches!(t, "-t" | "--tool")) {
                        self.shell_string(Some(&v), &format!("git {} --exec", sub.text));
                    }
                }
                self.generic_reads("git", rest);
            }
            "bisect" if rest.first().is_some_and(|w| w.text == "run") => {
                self.argv(rest[1..].to_vec(), Vec::new(), Stdin::Inherited);
            }
            "submodule" if rest.iter().any(|w| w.text == "foreach") => {
                let at = rest.iter().position(|w| w.text == "foreach").expect("found above");
                let cmd: Vec<Word> =
                    rest[at + 1..].iter().filter(|w| w.text != "--recursive").cloned().collect();
                self.joined_script(&cmd, "git submodule foreach");
            }
            // `git config KEY VALUE` that makes git run a command later (`alias.x '!...'`, `core.pager`).
            "config" => {
                let words: Vec<&Word> = rest.iter().filter(|w| !w.text.starts_with('-')).collect();
                let setting = rest.iter().all(|w| {
                    !matches!(
                        w.text.as_str(),
                        "--get" | "--get-all" | "--get-regexp" | "-l" | "--list" | "--unset" | "--unset-all"
                    )
                });
                if setting && let [key, value, ..] = words.as_slice() {
                    let joined = Word {
                        text: format!("{}={}", key.text, value.text),
                        dynamic: key.dynamic || value.dynamic,
                        glob: false,
                    };
                    self.git_config(&joined, true);
                }
            }
            _ => self.generic_reads("git", rest),
        }
        self.cwd = saved;
    }

    /// A `-c key=value` given to git: an alias that runs a shell command, or a key that makes git run a
    /// program (`core.sshCommand` only when the subcommand talks to a remote).
    fn git_config(&mut self, v: &Word, network: bool) {
        let (key, value) = v.text.split_once('=').unwrap_or((v.text.as_str(), ""));
        let lower = key.to_ascii_lowercase();
        if v.dynamic && key.contains('$') {
            self.deny(format!("`git -c {}` gives a setting known only at run time", v.text));
            return;
        }
        if lower.starts_with("alias.") && (v.dynamic || value.starts_with('!')) {
            self.deny(format!("`git -c {}` defines an alias that may run a shell command", v.text));
            return;
        }
        let runs = ["core.hookspath", "core.pager", "core.editor", "core.fsmonitor", "core.askpass"]
            .iter()
            .any(|k| lower.starts_with(k))
            || lower.starts_with("pager.")
            || lower.starts_with("diff.") && lower.contains(".command")
            || lower.starts_with("filter.")
            || lower.starts_with("credential.") && lower.contains("helper")
            || lower.starts_with("sequence.editor")
            || (network && lower.starts_with("core.gitproxy"))
            || (network && lower.starts_with("protocol.") && lower.contains("allow"))
            || (network
                && lower.starts_with("remote.")
                && (lower.contains(".uploadpack") || lower.contains(".receivepack")));
        if runs {
            self.deny(format!("`git -c {}` makes git run a configured command", v.text));
        }
        if network && lower == "core.sshcommand" {
            self.git_ssh("core.sshCommand", (!v.dynamic).then_some(value));
        }
    }

    /// The SSH program git runs for a remote: `ssh` with options is judged as the command it is, any other
    /// program (`./helper`, `sh -c ...`) is refused, as git would run it with the user's rights.
    fn git_ssh(&mut self, name: &str, value: Option<&str>) {
        let Some(v) = value else {
            self.deny(format!("`{name}` names a program git runs, which cannot be resolved statically"));
            return;
        };
        let first = v.split_whitespace().next().unwrap_or("");
        if basename(first) == "ssh" {
            self.script(v, Stdin::Inherited);
        } else {
            self.deny(format!("`{name}` makes git run `{v}` instead of ssh"));
        }
    }

    /// `GIT_CONFIG_COUNT` with `GIT_CONFIG_KEY_n`/`GIT_CONFIG_VALUE_n`: the settings as `key=value`, checked
    /// like `-c`; settings that cannot be read (`GIT_CONFIG_PARAMETERS`, an unknown value) are refused.
    fn git_env_config(&mut self, env: &[String]) -> Vec<Word> {
        let lookup = |a: &Self, name: &str| -> Option<Option<String>> {
            let from_env = env.iter().rev().find_map(|e| {
                let (n, v) = e.split_once('=')?;
                (n == name).then(|| (v != "$?").then(|| v.to_owned()))
            });
            from_env.or_else(|| a.vars.get(name).cloned())
        };
        if lookup(self, "GIT_CONFIG_PARAMETERS").is_some() {
            self.deny("`GIT_CONFIG_PARAMETERS` gives git configuration that cannot be read here");
            return Vec::new();
        }
        let Some(count) = lookup(self, "GIT_CONFIG_COUNT") else { return Vec::new() };
        let Some(n) = count.and_then(|c| c.parse::<usize>().ok()).filter(|n| *n <= 64) else {
            self.deny("`GIT_CONFIG_COUNT` gives git configuration that cannot be read here");
            return Vec::new();
        };
        let mut out = Vec::new();
        for k in 0..n {
            match (
                lookup(self, &format!("GIT_CONFIG_KEY_{k}")),
                lookup(self, &format!("GIT_CONFIG_VALUE_{k}")),
            ) {
                (Some(Some(key)), Some(Some(value))) => out.push(Word::lit(format!("{key}={value}"))),
                _ => {
                    self.deny(format!("`GIT_CONFIG_KEY_{k}`/`GIT_CONFIG_VALUE_{k}` cannot be read here"));
                    return Vec::new();
                }
            }
        }
        out
    }

    /// Variables in git's environment that name a program it runs: an SSH program for a remote command (see
    /// [`Self::git_ssh`]), and pagers, editors, diff and askpass programs, judged as the shell commands git
    /// hands them to; an unknown value is refused.
    fn git_env(&mut self, env: &[String], network: bool) {
        const COMMANDS: [&str; 9] = [
            "GIT_SSH_COMMAND",
            "GIT_SSH",
            "GIT_PROXY_COMMAND",
            "GIT_EXTERNAL_DIFF",
            "GIT_PAGER",
            "GIT_EDITOR",
            "GIT_SEQUENCE_EDITOR",
            "GIT_ASKPASS",
            "SSH_ASKPASS",
        ];
        let mut values: Vec<(String, Option<String>)> = Vec::new();
        for name in COMMANDS {
            if let Some(v) = self.vars.get(name) {
                values.push((name.to_owned(), v.clone()));
            }
        }
        for e in env {
            if let Some((n, v)) = e.split_once('=')
                && COMMANDS.contains(&n)
            {
                values.retain(|(m, _)| m != n);
                values.push((n.to_owned(), (v != "$?").then(|| v.to_owned())));
            }
        }
        for (name, value) in values {
            if matches!(name.as_str(), "GIT_SSH_COMMAND" | "GIT_SSH" | "GIT_PROXY_COMMAND") {
                if network {
                    self.git_ssh(&name, value.as_deref());
                }
                continue;
            }
            match value {
                None => self
                    .deny(format!("`{name}` names a program git runs, which cannot be resolved statically")),
                Some(v) => self.script(&v, Stdin::Inherited),
            }
        }
    }

    /// `git apply` / `git am`: every file the patches name (from files, or standard input without one) is
    /// written, after `-pN` (1 by default) and under `--directory`. `--check`, `--stat` and friends only read.
    pub(super) fn git_apply(&mut self, sub: &str, rest: &[Word], stdin: &Stdin) {
        let via = format!("git {sub}");
        let mut strip = 1;
        let mut prefix: Option<Word> = None;
        let mut writes = true;
        for (i, a) in rest.iter().enumerate() {
            let t = a.text.as_str();
            if let Some(n) = t.strip_prefix("-p").and_then(|n| n.parse().ok()) {
                strip = n;
            } else if t == "-p"
                && let Some(n) = rest.get(i + 1).and_then(|n| n.text.parse().ok())
            {
                strip = n;
            } else if let Some(d) = t.strip_prefix("--directory=") {
                prefix = Some(Word { text: d.to_owned(), ..a.clone() });
            } else if t == "--directory" {
                prefix = rest.get(i + 1).cloned();
            } else if matches!(t, "--check" | "--stat" | "--numstat" | "--summary") {
                writes = false;
            } else if t == "--apply" {
                writes = true;
                break;
            }
        }
        let files = operands(rest, &["-p", "--directory", "--exclude", "--include", "-C", "--whitespace"]);
        let mut texts = Vec::new();
        for a in &files {
            self.read_arg((*a).clone(), &via, true);
            match self.read_small_file(a) {
                FileText::Text(text) => texts.push(text),
                FileText::Opaque(why) => {
                    self.deny(format!("`{via}` writes the files a patch names, and {why}"))
                }
                FileText::Missing => {}
            }
        }
        if files.is_empty() && matches!(sub, "apply") {
            match self.stdin_text(&via, stdin) {
                Some(t) => texts.push(t),
                None => return,
            }
        }
        if !writes {
            return;
        }
        for text in texts {
            for p in crate::patch::diff_targets(&text, Some(strip)) {
                let text = match &prefix {
                    Some(d) => format!("{}/{p}", d.text.trim_end_matches('/')),
                    None => p,
                };
                let dynamic = prefix.as_ref().is_some_and(|d| d.dynamic);
                self.path(Access::Write, Word { text, dynamic, glob: false }, &via);
            }
        }
    }

    /// The text a command reads on standard input as its patch; `None` (after a deny) when it cannot be seen.
    pub(super) fn stdin_text(&mut self, via: &str, stdin: &Stdin) -> Option<String> {
        let why = match stdin {
            Stdin::Text(t) | Stdin::Template { expanded: Some(t), .. } => return Some(t.clone()),
            Stdin::Template { expanded: None, .. } => {
                "comes from a here-document whose expansions cannot be resolved statically".to_owned()
            }
            Stdin::Pipe(up) => match &up.text {
                Some(t) => return Some(t.clone()),
                None => format!("is the output of `{}`, which cannot be seen", up.names.join(" | ")),
            },
            Stdin::Opaque(why) => format!("is a redirected file: {why}"),
            Stdin::Inherited => "is not given (no file, argument or here-document)".to_owned(),
        };
        self.deny(format!("`{via}` reads the patch it applies from standard input, which {why}"));
        None
    }

    /// `apply_patch` run as a command (Codex models do): the patch is the first argument or standard input
    /// (a here-document, a here-string), and every path in it is checked as the `apply_patch` tool's are.
    pub(super) fn apply_patch(&mut self, name: &str, args: &[Word], stdin: &Stdin) {
        let text = match args.first() {
            Some(a) if a.dynamic => {
                self.deny(format!("`{name}` applies a patch that cannot be resolved statically: {}", a.text));
                return;
            }
            Some(a) => a.text.clone(),
            None => match self.stdin_text(name, stdin) {
                Some(t) => t,
                None => return,
            },
        };
        let Some(list) = crate::patch::patch_paths(&text) else {
            self.deny(format!(
                "`{name}` is given text that is neither an apply_patch envelope nor a unified diff, so the \
                 files it changes cannot be read"
            ));
            return;
        };
        for (access, p) in list {
            self.path(access, Word::lit(p), name);
        }
    }

    /// `patch(1)`: the file named on the command line, or every file the diff's headers name (after `-pN`,
    /// every suffix without it), under `-d DIR`; `-o` and `-r` files are written too. The diff comes from
    /// `-i FILE`, the second operand or standard input.
    pub(super) fn patch(&mut self, args: &[Word], stdin: &Stdin) {
        if args.iter().any(|a| matches!(a.text.as_str(), "-v" | "--version" | "--help")) {
            return;
        }
        let mut strip: Option<usize> = None;
        let mut input: Option<Word> = None;
        let mut dir: Option<Word> = None;
        let mut outputs: Vec<Word> = Vec::new();
        let mut positional: Vec<Word> = Vec::new();
        let mut i = 0;
        let mut ended = false;
        while i < args.len() {
            let a = &args[i];
            let t = a.text.as_str();
            let next = args.get(i + 1).cloned();
            let glued = |v: &str| Word { text: v.to_owned(), ..a.clone() };
            i += 1;
            if ended || !t.starts_with('-') || t == "-" {
                positional.push(a.clone());
                continue;
            }
            if t == "--" {
                ended = true;
            } else if t == "-p" || t == "--strip" {
                strip = next.and_then(|n| n.text.parse().ok()).or(Some(0));
                i += 1;
            } else if let Some(n) = t.strip_prefix("--strip=").or_else(|| t.strip_prefix("-p")) {
                strip = Some(n.parse().unwrap_or(0));
            } else if t == "-i" || t == "--input" {
                input = next;
                i += 1;
            } else if let Some(v) = t.strip_prefix("--input=").or_else(|| t.strip_prefix("-i")) {
                input = Some(glued(v));
            } else if t == "-d" || t == "--directory" {
                dir = next;
                i += 1;
            } else if let Some(v) = t.strip_prefix("--directory=").or_else(|| t.strip_prefix("-d")) {
                dir = Some(glued(v));
            } else if matches!(t, "-o" | "--output" | "-r" | "--reject-file") {
                outputs.extend(next);
                i += 1;
            } else if let Some(v) =
                ["--output=", "--reject-file=", "-o", "-r"].iter().find_map(|p| t.strip_prefix(p))
            {
                outputs.push(glued(v));
            } else if matches!(t, "-B" | "-D" | "-F" | "-V" | "-Y" | "-z" | "-g" | "--prefix" | "--suffix") {
                i += 1;
            }
        }
        let original = positional.first().cloned();
        if input.is_none() {
            input = positional.get(1).cloned();
        }
        // Paths the command line names resolve from the caller's folder; the diff's names from `-d`.
        for o in outputs.iter().filter(|o| !(o.is_static() && (o.text == "-" || is_dev_sink(&o.text)))) {
            self.path(Access::Write, o.clone(), "patch");
        }
        let text = match &input {
            Some(f) => {
                self.read_arg(f.clone(), "patch", true);
                match self.read_small_file(f) {
                    FileText::Text(t) => Some(t),
                    FileText::Opaque(why) => {
                        self.deny(format!("`patch` writes the files a diff names, and {why}"));
                        None
                    }
                    FileText::Missing => None,
                }
            }
            None => self.stdin_text("patch", stdin),
        };
        let saved = self.cwd.clone();
        if let Some(d) = &dir {
            self.cd(std::slice::from_ref(d));
        }
        if let Some(o) = original {
            self.path(Access::Write, o, "patch");
        } else if let Some(text) = text {
            let targets = crate::patch::diff_targets(&text, strip);
            if targets.is_empty() {
                self.deny(
                    "`patch` is given a diff whose headers name no file, so what it changes cannot be read",
                );
            }
            for t in targets {
                self.path(Access::Write, Word::lit(t), "patch");
            }
        }
        self.cwd = saved;
    }
}
