//! The table of options whose value is a command the program runs (`tar --to-command`, `rsync -e`,
//! `ssh -o ProxyCommand=`, `zip -TT`, `sort --compress-program`), and the reader that finds those values in an
//! argv.

use super::filetable::{RSYNC_OPTS, TAR_OPTS};
use super::options::{OptSpec, parse_options};
use crate::vocab::Word;

/// Options whose value is a command the program runs through a shell (or runs directly): the command name,
/// its options' spellings (short letters and long names that take a value), and which of them carry a
/// command. `tar --to-command=CMD`, `rsync -e CMD`, `ssh -o ProxyCommand=CMD`, `zip -TT CMD`.
pub(super) struct CommandOptions {
    pub(super) names: &'static [&'static str],
    pub(super) opts: OptSpec,
    /// Options (short letters or long names) whose value is a command.
    pub(super) runs: &'static [&'static str],
    /// Settings given as `-o KEY=VALUE` (ssh) whose value is a command, by key (case-insensitive).
    pub(super) settings: &'static [&'static str],
}

/// The programs of [`CommandOptions`].
pub(super) const COMMAND_OPTIONS: &[CommandOptions] = &[
    CommandOptions {
        names: &["tar", "gtar", "bsdtar"],
        opts: TAR_OPTS,
        runs: &[
            "I",
            "F",
            "--to-command",
            "--use-compress-program",
            "--info-script",
            "--new-volume-script",
            "--checkpoint-action",
        ],
        settings: &[],
    },
    CommandOptions { names: &["rsync"], opts: RSYNC_OPTS, runs: &["e", "--rsh"], settings: &[] },
    CommandOptions {
        names: &["sort"],
        opts: OptSpec { short_value: "kotST", short_glued: "", long_value: &["--compress-program"] },
        runs: &["--compress-program"],
        settings: &[],
    },
    CommandOptions {
        names: &["ssh", "scp", "sftp", "autossh"],
        opts: OptSpec { short_value: "bcDEeFIiJLlmOopQRSWw", short_glued: "", long_value: &[] },
        runs: &["S"],
        settings: &["proxycommand", "localcommand", "knownhostscommand", "remotecommand"],
    },
    CommandOptions {
        names: &["zip"],
        opts: OptSpec {
            short_value: "bnPtx",
            short_glued: "",
            long_value: &["--unzip-command", "--temp-path"],
        },
        runs: &["--unzip-command"],
        settings: &[],
    },
    CommandOptions {
        names: &["man"],
        opts: OptSpec {
            short_value: "PCMLsSmpRE",
            short_glued: "",
            long_value: &["--pager", "--config-file"],
        },
        runs: &["P", "--pager"],
        settings: &[],
    },
    CommandOptions {
        names: &["script"],
        opts: OptSpec {
            short_value: "cEeIOBTm",
            short_glued: "",
            long_value: &[
                "--command",
                "--echo",
                "--log-in",
                "--log-out",
                "--log-io",
                "--log-timing",
                "--logging-format",
            ],
        },
        runs: &["c", "--command"],
        settings: &[],
    },
    CommandOptions {
        names: &["su", "runuser"],
        opts: OptSpec {
            short_value: "cgGsw",
            short_glued: "",
            long_value: &[
                "--command",
                "--session-command",
                "--group",
                "--supp-group",
                "--shell",
                "--whitelist-environment",
            ],
        },
        runs: &["c", "--command", "--session-command"],
        settings: &[],
    },
];

/// The command-running options of `name`'s argv: each value, with the option that carried it. `-TT` of zip
/// is a two-letter short option and read as such.
pub(super) fn command_option_values(name: &str, args: &[Word]) -> Vec<(String, Word)> {
    let Some(spec) = COMMAND_OPTIONS.iter().find(|c| c.names.contains(&name)) else { return Vec::new() };
    let mut out = Vec::new();
    // zip's `-TT CMD` is one option of two letters.
    for (i, a) in args.iter().enumerate() {
        if name == "zip"
            && a.text == "-TT"
            && let Some(v) = args.get(i + 1)
        {
            out.push(("-TT".to_owned(), v.clone()));
        }
    }
    // Options may follow operands (GNU tar, rsync, ssh's options before the host only, but reading the whole
    // argv over-approximates safely): parse each run of options.
    let mut i = 0;
    while i < args.len() {
        let (opts, first) = parse_options(&args[i..], &spec.opts);
        for o in opts {
            let Some(v) = o.value else { continue };
            if spec.runs.contains(&o.name.as_str()) {
                let v = match o.name.as_str() {
                    // `--checkpoint-action=exec=CMD`; other actions run nothing.
                    "--checkpoint-action" => match v.text.strip_prefix("exec=") {
                        Some(cmd) => Word { text: cmd.to_owned(), ..v },
                        None => continue,
                    },
                    _ => v,
                };
                out.push((o.name, v));
            } else if o.name == "o" && !spec.settings.is_empty() {
                let (key, value) = match v.text.split_once(['=', ' ']) {
                    Some((k, val)) => (k.trim().to_ascii_lowercase(), val.trim().to_owned()),
                    None => (v.text.to_ascii_lowercase(), String::new()),
                };
                if spec.settings.contains(&key.as_str()) {
                    out.push((format!("-o {key}"), Word { text: value, ..v }));
                }
            }
        }
        let next = i + first;
        if next >= args.len() || (next > 0 && args[next - 1].text == "--") {
            break;
        }
        i = next + 1;
    }
    out
}
