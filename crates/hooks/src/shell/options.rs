//! The option table: how each wrapper and interpreter spells its options (which short letters and long names
//! take a value, clustered or joined), and the parsers that read an argv by it.

use crate::vocab::Word;

/// How a command's options are spelled: which short letters and long names take a value. A short letter that
/// takes a value takes the rest of its cluster (`-n5`, `-Mstrict`) or, when that is empty, the next word; a
/// long option takes `--opt=value` or the next word. Everything else starting with `-` is a flag.
#[derive(Debug, Clone, Copy)]
pub(super) struct OptSpec {
    /// Short letters that take a value.
    pub(super) short_value: &'static str,
    /// Short letters whose value is optional and can only be glued (`perl -i.bak`, `xargs -l5`).
    pub(super) short_glued: &'static str,
    /// Long options that take a value.
    pub(super) long_value: &'static [&'static str],
}

impl OptSpec {
    pub(super) const NONE: Self = Self { short_value: "", short_glued: "", long_value: &[] };
}

/// One option as parsed from an argv: a short letter or a long name (with its dashes), and its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Opt {
    pub(super) name: String,
    pub(super) value: Option<Word>,
}

/// Parses the options at the front of `args` by `spec`, stopping at the first operand (or after `--`).
/// Returns the options and the index of the first operand.
pub(super) fn parse_options(args: &[Word], spec: &OptSpec) -> (Vec<Opt>, usize) {
    let mut opts = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let t = a.text.as_str();
        if t == "--" {
            return (opts, i + 1);
        }
        if !t.starts_with('-') || t == "-" || a.dynamic {
            break;
        }
        i += 1;
        if let Some(long) = t.strip_prefix("--") {
            let (name, glued) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (long, None),
            };
            let name = format!("--{name}");
            let value = match glued {
                Some(v) => Some(Word { text: v.to_owned(), ..a.clone() }),
                None if spec.long_value.contains(&name.as_str()) => {
                    i += 1;
                    args.get(i - 1).cloned()
                }
                None => None,
            };
            opts.push(Opt { name, value });
            continue;
        }
        let cluster = &t[1..];
        for (at, c) in cluster.char_indices() {
            let rest = &cluster[at + c.len_utf8()..];
            if spec.short_value.contains(c) {
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i - 1).cloned()
                } else {
                    Some(Word { text: rest.to_owned(), ..a.clone() })
                };
                opts.push(Opt { name: c.to_string(), value });
                break;
            }
            if spec.short_glued.contains(c) {
                let value = (!rest.is_empty()).then(|| Word { text: rest.to_owned(), ..a.clone() });
                opts.push(Opt { name: c.to_string(), value });
                break;
            }
            opts.push(Opt { name: c.to_string(), value: None });
        }
    }
    (opts, i.min(args.len()))
}

/// A command that runs the command in its operands: its options, how many operands come before the command
/// (`timeout 5 cmd`, `chrt 10 cmd`), and the options that change the command's folder.
#[derive(Debug)]
pub(super) struct Wrapper {
    pub(super) names: &'static [&'static str],
    pub(super) opts: OptSpec,
    pub(super) positional: usize,
    pub(super) chdir: &'static [&'static str],
}

