//! Facts about commands: which are shells and interpreters, which read their operands, which options take a
//! value; and the option walkers over an argv.

use crate::vocab::Word;

/// Whether `name` is a shell that runs a script from `-c`, a file or standard input.
pub(super) fn is_shell(name: &str) -> bool {
    matches!(
        name,
        "sh" | "bash" | "zsh" | "dash" | "ksh" | "mksh" | "ash" | "fish" | "yash" | "rbash" | "csh" | "tcsh"
    )
}

/// Interpreters that take inline code with a flag, and that flag.
pub(super) fn inline_code_flags(name: &str) -> &'static [&'static str] {
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    match base {
        "python" | "pypy" => &["-c"],
        "perl" => &["-e", "-E"],
        "ruby" => &["-e"],
        "node" | "nodejs" | "bun" => &["-e", "--eval", "-p", "--print"],
        "php" => &["-r"],
        "lua" | "luajit" => &["-e"],
        "Rscript" => &["-e"],
        "osascript" => &["-e"],
        _ => &[],
    }
}

/// Interpreters that read a program from standard input when given no script.
pub(super) fn reads_program_from_stdin(name: &str) -> bool {
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    is_shell(name) || matches!(base, "python" | "pypy" | "perl" | "ruby" | "node" | "nodejs" | "php" | "lua")
}

/// Commands whose arguments are not file names they open (so `.env` in them is only text).
pub(super) fn never_reads_args(name: &str) -> bool {
    matches!(
        name,
        "echo"
            | "printf"
            | "ls"
            | "true"
            | "false"
            | "test"
            | "["
            | "stat"
            | "which"
            | "type"
            | "basename"
            | "dirname"
            | "realpath"
            | "readlink"
            | "mkdir"
            | "export"
            | "unset"
            | "set"
            | "shopt"
            | "alias"
            | "declare"
            | "local"
            | "readonly"
            | "exit"
            | "return"
            | "sleep"
            | "kill"
            | "wait"
            | "cd"
            | "pushd"
            | "popd"
            | "pwd"
            | "date"
            | "whoami"
            | "id"
            | "hostname"
            | "uname"
    )
}

/// Commands that open their path arguments for reading: here a dynamic argument is a reason to deny.
pub(super) fn known_reader(name: &str) -> bool {
    matches!(
        name,
        "cat"
            | "tac"
            | "less"
            | "more"
            | "most"
            | "head"
            | "tail"
            | "sed"
            | "awk"
            | "gawk"
            | "mawk"
            | "nawk"
            | "grep"
            | "egrep"
            | "fgrep"
            | "rg"
            | "ag"
            | "ack"
            | "cut"
            | "sort"
            | "uniq"
            | "nl"
            | "od"
            | "xxd"
            | "hexdump"
            | "strings"
            | "base64"
            | "base32"
            | "basenc"
            | "tar"
            | "zip"
            | "gzip"
            | "bzip2"
            | "xz"
            | "zstd"
            | "cp"
            | "scp"
            | "rsync"
            | "diff"
            | "cmp"
            | "comm"
            | "paste"
            | "join"
            | "fold"
            | "fmt"
            | "pr"
            | "wc"
            | "md5sum"
            | "sha1sum"
            | "sha256sum"
            | "sha512sum"
            | "b2sum"
            | "cksum"
            | "jq"
            | "yq"
            | "bat"
            | "batcat"
            | "vi"
            | "vim"
            | "nvim"
            | "nano"
            | "emacs"
            | "view"
            | "source"
            | "."
            | "dd"
            | "iconv"
            | "column"
            | "look"
            | "tr"
            | "expand"
            | "unexpand"
            | "split"
            | "csplit"
            | "curl"
            | "wget"
            | "nc"
            | "openssl"
            | "gpg"
            | "file"
            | "envsubst"
    )
}

/// Commands whose every operand is a path they change.
pub(super) fn writes_all_operands(name: &str) -> bool {
    matches!(name, "touch" | "truncate" | "shred" | "chattr" | "setfacl" | "mkfifo" | "mknod")
}

/// SQL clients and the flags that carry SQL text.
pub(super) fn sql_client_flags(name: &str) -> Option<(&'static [&'static str], &'static [&'static str])> {
    // (flags with SQL text, flags with a file of SQL)
    match name {
        "psql" => Some((&["-c", "--command"], &["-f", "--file"])),
        "mysql" | "mariadb" => Some((&["-e", "--execute"], &[])),
        "sqlite3" | "sqlite" | "duckdb" => Some((&["-cmd"], &[])),
        "clickhouse-client" | "clickhouse" => Some((&["-q", "--query"], &["--queries-file"])),
        "cockroach" => Some((&["-e", "--execute"], &["-f", "--file"])),
        "sqlcmd" => Some((&["-Q", "-q"], &["-i"])),
        _ => None,
    }
}

pub(super) fn basename(text: &str) -> &str {
    text.rsplit('/').next().unwrap_or(text)
}

pub(super) fn is_dev_sink(text: &str) -> bool {
    matches!(text, "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/tty" | "/dev/zero")
        || text.starts_with("/dev/fd/")
}

