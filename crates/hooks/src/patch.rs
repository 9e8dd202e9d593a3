//! Paths touched by patch payloads: Codex `apply_patch` envelopes and unified diffs.

use crate::shell::Access;

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
}