/// The wrappers whose command is their first operand (after `positional` more). `env`, `xargs`, `parallel`,
/// `find -exec`, `flock`, `watch` and the shells have handlers of their own.
pub(super) const WRAPPERS: &[Wrapper] = &[
    Wrapper {
        names: &["sudo", "doas", "run0"],
        opts: OptSpec {
            short_value: "ugpCDrtUTRh",
            short_glued: "",
            long_value: &[
                "--user",
                "--group",
                "--host",
                "--prompt",
                "--close-from",
                "--chdir",
                "--role",
                "--type",
                "--other-user",
                "--command-timeout",
                "--chroot",
            ],
        },
        positional: 0,
        chdir: &["D", "--chdir"],
    },
    Wrapper {
        names: &["nice"],
        opts: OptSpec { short_value: "n", short_glued: "", long_value: &["--adjustment"] },
        positional: 0,
        chdir: &[],
    },
    Wrapper {
        names: &["ionice"],
        opts: OptSpec { short_value: "cnpPu", short_glued: "", long_value: &["--class", "--classdata"] },
        positional: 0,
        chdir: &[],
    },
    Wrapper {
        names: &["chrt", "taskset"],
        opts: OptSpec { short_value: "T", short_glued: "", long_value: &["--sched-runtime"] },
        positional: 1,
        chdir: &[],
    },
    Wrapper {
        names: &["timeout"],
        opts: OptSpec { short_value: "sk", short_glued: "", long_value: &["--signal", "--kill-after"] },
        positional: 1,
        chdir: &[],
    },
    Wrapper {
        names: &["time"],
        opts: OptSpec { short_value: "of", short_glued: "", long_value: &["--output", "--format"] },
        positional: 0,
        chdir: &[],
    },
    Wrapper {
        names: &["strace"],
        opts: OptSpec { short_value: "aeEoOpPsSuUXb", short_glued: "", long_value: &["--output"] },
        positional: 0,
        chdir: &[],
    },
    Wrapper {
        names: &["ltrace"],
        opts: OptSpec { short_value: "aAeDFnopsuxX", short_glued: "", long_value: &["--output"] },
        positional: 0,
        chdir: &[],
    },
    Wrapper {
        names: &["exec"],
        opts: OptSpec { short_value: "a", short_glued: "", long_value: &[] },
        positional: 0,
        chdir: &[],
    },
    Wrapper {
        names: &["stdbuf"],
        opts: OptSpec {
            short_value: "ioe",
            short_glued: "",
            long_value: &["--input", "--output", "--error"],
        },
        positional: 0,
        chdir: &[],
    },
    Wrapper {
        names: &["caffeinate"],
        opts: OptSpec { short_value: "wt", short_glued: "", long_value: &[] },
        positional: 0,
        chdir: &[],
    },
    Wrapper {
        names: &["xvfb-run"],
        opts: OptSpec {
            short_value: "nsfepw",
            short_glued: "",
            long_value: &[
                "--server-num",
                "--server-args",
                "--auth-file",
                "--error-file",
                "--xauth-protocol",
                "--wait",
            ],
        },
        positional: 0,
        chdir: &[],
    },
    Wrapper {
        names: &["proxychains", "proxychains4"],
        opts: OptSpec { short_value: "f", short_glued: "", long_value: &[] },
        positional: 0,
        chdir: &[],
    },
    Wrapper {
        names: &[
            "nohup",
            "builtin",
            "setsid",
            "chronic",
            "unbuffer",
            "torsocks",
            "catchsegv",
            "noglob",
            "command",
            "busybox",
            "toybox",
        ],
        opts: OptSpec::NONE,
        positional: 0,
        chdir: &[],
    },
];

/// The wrapper entry for a command name.
pub(super) fn wrapper(name: &str) -> Option<&'static Wrapper> {
    WRAPPERS.iter().find(|w| w.names.contains(&name))
}

/// An interpreter: the options whose value is code, the options that take some other value, and whether a
/// short code option may carry its code glued (`python -c'...'`, `perl -e'...'`).
#[derive(Debug)]
pub(super) struct Interp {
    pub(super) names: &'static [&'static str],
    pub(super) code_short: &'static str,
    pub(super) code_long: &'static [&'static str],
    pub(super) opts: OptSpec,
    /// Runs a program read from standard input when given neither code nor a script.
    pub(super) stdin_program: bool,
}

/// The interpreters that take inline code. Every option of the table's kind is read, clustered or not:
/// `python -vc`, `python -W ignore -c`, `perl -Mstrict -we`, `node -pe`, `ruby -rjson -e`, `php -nr`.
pub(super) const INTERPRETERS: &[Interp] = &[
    Interp {
        names: &["python", "pypy", "python2", "python3", "pypy3"],
        code_short: "c",
        code_long: &[],
        opts: OptSpec { short_value: "WXmQ", short_glued: "", long_value: &["--check-hash-based-pycs"] },
        stdin_program: true,
    },
    Interp {
        names: &["perl"],
        code_short: "eE",
        code_long: &[],
        opts: OptSpec { short_value: "", short_glued: "MmIlx0CdDi", long_value: &[] },
        stdin_program: true,
    },
    Interp {
        names: &["ruby", "jruby"],
        code_short: "e",
        code_long: &[],
        opts: OptSpec {
            short_value: "rICEF",
            short_glued: "x0KTWi",
            long_value: &["--encoding", "--external-encoding", "--internal-encoding", "--dump"],
        },
        stdin_program: true,
    },
    Interp {
        names: &["node", "nodejs", "bun", "deno"],
        code_short: "ep",
        code_long: &["--eval", "--print"],
        opts: OptSpec {
            short_value: "rC",
            short_glued: "",
            long_value: &[
                "--require",
                "--import",
                "--loader",
                "--experimental-loader",
                "--conditions",
                "--input-type",
                "--title",
                "--env-file",
                "--inspect-port",
                "--stack-size",
            ],
        },
        stdin_program: true,
    },
    Interp {
        names: &["php"],
        code_short: "rBRFE",
        code_long: &["--run", "--process-begin", "--process-code", "--process-end"],
        opts: OptSpec { short_value: "cdfzt", short_glued: "", long_value: &["--php-ini", "--define"] },
        stdin_program: true,
    },
    Interp {
        names: &["lua", "luajit"],
        code_short: "e",
        code_long: &[],
        opts: OptSpec { short_value: "l", short_glued: "", long_value: &[] },
        stdin_program: true,
    },
    Interp {
        names: &["rscript"],
        code_short: "e",
        code_long: &[],
        opts: OptSpec::NONE,
        stdin_program: false,
    },
    Interp {
        names: &["osascript"],
        code_short: "e",
        code_long: &[],
        opts: OptSpec { short_value: "ls", short_glued: "", long_value: &[] },
        stdin_program: false,
    },
    Interp {
        names: &["tclsh", "wish", "expect"],
        code_short: "c",
        code_long: &[],
        opts: OptSpec::NONE,
        stdin_program: true,
    },
];