/// Splits `-abc` style option clusters into flags: whether `c` is among the short flags of `arg`.
pub(super) fn has_short_flag(arg: &str, c: char) -> bool {
    arg.len() > 1 && arg.starts_with('-') && !arg.starts_with("--") && arg[1..].contains(c)
}

/// Whether the command reads whole folders given as operands.
pub(super) fn reads_recursively(name: &str, args: &[Word]) -> bool {
    let flag = |long: &[&str], short: &[char]| {
        args.iter()
            .any(|a| long.contains(&a.text.as_str()) || short.iter().any(|c| has_short_flag(&a.text, *c)))
    };
    match name {
        "grep" | "egrep" | "fgrep" | "zgrep" => {
            flag(&["--recursive", "--dereference-recursive", "--directories=recurse"], &['r', 'R'])
        }
        "rg" | "ag" => args
            .iter()
            .any(|a| a.text == "--hidden" || a.text.starts_with("-uu") || a.text == "--no-ignore-dot"),
        "tar" | "bsdtar" | "cpio" | "7z" => true,
        "zip" => flag(&["--recurse-paths"], &['r']),
        "cp" | "scp" | "rsync" => flag(&["--recursive", "--archive"], &['r', 'R', 'a']),
        _ => false,
    }
}

/// The wrappers removed for a pipeline summary (no recursion into shells, just argv shifting).
pub(super) fn unwrap_simple_wrappers(words: &[Word]) -> (&Word, &[Word]) {
    let mut w = words;
    while let Some(first) = w.first() {
        match basename(&first.text) {
            "sudo" | "nice" | "nohup" | "command" | "builtin" | "exec" | "time" | "stdbuf" | "env" => {
                let rest = skip_options(&w[1..], &["-u", "-n", "-o", "-i", "-e", "-g"]);
                let rest = match rest.iter().position(|x| !x.text.contains('=')) {
                    Some(p) => &rest[p..],
                    None => &rest[rest.len()..],
                };
                if rest.is_empty() {
                    break;
                }
                w = rest;
            }
            "timeout" => {
                let rest = skip_options(&w[1..], &["-s", "-k"]);
                if rest.len() < 2 {
                    break;
                }
                w = &rest[1..];
            }
            _ => break,
        }
    }
    (&w[0], &w[1..])
}

pub(super) fn find_start_paths(args: &[Word]) -> Vec<Word> {
    let mut out = Vec::new();
    for a in args {
        let t = a.text.as_str();
        if matches!(t, "-H" | "-L" | "-P") {
            continue;
        }
        if t.starts_with('-') || t == "(" || t == "!" || t == "\\(" {
            break;
        }
        out.push(a.clone());
    }
    if out.is_empty() {
        out.push(Word::lit("."));
    }
    out
}

/// Whether a `find` expression narrows what it matches by name (so `-delete` does not remove the start path
/// itself). Only name, path and regex tests with a non-trivial pattern count: `-type f` or `-mtime +0`
/// still match nearly everything.
pub(super) fn find_has_filters(args: &[Word]) -> bool {
    args.windows(2).any(|w| {
        matches!(
            w[0].text.as_str(),
            "-name" | "-iname" | "-path" | "-ipath" | "-wholename" | "-regex" | "-iregex"
        ) && !w[1].text.chars().all(|c| matches!(c, '*' | '?' | '.' | '/'))
    }) || args.iter().any(|a| a.text == "-empty")
}

/// The path a `find` expression hands to `-exec`/`-delete`/`xargs`: the start path itself when nothing
/// narrows the match, or a child of it.
pub(super) fn find_item(start: &Word, filtered: bool) -> Word {
    if filtered {
        Word { text: format!("{}/{{}}", start.text.trim_end_matches('/')), ..start.clone() }
    } else {
        start.clone()
    }
}

/// The words after options; `value_flags` take the next word as their value.
pub(super) fn skip_options<'a>(args: &'a [Word], value_flags: &[&str]) -> &'a [Word] {
    let mut i = 0;
    while i < args.len() {
        let t = args[i].text.as_str();
        if t == "--" {
            return &args[i + 1..];
        }
        if !t.starts_with('-') || t == "-" {
            break;
        }
        if value_flags.contains(&t) {
            i += 2;
            continue;
        }
        i += 1;
    }
    &args[i.min(args.len())..]
}

/// The operands (non-option words) of a command; `value_flags` take the next word as their value.
pub(super) fn operands<'a>(args: &'a [Word], value_flags: &[&str]) -> Vec<&'a Word> {
    let mut out = Vec::new();
    let mut i = 0;
    let mut ended = false;
    while i < args.len() {
        let a = &args[i];
        let t = a.text.as_str();
        if !ended && t == "--" {
            ended = true;
            i += 1;
            continue;
        }
        if !ended && t.starts_with('-') && t.len() > 1 && a.is_static() {
            if value_flags.contains(&t) {
                i += 2;
                continue;
            }
            i += 1;
            continue;
        }
        out.push(a);
        i += 1;
    }
    out
}
