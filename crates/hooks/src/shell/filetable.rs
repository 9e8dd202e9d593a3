//! The file table: commands that delete, write, copy, move, link, archive and download paths, one row each. A row says how the
//! command spells its options, what each operand is (deleted, copied from, moved from, the destination, an
//! archive member) and which options change that (recursive, a target folder, links instead of copies,
//! deletes in the destination, an archive's mode and folder). `fileops` reads an argv by its row.

use super::options::OptSpec;

/// What a command does with its operands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Layout {
    /// Every operand is removed (`rm`, `unlink`, `trash`).
    Delete,
    /// Every operand is created or changed (`touch`, `tee`, `mkdir`, `chmod`); with a recursive option the whole
    /// tree under it changes, judged like a recursive delete (`chmod -R 000 ~` loses as much as `rm -rf ~`).
    Write,
    /// Every operand but the last is copied into the last (or into the target folder's value): the sources are
    /// read, the destination is written, and each source's name inside it when it is a folder.
    Copy,
    /// As [`Layout::Copy`], and the sources are removed (`mv`).
    Move,
    /// Operands and option words may name files the command reads (as any command's do), and the values of
    /// `writes_values` options are files or folders it writes (`curl -o FILE`, `wget -P DIR`, `sort -o FILE`).
    Reads,
    /// An archive: `-f FILE` is written or read by the mode, the operands are read whole from the folder the
    /// last `-C` named, and an extraction writes into that folder (`tar`).
    Archive,
}

/// Options that make a copy a link: hard, symbolic, and relative to the working folder instead of the link.
#[derive(Debug, Clone, Copy)]
pub(super) struct Links {
    /// The command always makes links (`ln`, `link`).
    pub(super) always: bool,
    /// Options that make hard links (`cp -l`).
    pub(super) hard: &'static [&'static str],
    /// Options that make symbolic links (`ln -s`, `cp -s`).
    pub(super) soft: &'static [&'static str],
    /// Options that resolve a symbolic link's target from the working folder (`ln -r`).
    pub(super) relative: &'static [&'static str],
}

impl Links {
    const NONE: Self = Self { always: false, hard: &[], soft: &[], relative: &[] };
}

/// An archive's options: where the archive is, which folder the members are read from or written to, and the
/// options that pick the mode.
#[derive(Debug, Clone, Copy)]
pub(super) struct ArchiveOpts {
    /// Options whose value is the archive (`-f`, `--file`); `-` is standard input or output.
    pub(super) file: &'static [&'static str],
    /// Options whose value is the folder the next operands are relative to (`-C`, `--directory`).
    pub(super) dir: &'static [&'static str],
    /// Modes that write the archive (`c`, `r`, `u`, `A`, `--delete`).
    pub(super) writes: &'static [&'static str],
    /// Modes that write the members into the folder (`x`, `--extract`).
    pub(super) extracts: &'static [&'static str],
    /// Modes that only read (`t`, `--list`, `d`, `--diff`).
    pub(super) reads: &'static [&'static str],
}

/// One command of the file table. Option names are short letters (`"r"`) or long names with their dashes
/// (`"--recursive"`); a long option also matches an abbreviation of at least one letter, as getopt accepts
/// (`--recur`), which errs on the side of the option being there.
#[derive(Debug)]
pub(super) struct FileCommand {
    pub(super) names: &'static [&'static str],
    /// How options are spelled; options may come anywhere before `--` (GNU order).
    pub(super) opts: OptSpec,
    pub(super) layout: Layout,
    /// Options that make a delete remove whole trees and a copy read whole folders.
    pub(super) recursive: &'static [&'static str],
    /// Options whose value is the destination folder (`-t DIR`); then every operand is a source.
    pub(super) target_dir: &'static [&'static str],
    /// Options that make every operand a destination folder that is created (`install -d`).
    pub(super) all_destinations: &'static [&'static str],
    /// The first operand must be one of these words, or nothing is changed (`gio trash|remove`).
    pub(super) subcommands: &'static [&'static str],
    pub(super) links: Links,
    /// Options (or their prefixes) that delete in the destination what the sources lack (`rsync --delete*`).
    pub(super) deletes_in_dest: &'static [&'static str],
    /// Options that remove the sources after copying (`rsync --remove-source-files`), or the operands after
    /// writing them (`shred -u`).
    pub(super) removes_sources: &'static [&'static str],
    /// Leading operands that are not paths (`chmod MODE`, `chown OWNER`), unless an option of `no_skip_with`
    /// stands for them (`chmod --reference=FILE`).
    pub(super) skip_operands: usize,
    pub(super) no_skip_with: &'static [&'static str],
    /// A word of a dash and only these letters is an operand, not options (`chmod -w FILE` is a mode).
    pub(super) dash_operand: &'static str,
    /// Options whose value is a file or folder the command writes (`curl -o`, `--output`, `-sSo FILE`).
    pub(super) writes_values: &'static [&'static str],
    /// What a [`Layout::Reads`] command writes when none of `writes_values` is given (`unzip` extracts into
    /// `.`); empty for nothing.
    pub(super) default_write: &'static str,
    /// A copy's destination is its first operand, not its last (`zip ARCHIVE FILES...`).
    pub(super) dest_first: bool,
    /// `HOST:PATH` operands are on another machine (`scp`, `rsync`, `tar -f`).
    pub(super) remote: bool,
    pub(super) archive: Option<ArchiveOpts>,
}

