//! The `git-destructive` rule: git subcommands that lose work no commit holds (uncommitted changes, stashes,
//! unmerged branches, a remote's history). Their safe spellings stay allowed: `reset --soft`, `clean -n`,
//! `restore --staged`, `push --force-with-lease`, `branch -d`, `stash pop`.

use crate::vocab::Word;

/// The rule id.
pub(crate) const GIT_DESTRUCTIVE: &str = "git-destructive";

/// Whether `arg` is the short option `c`, alone or in a cluster (`-fd`), or one of the long spellings.
fn flag(rest: &[Word], short: char, long: &[&str]) -> bool {
    rest.iter().any(|a| {
        let t = a.text.as_str();
        long.iter().any(|l| t == *l || t.strip_prefix(l).is_some_and(|v| v.starts_with('=')))
            || (t.len() > 1 && t.starts_with('-') && !t.starts_with("--") && t[1..].contains(short))
    })
}

fn has(rest: &[Word], word: &str) -> bool {
    rest.iter().any(|a| a.text == word)
}

/// The operands after options (and after `--`).
fn operands(rest: &[Word]) -> Vec<&Word> {
    rest.iter().filter(|a| !a.text.starts_with('-')).collect()
}

/// Why `git SUB REST` loses work, when it does.
pub(crate) fn destructive(sub: &str, rest: &[Word]) -> Option<String> {
    let why = match sub {
        "reset" if has(rest, "--hard") => {
            "`git reset --hard` discards every uncommitted change in the working tree"
        }
        "reset" if has(rest, "--merge") => "`git reset --merge` can discard uncommitted changes",
        "clean" if flag(rest, 'f', &["--force"]) && !flag(rest, 'n', &["--dry-run"]) => {
            "`git clean -f` deletes untracked files, which no commit holds"
        }
        "checkout" if flag(rest, 'f', &["--force"]) => "`git checkout --force` discards uncommitted changes",
        "checkout"
            if rest.iter().position(|a| a.text == "--").is_some_and(|p| p + 1 < rest.len())
                || operands(rest).iter().any(|a| matches!(a.text.as_str(), "." | "./" | ":/" | "*")) =>
        {
            "`git checkout -- PATHS` (or `.`) overwrites uncommitted changes to those files"
        }
        "switch" if flag(rest, 'f', &["--force", "--discard-changes"]) => {
            "`git switch --discard-changes` discards uncommitted changes"
        }
        "restore" if !restores_only_the_index(rest) => {
            "`git restore` without `--staged` overwrites uncommitted changes in the working tree"
        }
        "push" if force_push(rest) => {
            "`git push --force` can overwrite commits on the remote; use `--force-with-lease`"
        }
        "push" if has(rest, "--mirror") => "`git push --mirror` can overwrite and delete refs on the remote",
        "stash" if matches!(rest.first().map(|w| w.text.as_str()), Some("drop" | "clear")) => {
            "`git stash drop`/`clear` deletes stashed changes, which no branch holds"
        }
        "branch" if has(rest, "-D") || (flag(rest, 'd', &["--delete"]) && flag(rest, 'f', &["--force"])) => {
            "`git branch -D` deletes a branch even when its commits are merged nowhere"
        }
        "filter-branch" | "filter-repo" => "history rewrites change commits others may have pulled",
        "reflog" if matches!(rest.first().map(|w| w.text.as_str()), Some("expire" | "delete")) => {
            "`git reflog expire`/`delete` removes the record that recovers lost commits"
        }
        "gc" if rest.iter().any(|a| a.text == "--prune=now" || a.text == "--prune=all") => {
            "`git gc --prune=now` deletes unreachable commits at once"
        }
        _ => return None,
    };
    Some(why.to_owned())
}

/// `git restore` changes only the index with `--staged`/`-S` and without `--worktree`/`-W`.
fn restores_only_the_index(rest: &[Word]) -> bool {
    let staged = flag(rest, 'S', &["--staged"]);
    let worktree = flag(rest, 'W', &["--worktree"]);
    staged && !worktree
}

/// A push that may overwrite the remote: `--force`/`-f` (even beside a lease: a plain force is not bound by
/// it), or a `+refspec`. `--force-with-lease` alone checks what it overwrites.
fn force_push(rest: &[Word]) -> bool {
    rest.iter().any(|a| {
        let t = a.text.as_str();
        t == "--force"
            || (t.len() > 1 && t.starts_with('-') && !t.starts_with("--") && t[1..].contains('f'))
            || (t.len() > 1 && t.starts_with('+'))
    })
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
