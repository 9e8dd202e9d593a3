//! The `git-destructive` rule: git subcommands that lose work no commit holds (uncommitted changes, stashes,
//! unmerged branches, a remote's history). Their safe spellings stay allowed: `reset --soft`, `clean -n`,
//! `restore --staged`, `push --force-with-lease`, `branch -d`, `stash pop`.

use crate::vocab::Word;

/// The options of a git subcommand: long names (in the order an abbreviation is resolved: git accepts any
/// unambiguous prefix, and an ambiguous one is an error, so the first listed wins here), which of them take a
/// value, and the short letters that take one.
struct Spec {
    long: &'static [&'static str],
    long_value: &'static [&'static str],
    short_value: &'static str,
}

fn spec(sub: &str) -> Spec {
    match sub {
        "reset" => Spec {
            long: &["hard", "merge", "mixed", "soft", "keep", "quiet", "patch", "pathspec-from-file"],
            long_value: &["pathspec-from-file"],
            short_value: "",
        },
        "clean" => Spec {
            long: &["force", "dry-run", "quiet", "exclude", "interactive"],
            long_value: &["exclude"],
            short_value: "e",
        },
        "checkout" => Spec {
            long: &[
                "force",
                "quiet",
                "progress",
                "ours",
                "theirs",
                "track",
                "no-track",
                "guess",
                "no-guess",
                "detach",
                "orphan",
                "merge",
                "conflict",
                "patch",
                "pathspec-from-file",
                "pathspec-file-nul",
                "overlay",
                "no-overlay",
                "recurse-submodules",
                "no-recurse-submodules",
                "no-quiet",
                "ignore-other-worktrees",
                "ignore-skip-worktree-bits",
                "overwrite-ignore",
            ],
            long_value: &["orphan", "conflict", "pathspec-from-file"],
            short_value: "bB",
        },
        "switch" => Spec {
            long: &[
                "discard-changes",
                "force",
                "create",
                "force-create",
                "detach",
                "guess",
                "no-guess",
                "merge",
                "conflict",
                "quiet",
                "progress",
                "track",
                "no-track",
                "orphan",
                "ignore-other-worktrees",
                "recurse-submodules",
            ],
            long_value: &["create", "force-create", "conflict", "orphan"],
            short_value: "cC",
        },
        "restore" => Spec {
            long: &[
                "worktree",
                "staged",
                "source",
                "patch",
                "quiet",
                "progress",
                "ours",
                "theirs",
                "merge",
                "conflict",
                "ignore-unmerged",
                "ignore-skip-worktree-bits",
                "recurse-submodules",
                "overlay",
                "no-overlay",
                "pathspec-from-file",
                "pathspec-file-nul",
                "unified",
                "inter-hunk-context",
                "no-staged",
                "no-worktree",
                "no-patch",
            ],
            long_value: &["source", "conflict", "pathspec-from-file", "unified", "inter-hunk-context"],
            short_value: "sU",
        },
        "push" => Spec {
            long: &[
                "force",
                "force-with-lease",
                "force-if-includes",
                "mirror",
                "delete",
                "all",
                "branches",
                "prune",
                "dry-run",
                "porcelain",
                "tags",
                "follow-tags",
                "signed",
                "atomic",
                "receive-pack",
                "exec",
                "repo",
                "set-upstream",
                "thin",
                "quiet",
                "verbose",
                "progress",
                "recurse-submodules",
                "verify",
                "no-verify",
                "push-option",
                "no-force",
            ],
            long_value: &["receive-pack", "exec", "repo", "push-option"],
            short_value: "o",
        },
        "branch" => Spec {
            long: &[
                "delete",
                "force",
                "move",
                "copy",
                "list",
                "all",
                "remotes",
                "verbose",
                "quiet",
                "track",
                "set-upstream-to",
                "unset-upstream",
                "contains",
                "merged",
                "no-merged",
                "sort",
                "format",
                "points-at",
                "color",
                "column",
            ],
            long_value: &[
                "set-upstream-to",
                "contains",
                "merged",
                "no-merged",
                "sort",
                "format",
                "points-at",
            ],
            short_value: "u",
        },
        "worktree" => Spec { long: &["force"], long_value: &[], short_value: "" },
        "rm" => Spec {
            long: &[
                "force",
                "no-force",
                "cached",
                "no-cached",
                "dry-run",
                "no-dry-run",
                "quiet",
                "ignore-unmatch",
                "sparse",
                "pathspec-from-file",
                "pathspec-file-nul",
            ],
            long_value: &["pathspec-from-file"],
            short_value: "",
        },
        "tag" => Spec {
            long: &["delete", "force", "list", "message", "file", "annotate", "sign", "local-user"],
            long_value: &["message", "file", "local-user"],
            short_value: "mFu",
        },
        "rebase" | "merge" | "cherry-pick" | "revert" | "am" => {
            Spec { long: &["abort", "quit", "continue", "skip"], long_value: &[], short_value: "" }
        }
        _ => Spec { long: &[], long_value: &[], short_value: "" },
    }
}