impl FileCommand {
    const DEFAULT: Self = Self {
        names: &[],
        opts: OptSpec::NONE,
        layout: Layout::Delete,
        recursive: &[],
        target_dir: &[],
        all_destinations: &[],
        subcommands: &[],
        links: Links::NONE,
        deletes_in_dest: &[],
        removes_sources: &[],
        skip_operands: 0,
        no_skip_with: &[],
        dash_operand: "",
        writes_values: &[],
        default_write: "",
        dest_first: false,
        remote: false,
        archive: None,
    };
}

/// tar's options (shared with the table of options that run commands: `--to-command`, `-I`).
pub(super) const TAR_OPTS: OptSpec = OptSpec {
    short_value: "fCIFTXbgKLNV",
    short_glued: "",
    long_value: &[
        "--file",
        "--directory",
        "--to-command",
        "--use-compress-program",
        "--info-script",
        "--new-volume-script",
        "--checkpoint-action",
        "--files-from",
        "--exclude-from",
        "--exclude",
        "--transform",
        "--owner",
        "--group",
        "--mode",
        "--mtime",
        "--format",
        "--label",
        "--blocking-factor",
        "--record-size",
        "--newer",
        "--after-date",
    ],
};

/// rsync's options (shared with the table of options that run commands: `-e`, `--rsh`).
pub(super) const RSYNC_OPTS: OptSpec = OptSpec {
    short_value: "eBfTM",
    short_glued: "",
    long_value: &[
        "--rsh",
        "--rsync-path",
        "--exclude",
        "--include",
        "--filter",
        "--exclude-from",
        "--include-from",
        "--files-from",
        "--chmod",
        "--log-file",
        "--temp-dir",
        "--partial-dir",
        "--backup-dir",
        "--compare-dest",
        "--copy-dest",
        "--link-dest",
        "--suffix",
    ],
};

const RECURSIVE_COPY: &[&str] = &["r", "R", "a", "--recursive", "--archive"];