/// The interpreter entry for a command name (`python3.12` is `python3`).
pub(super) fn interp(name: &str) -> Option<&'static Interp> {
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    INTERPRETERS.iter().find(|i| i.names.contains(&name) || i.names.contains(&base))
}

/// What an interpreter's argv says: the code it runs, the script operand, and whether it edits files in place.
#[derive(Debug, Default)]
pub(super) struct InterpArgs {
    /// The inline code, each with the option that carried it.
    pub(super) code: Vec<(String, Word)>,
    /// The first operand (the script), unless code was given.
    pub(super) script: Option<Word>,
    /// `perl -i`: the operands are edited in place.
    pub(super) in_place: bool,
    /// `python -m`: a module runs, not a script or standard input.
    pub(super) module: bool,
    /// The operands after the script (or all operands with inline code).
    pub(super) operands: Vec<Word>,
    /// A word known only at run time where the interpreter still reads options, or as an option's value:
    /// it may be `-e CODE`, `--require MODULE`, `-m MODULE` (`xargs node -e '...'` appends its input there).
    pub(super) unknown_option: Option<String>,
}

/// Whether an interpreter's option (a short letter or a long name) names code it loads or settings that can
/// make it run code: a module (`python -m`, `node --require`, `ruby -r`, `lua -l`) or PHP's ini settings.
fn loads_code(spec: &Interp, opt: &str) -> bool {
    let php = spec.names.contains(&"php");
    matches!(opt, "m" | "r" | "l" | "--require" | "--import" | "--loader" | "--experimental-loader")
        || (php && matches!(opt, "d" | "c" | "--define" | "--php-ini"))
}

/// Reads an interpreter's argv by its table entry.
pub(super) fn interp_args(spec: &Interp, args: &[Word]) -> InterpArgs {
    let mut out = InterpArgs::default();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let t = a.text.as_str();
        if t == "--" {
            i += 1;
            break;
        }
        if a.dynamic {
            out.unknown_option = Some(t.to_owned());
            break;
        }
        if !t.starts_with('-') || t == "-" {
            break;
        }
        i += 1;
        if let Some(long) = t.strip_prefix("--") {
            let (name, glued) = match long.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(Word { text: v.to_owned(), ..a.clone() })),
                None => (t.to_owned(), None),
            };
            let takes =
                spec.code_long.contains(&name.as_str()) || spec.opts.long_value.contains(&name.as_str());
            let value = match glued {
                Some(v) => Some(v),
                None if takes => {
                    i += 1;
                    args.get(i - 1).cloned()
                }
                None => None,
            };
            if let Some(v) = value.as_ref().filter(|v| v.dynamic && loads_code(spec, &name)) {
                out.unknown_option = Some(v.text.clone());
            }
            if spec.code_long.contains(&name.as_str())
                && let Some(v) = value
            {
                out.code.push((name, v));
            }
            continue;
        }
        let cluster = &t[1..];
        for (at, c) in cluster.char_indices() {
            let rest = &cluster[at + c.len_utf8()..];
            // Node reads no glued values: `-pe CODE` is print and eval of the next word.
            let glues = !spec.names.contains(&"node");
            if spec.code_short.contains(c) {
                let code = if rest.is_empty() || !glues {
                    i += 1;
                    args.get(i - 1).cloned()
                } else {
                    Some(Word { text: rest.to_owned(), ..a.clone() })
                };
                if let Some(code) = code {
                    out.code.push((format!("-{c}"), code));
                }
                break;
            }
            if spec.opts.short_value.contains(c) {
                if c == 'm' && spec.names.contains(&"python") {
                    out.module = true;
                }
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i - 1)
                } else {
                    None
                };
                if let Some(v) = value.filter(|v| v.dynamic && loads_code(spec, &c.to_string())) {
                    out.unknown_option = Some(v.text.clone());
                }
                break;
            }
            if spec.opts.short_glued.contains(c) {
                if c == 'i' {
                    out.in_place = true;
                }
                break;
            }
        }
        // Python reads no options after `-c CODE` or `-m MODULE`: the rest is the program's `sys.argv`.
        if out.module || (!out.code.is_empty() && spec.names.contains(&"python")) {
            break;
        }
    }
    let rest = &args[i.min(args.len())..];
    if out.code.is_empty() && !out.module {
        out.script = rest.first().cloned();
        out.operands = rest.iter().skip(1).cloned().collect();
    } else {
        out.operands = rest.to_vec();
    }
    out
}
