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
            // ssh uses a key file without printing it; its remote command runs elsewhere.
            | "ssh"
            | "sftp"
            | "mosh"
            | "autossh"
            | "ssh-add"
            | "ssh-keygen"
            | "ssh-copy-id"
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

/// Commands that format, partition or wipe the devices (or image files) in their operands.
pub(super) fn formats_devices(name: &str) -> bool {
    name.starts_with("mkfs")
        || matches!(
            name,
            "mke2fs"
                | "mkswap"
                | "mkdosfs"
                | "mkntfs"
                | "wipefs"
                | "blkdiscard"
                | "fdisk"
                | "sfdisk"
                | "cfdisk"
                | "gdisk"
                | "sgdisk"
                | "parted"
                | "badblocks"
                | "cryptsetup"
        )
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
    text.rsplit(['/', '\\']).next().unwrap_or(text)
}

/// The name a command is known by: its file name, lowercase (`RM` runs `rm` on a case-insensitive file
/// system), without a Windows `.exe` (`git.exe`, `C:\\Program Files\\Git\\bin\\git.exe`).
pub(super) fn command_name(text: &str) -> String {
    let name = basename(text).to_lowercase();
    match name.strip_suffix(".exe") {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ => name,
    }
}

pub(super) fn is_dev_sink(text: &str) -> bool {
    matches!(text, "/dev/null" | "/dev/stdout" | "/dev/stderr" | "/dev/tty" | "/dev/zero")
        || text.starts_with("/dev/fd/")
}

/// Splits `-abc` style option clusters into flags: whether `c` is among the short flags of `arg`.
pub(super) fn has_short_flag(arg: &str, c: char) -> bool {
    arg.len() > 1 && arg.starts_with('-') && !arg.starts_with("--") && arg[1..].contains(c)
}

/// Whether the command reads whole folders given as operands (copies and archives say so in their rows of the
/// file table).
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
        "cpio" | "7z" => true,
        "zip" => flag(&["--recurse-paths"], &['r']),
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
