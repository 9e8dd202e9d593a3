//! Paths touched by patch payloads: Codex `apply_patch` envelopes and unified diffs.

use crate::vocab::Access;

/// Every path a patch touches, with what it does to it. `None` when the text is neither an `apply_patch`
/// envelope nor a unified diff (the caller denies it: a patch it cannot read is not allowed).
pub(crate) fn patch_paths(text: &str) -> Option<Vec<(Access, String)>> {
    let trimmed = text.trim_start();
    if trimmed.starts_with("*** Begin Patch") {
        return Some(envelope_paths(trimmed));
    }
    let diff = unified_diff_paths(text);
    if diff.is_empty() { None } else { Some(diff) }
}

/// The Codex envelope: `*** Add File:`, `*** Update File:`, `*** Delete File:` and `*** Move to:` lines.
fn envelope_paths(text: &str) -> Vec<(Access, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let header = |prefix: &str| line.strip_prefix(prefix).map(|p| p.trim().to_owned());
        if let Some(p) = header("*** Add File:") {
            out.push((Access::Write, p));
        } else if let Some(p) = header("*** Update File:") {
            out.push((Access::Write, p));
        } else if let Some(p) = header("*** Delete File:") {
            out.push((Access::Delete { recursive: false }, p));
        } else if let Some(p) = header("*** Move to:") {
            // The source of a move disappears; the destination is written.
            if let Some((_, src)) = out.last().cloned() {
                out.push((Access::Delete { recursive: false }, src));
            }
            out.push((Access::Write, p));
        }
    }
    out
}

/// The `--- a/x` / `+++ b/y` headers of a unified diff (`/dev/null` sides skipped, `a/` `b/` stripped).
pub(crate) fn unified_diff_paths(text: &str) -> Vec<(Access, String)> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let (rest, access) = if let Some(r) = line.strip_prefix("+++ ") {
            (r, Access::Write)
        } else if let Some(r) = line.strip_prefix("--- ") {
            (r, Access::Write)
        } else if let Some(r) = line.strip_prefix("rename to ") {
            (r, Access::Write)
        } else if let Some(r) = line.strip_prefix("rename from ") {
            (r, Access::Delete { recursive: false })
        } else {
            continue;
        };
        let path = rest.split('\t').next().unwrap_or(rest).trim();
        if path == "/dev/null" || path.is_empty() {
            continue;
        }
        let path = path.strip_prefix("a/").or_else(|| path.strip_prefix("b/")).unwrap_or(path);
        out.push((access, path.to_owned()));
    }
    out
}