/// The rows. Adding a command that changes, copies, moves, links, deletes or archives files is a row here and a
/// test.
pub(super) const FILE_COMMANDS: &[FileCommand] = &[
    FileCommand {
        names: &["rm", "unlink", "rmdir", "srm", "trash", "trash-put"],
        recursive: &["r", "R", "--recursive"],
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["gio"],
        recursive: &["r", "R", "--recursive"],
        subcommands: &["trash", "remove", "rm"],
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["curl"],
        opts: OptSpec {
            short_value: "AbcCdDeEFHKmoPQrTuUwxXyYz",
            short_glued: "",
            long_value: &[
                "--output",
                "--output-dir",
                "--dump-header",
                "--cookie-jar",
                "--trace",
                "--trace-ascii",
                "--stderr",
                "--libcurl",
                "--etag-save",
                "--data",
                "--data-binary",
                "--data-raw",
                "--data-urlencode",
                "--form",
                "--header",
                "--request",
                "--user",
                "--user-agent",
                "--upload-file",
                "--config",
                "--cookie",
                "--url",
            ],
        },
        layout: Layout::Reads,
        writes_values: &[
            "o",
            "D",
            "c",
            "--output",
            "--output-dir",
            "--dump-header",
            "--cookie-jar",
            "--trace",
            "--trace-ascii",
            "--stderr",
            "--libcurl",
            "--etag-save",
        ],
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["wget"],
        opts: OptSpec {
            short_value: "AaDeiIloOPQRtTUwX",
            short_glued: "",
            long_value: &[
                "--output-document",
                "--output-file",
                "--append-output",
                "--directory-prefix",
                "--save-cookies",
                "--warc-file",
                "--input-file",
                "--execute",
                "--user-agent",
                "--header",
                "--post-data",
                "--post-file",
            ],
        },
        layout: Layout::Reads,
        writes_values: &[
            "O",
            "o",
            "a",
            "P",
            "--output-document",
            "--output-file",
            "--append-output",
            "--directory-prefix",
            "--save-cookies",
            "--warc-file",
        ],
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["sort"],
        opts: OptSpec {
            short_value: "kotST",
            short_glued: "",
            long_value: &[
                "--key",
                "--output",
                "--field-separator",
                "--buffer-size",
                "--temporary-directory",
                "--files0-from",
                "--batch-size",
                "--compress-program",
                "--parallel",
                "--random-source",
                "--sort",
            ],
        },
        layout: Layout::Reads,
        writes_values: &["o", "--output"],
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["unzip"],
        opts: OptSpec { short_value: "dP", short_glued: "", long_value: &[] },
        layout: Layout::Reads,
        writes_values: &["d"],
        default_write: ".",
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["zip"],
        opts: OptSpec {
            short_value: "bnPtO",
            short_glued: "",
            long_value: &["--unzip-command", "--temp-path", "--output-file", "--password", "--suffixes"],
        },
        layout: Layout::Copy,
        recursive: &["r", "R", "--recurse-paths", "--recurse-patterns"],
        target_dir: &["O", "--output-file"],
        dest_first: true,
        ..FileCommand::DEFAULT
    },
    FileCommand { names: &["tee"], layout: Layout::Write, ..FileCommand::DEFAULT },
    FileCommand {
        names: &["touch"],
        opts: OptSpec {
            short_value: "drt",
            short_glued: "",
            long_value: &["--date", "--reference", "--time"],
        },
        layout: Layout::Write,
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["truncate"],
        opts: OptSpec { short_value: "sr", short_glued: "", long_value: &["--size", "--reference"] },
        layout: Layout::Write,
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["shred"],
        opts: OptSpec {
            short_value: "ns",
            short_glued: "",
            long_value: &["--iterations", "--size", "--random-source"],
        },
        layout: Layout::Write,
        removes_sources: &["u", "--remove"],
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["mkdir", "mkfifo", "mknod"],
        opts: OptSpec { short_value: "m", short_glued: "", long_value: &["--mode", "--context"] },
        layout: Layout::Write,
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["chattr"],
        opts: OptSpec { short_value: "vp", short_glued: "", long_value: &[] },
        layout: Layout::Write,
        recursive: &["R"],
        skip_operands: 1,
        dash_operand: "aAcCdDeFijmPsStTux",
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["setfacl"],
        opts: OptSpec {
            short_value: "mMxX",
            short_glued: "",
            long_value: &["--modify", "--modify-file", "--remove", "--remove-file", "--set", "--set-file"],
        },
        layout: Layout::Write,
        recursive: &["R", "--recursive"],
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["chmod"],
        opts: OptSpec { short_value: "", short_glued: "", long_value: &["--reference"] },
        layout: Layout::Write,
        recursive: &["R", "--recursive"],
        skip_operands: 1,
        no_skip_with: &["--reference"],
        dash_operand: "rwxXstugoa",
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["chown", "chgrp"],
        opts: OptSpec { short_value: "", short_glued: "", long_value: &["--reference", "--from"] },
        layout: Layout::Write,
        recursive: &["R", "--recursive"],
        skip_operands: 1,
        no_skip_with: &["--reference"],
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["cp"],
        opts: OptSpec { short_value: "St", short_glued: "", long_value: &["--suffix", "--target-directory"] },
        layout: Layout::Copy,
        recursive: RECURSIVE_COPY,
        target_dir: &["t", "--target-directory"],
        links: Links {
            always: false,
            hard: &["l", "--link"],
            soft: &["s", "--symbolic-link"],
            relative: &[],
        },
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["install"],
        opts: OptSpec {
            short_value: "mogSt",
            short_glued: "",
            long_value: &[
                "--mode",
                "--owner",
                "--group",
                "--suffix",
                "--target-directory",
                "--strip-program",
            ],
        },
        layout: Layout::Copy,
        target_dir: &["t", "--target-directory"],
        all_destinations: &["d", "--directory"],
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["ln"],
        opts: OptSpec { short_value: "St", short_glued: "", long_value: &["--suffix", "--target-directory"] },
        layout: Layout::Copy,
        target_dir: &["t", "--target-directory"],
        links: Links { always: true, hard: &[], soft: &["s", "--symbolic"], relative: &["r", "--relative"] },
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["link"],
        layout: Layout::Copy,
        links: Links { always: true, hard: &[], soft: &[], relative: &[] },
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["mv"],
        opts: OptSpec { short_value: "St", short_glued: "", long_value: &["--suffix", "--target-directory"] },
        layout: Layout::Move,
        target_dir: &["t", "--target-directory"],
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["rsync"],
        opts: RSYNC_OPTS,
        layout: Layout::Copy,
        recursive: RECURSIVE_COPY,
        deletes_in_dest: &["--del"],
        removes_sources: &["--remove-source-files"],
        remote: true,
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["scp"],
        opts: OptSpec { short_value: "PioFclSJ", short_glued: "", long_value: &[] },
        layout: Layout::Copy,
        recursive: RECURSIVE_COPY,
        remote: true,
        ..FileCommand::DEFAULT
    },
    FileCommand {
        names: &["tar", "gtar", "bsdtar"],
        opts: TAR_OPTS,
        layout: Layout::Archive,
        remote: true,
        archive: Some(ArchiveOpts {
            file: &["f", "--file"],
            dir: &["C", "--directory"],
            writes: &[
                "c",
                "r",
                "u",
                "A",
                "--create",
                "--append",
                "--update",
                "--catenate",
                "--concatenate",
                "--delete",
            ],
            extracts: &["x", "--extract", "--get"],
            reads: &["t", "d", "--list", "--diff", "--compare"],
        }),
        ..FileCommand::DEFAULT
    },
];

/// The row for a command name.
pub(super) fn file_command(name: &str) -> Option<&'static FileCommand> {
    FILE_COMMANDS.iter().find(|c| c.names.contains(&name))
}