/// A git subcommand's argv, read: its options (long names resolved from abbreviations, short letters) in
/// order, and its operands (everything after `--` included).
#[derive(Debug, Default)]
struct Args {
    opts: Vec<String>,
    operands: Vec<String>,
    /// Paths given after `--`, or through `--pathspec-from-file`.
    pathspec: bool,
    help: bool,
}

impl Args {
    fn parse(sub: &str, rest: &[Word]) -> Self {
        let spec = spec(sub);
        let mut a = Self::default();
        let mut i = 0;
        while i < rest.len() {
            let t = rest[i].text.as_str();
            i += 1;
            if t == "--" {
                a.pathspec |= i < rest.len();
                a.operands.extend(rest[i..].iter().map(|w| w.text.clone()));
                break;
            }
            if matches!(t, "-h" | "--help" | "--version") {
                a.help = true;
                continue;
            }
            if let Some(long) = t.strip_prefix("--") {
                let (name, glued) = match long.split_once('=') {
                    Some((n, _)) => (n, true),
                    None => (long, false),
                };
                let name = spec
                    .long
                    .iter()
                    .find(|l| **l == name)
                    .or_else(|| spec.long.iter().find(|l| name.len() >= 2 && l.starts_with(name)))
                    .map_or(name, |l| *l);
                if spec.long_value.contains(&name) && !glued {
                    i += 1;
                }
                if name == "pathspec-from-file" {
                    a.pathspec = true;
                }
                a.opts.push(name.to_owned());
                continue;
            }
            if t.len() > 1 && t.starts_with('-') {
                for (at, c) in t[1..].char_indices() {
                    if spec.short_value.contains(c) {
                        if t[1 + at + c.len_utf8()..].is_empty() {
                            i += 1;
                        }
                        break;
                    }
                    a.opts.push(c.to_string());
                }
                continue;
            }
            a.operands.push(t.to_owned());
        }
        a
    }

    fn has(&self, names: &[&str]) -> bool {
        self.opts.iter().any(|o| names.contains(&o.as_str()))
    }

    /// The position of the last of `names` (`None` when absent).
    fn last(&self, names: &[&str]) -> Option<usize> {
        self.opts.iter().rposition(|o| names.contains(&o.as_str()))
    }
}

/// Whether some option of `git SUB` loses work (so an option known only at run time may).
pub(crate) fn destructive_capable(sub: &str) -> bool {
    matches!(
        sub,
        "reset"
            | "clean"
            | "checkout"
            | "switch"
            | "restore"
            | "push"
            | "stash"
            | "branch"
            | "tag"
            | "worktree"
            | "rebase"
            | "merge"
            | "cherry-pick"
            | "revert"
            | "am"
            | "reflog"
            | "gc"
            | "rm"
            | "filter-branch"
            | "filter-repo"
    )
}