/// The files `patch(1)` or `git apply` changes for a unified or context diff: the names in `---`/`+++` header
/// pairs (`***`/`---` in a context diff), `Index:` lines and git `rename to`/`copy to` lines, with `strip`
/// leading components removed (`-pN`). Without `-p` GNU patch may use the whole name or only its last
/// components, so every suffix of each name is returned. `/dev/null` sides are skipped.
pub(crate) fn diff_targets(text: &str, strip: Option<usize>) -> Vec<String> {
    let mut names = Vec::new();
    let mut unstripped = Vec::new();
    let mut prev: Option<&str> = None;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        if let Some(new) = line.strip_prefix("+++ ") {
            // A unified header pair: `--- old` directly followed by `+++ new`. A hunk line that removes a
            // line starting with `-- ` looks like a header on its own, so a lone one is not taken.
            if let Some(old) = prev.and_then(|p| p.strip_prefix("--- ")) {
                names.push(header_name(old));
                names.push(header_name(new));
            }
        } else if let Some(new) = line.strip_prefix("--- ")
            && let Some(old) = prev.and_then(|p| p.strip_prefix("*** "))
        {
            // A context header pair; `*** 1,3 ****` and `--- 1,3 ----` are hunk ranges, not names.
            let is_range = |s: &str| s.trim_start().starts_with(|c: char| c.is_ascii_digit());
            if !is_range(old) && !is_range(new) {
                names.push(header_name(old));
                names.push(header_name(new));
            }
        } else if let Some(n) = line.strip_prefix("Index: ") {
            names.push(header_name(n));
        } else if let Some(n) =
            ["rename to ", "copy to ", "rename from "].iter().find_map(|p| line.strip_prefix(p))
        {
            // Git's extended headers name the paths without the `a/` `b/` prefixes: nothing to strip.
            unstripped.push(header_name(n));
        }
        prev = Some(line);
    }
    let mut out = Vec::new();
    let all = names.into_iter().map(|n| (n, true)).chain(unstripped.into_iter().map(|n| (n, false)));
    for (name, strippable) in all {
        if name.is_empty() || name == "/dev/null" {
            continue;
        }
        let candidates = match strip {
            _ if !strippable => vec![name.clone()],
            Some(n) => vec![strip_components(&name, n).to_owned()],
            None => suffixes(&name),
        };
        for c in candidates {
            if !c.is_empty() && !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// The name in a diff header: up to a tab (a timestamp follows it), a git-quoted name unquoted.
fn header_name(rest: &str) -> String {
    let name = rest.split('\t').next().unwrap_or(rest).trim();
    match name.strip_prefix('"').and_then(|n| n.strip_suffix('"')) {
        Some(quoted) => quoted.replace("\\\"", "\"").replace("\\\\", "\\"),
        None => name.to_owned(),
    }
}

/// `name` without its smallest prefix holding `n` slashes (patch's `-pN`); the whole name when it has fewer.
fn strip_components(name: &str, n: usize) -> &str {
    let mut rest = name;
    for _ in 0..n {
        match rest.find('/') {
            Some(i) => rest = &rest[i + 1..],
            None => return name,
        }
    }
    rest
}

/// The name and every name left after removing leading components (`a/b/c`, `b/c`, `c`).
fn suffixes(name: &str) -> Vec<String> {
    let mut out = vec![name.to_owned()];
    let mut rest = name;
    while let Some(i) = rest.find('/') {
        rest = &rest[i + 1..];
        if !rest.is_empty() {
            out.push(rest.to_owned());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &[(Access, &str)]) {
        let got = patch_paths(text).unwrap_or_default();
        let want: Vec<(Access, String)> = expected.iter().map(|(a, p)| (*a, (*p).to_owned())).collect();
        assert_eq!(got, want);
    }

    #[test]
    fn envelope() {
        check(
            "*** Begin Patch\n*** Add File: a.txt\n+hi\n*** Update File: src/x.rs\n*** Move to: generated/y.rs\n@@\n-a\n+b\n*** Delete File: old.txt\n*** End Patch\n",
            &[
                (Access::Write, "a.txt"),
                (Access::Write, "src/x.rs"),
                (Access::Delete { recursive: false }, "src/x.rs"),
                (Access::Write, "generated/y.rs"),
                (Access::Delete { recursive: false }, "old.txt"),
            ],
        );
    }

    #[test]
    fn unified() {
        check(
            "--- a/src/x.rs\n+++ b/.env\n@@ -1 +1 @@\n",
            &[(Access::Write, "src/x.rs"), (Access::Write, ".env")],
        );
        check("--- /dev/null\n+++ b/new.txt\n", &[(Access::Write, "new.txt")]);
    }

    #[test]
    fn not_a_patch() {
        assert!(patch_paths("hello").is_none());
    }

    fn targets(text: &str, strip: Option<usize>, expected: &[&str]) {
        assert_eq!(diff_targets(text, strip), expected.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
    }

    #[test]
    fn diff_targets_strip() {
        let diff = "--- x/generated/a.rs\t2024-01-01\n+++ y/generated/a.rs\n@@ -1 +1 @@\n-a\n+b\n";
        targets(diff, Some(1), &["generated/a.rs"]);
        targets(diff, Some(0), &["x/generated/a.rs", "y/generated/a.rs"]);
        targets(diff, None, &["x/generated/a.rs", "generated/a.rs", "a.rs", "y/generated/a.rs"]);
        targets("--- /dev/null\n+++ b/new.txt\n", Some(1), &["new.txt"]);
    }

    #[test]
    fn diff_targets_ignore_lone_headers() {
        // A removed SQL comment line (`-- x`) inside a hunk is no header.
        targets("--- a/q.sql\n+++ b/q.sql\n@@ -1,2 +1 @@\n--- drop it\n keep\n", Some(1), &["q.sql"]);
        targets("no diff here\n", None, &[]);
    }

    #[test]
    fn diff_targets_context_and_git() {
        targets(
            "*** a/src/x.c\n--- b/.env\n***************\n*** 1,3 ****\n--- 1,3 ----\n",
            Some(1),
            &["src/x.c", ".env"],
        );
        targets(
            "diff --git a/src/x b/generated/x\nrename from src/x\nrename to generated/x\n",
            Some(1),
            &["src/x", "generated/x"],
        );
    }
}