/// Why `git SUB REST` loses work, when it does. Help and version requests run nothing.
pub(crate) fn destructive(sub: &str, rest: &[Word]) -> Option<String> {
    let a = Args::parse(sub, rest);
    if a.help {
        return None;
    }
    let first = a.operands.first().map(String::as_str);
    let why = match sub {
        "reset" if a.has(&["hard"]) => {
            "`git reset --hard` discards every uncommitted change in the working tree"
        }
        "reset" if a.has(&["merge"]) => "`git reset --merge` can discard uncommitted changes",
        "clean" if a.has(&["f", "force"]) && !a.has(&["n", "dry-run"]) => {
            "`git clean -f` deletes untracked files, which no commit holds"
        }
        "checkout" if a.has(&["f", "force"]) => "`git checkout --force` discards uncommitted changes",
        "checkout"
            if a.pathspec || a.operands.len() > 1 || matches!(first, Some("." | "./" | ":/" | "*")) =>
        {
            "`git checkout [TREE] PATHS` (or `.`) overwrites uncommitted changes to those files"
        }
        "switch" if a.has(&["f", "force", "discard-changes"]) => {
            "`git switch --discard-changes` discards uncommitted changes"
        }
        "restore" if restores_worktree(&a) => {
            "`git restore` without `--staged` overwrites uncommitted changes in the working tree"
        }
        "push"
            if a.has(&["f", "force"])
                || a.operands.iter().any(|o| o.starts_with('+') || o.contains(":+")) =>
        {
            "`git push --force` can overwrite commits on the remote; use `--force-with-lease`"
        }
        "push" if a.has(&["mirror"]) => "`git push --mirror` can overwrite and delete refs on the remote",
        "push"
            if a.has(&["d", "delete"])
                || a.operands.iter().skip(1).any(|o| o.starts_with(':') && o.len() > 1) =>
        {
            "`git push --delete` (or `:branch`) deletes a branch on the remote"
        }
        "stash" if matches!(first, Some("drop" | "clear")) => {
            "`git stash drop`/`clear` deletes stashed changes, which no branch holds"
        }
        "branch" if a.has(&["D"]) || (a.has(&["d", "delete"]) && a.has(&["f", "force"])) => {
            "`git branch -D` deletes a branch even when its commits are merged nowhere"
        }
        "tag" if a.has(&["d", "delete"]) => "`git tag -d` deletes a tag",
        "rm" if a.last(&["f", "force"]) > a.last(&["no-force"])
            && a.last(&["cached"]) <= a.last(&["no-cached"])
            && a.last(&["n", "dry-run"]) <= a.last(&["no-dry-run"]) =>
        {
            "`git rm -f` deletes files with changes no commit holds"
        }
        "worktree" if first == Some("remove") && a.has(&["f", "force"]) => {
            "`git worktree remove --force` deletes a worktree with its uncommitted changes"
        }
        "rebase" | "merge" | "cherry-pick" | "revert" | "am" if a.has(&["abort"]) => {
            "`--abort` throws away the resolution in progress and resets the working tree"
        }
        "filter-branch" | "filter-repo" => "history rewrites change commits others may have pulled",
        "reflog" if matches!(first, Some("expire" | "delete")) => {
            "`git reflog expire`/`delete` removes the record that recovers lost commits"
        }
        "gc" if rest.iter().any(|a| a.text == "--prune=now" || a.text == "--prune=all") => {
            "`git gc --prune=now` deletes unreachable commits at once"
        }
        _ => return None,
    };
    Some(why.to_owned())
}

/// Whether `git restore` writes the working tree: `--worktree` (unless a later `--no-worktree`), or no
/// `--staged` at all; and there are paths to restore.
fn restores_worktree(a: &Args) -> bool {
    let staged = a.last(&["S", "staged"]) > a.last(&["no-staged"]);
    let worktree_on = a.last(&["W", "worktree"]) > a.last(&["no-worktree"]);
    let worktree_off = a.last(&["no-worktree"]).is_some() && !worktree_on;
    let worktree = worktree_on || (!staged && !worktree_off);
    let patch = a.last(&["p", "patch"]) > a.last(&["no-patch"]);
    let paths = !a.operands.is_empty() || a.pathspec || patch;
    worktree && paths
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(line: &str, expected: bool) {
        let words: Vec<Word> = line.split_whitespace().map(Word::lit).collect();
        let got = destructive(&words[0].text, &words[1..]).is_some();
        assert_eq!(got, expected, "git {line}");
    }

    #[test]
    fn losing_work() {
        check("reset --hard HEAD~1", true);
        check("clean -fd", true);
        check("clean -xdf", true);
        check("checkout -- src/a.rs", true);
        check("checkout .", true);
        check("restore src/a.rs", true);
        check("restore --staged --worktree a", true);
        check("push --force origin main", true);
        check("push -f", true);
        check("push origin +main", true);
        check("push --force-with-lease --force origin main", true);
        check("stash drop", true);
        check("stash clear", true);
        check("branch -D topic", true);
        check("branch --delete --force topic", true);
    }

    #[test]
    fn keeping_work() {
        check("reset --soft HEAD~1", false);
        check("reset HEAD a.rs", false);
        check("clean -n", false);
        check("clean -fn", false);
        check("checkout main", false);
        check("checkout -b topic", false);
        check("restore --staged a.rs", false);
        check("push --force-with-lease origin main", false);
        check("push origin main", false);
        check("stash pop", false);
        check("stash", false);
        check("branch -d topic", false);
    }
}
