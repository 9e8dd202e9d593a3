//! `cargo xtask tidy`: the house rules, checked from `cargo metadata` and the manifests.
//!
//! The same checks run as a `#[test]`, so plain `cargo test --workspace` fails when a rule is broken.

use std::{
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

use anyhow::{Context, bail};
use serde_json::Value;

use crate::cargo;

/// Macro calls that mark unfinished code (spelled in two pieces so this file does not match itself).
const STUB_MACROS: [&str; 2] = [concat!("todo", "!("), concat!("unimplemented", "!(")];

/// The one crate under `crates/` that every other may depend on.
const TYPES: &str = "agentry-types";

pub(crate) fn run(root: &Path) -> anyhow::Result<()> {
    let problems = check(root)?;
    if problems.is_empty() {
        eprintln!("tidy: ok");
        return Ok(());
    }
    let mut text = String::new();
    for p in &problems {
        let _ = writeln!(text, "  - {p}");
    }
    bail!("tidy found {} problem(s):\n{text}", problems.len())
}

/// Every broken rule in the workspace at `root`, as one sentence each.
pub(crate) fn check(root: &Path) -> anyhow::Result<Vec<String>> {
    let meta = metadata(root)?;
    let mut problems = Vec::new();
    let packages = meta["packages"].as_array().context("cargo metadata has no packages")?;
    let crates_dir = root.join("crates");
    let crate_names: Vec<&str> = packages
        .iter()
        .filter(|p| manifest_path(p).starts_with(&crates_dir))
        .filter_map(|p| p["name"].as_str())
        .collect();

    for p in packages {
        let name = p["name"].as_str().unwrap_or("?");
        let manifest = manifest_path(p);
        let under_crates = manifest.starts_with(&crates_dir);
        if under_crates {
            independence(p, name, &crate_names, &mut problems);
        }
        manifest_rules(&manifest, name, &mut problems)?;
        if under_crates {
            let dir = manifest.parent().unwrap_or(root);
            if !dir.join("README.md").is_file() {
                problems.push(format!("{name} has no README.md"));
            }
            no_stubs(&dir.join("src"), &mut problems)?;
        }
    }
    architecture(root, &crate_names, &mut problems)?;
    Ok(problems)
}

fn metadata(root: &Path) -> anyhow::Result<Value> {
    let out = cargo()
        .args(["metadata", "--no-deps", "--format-version", "1", "--offline"])
        .current_dir(root)
        .output()
        .context("running cargo metadata")?;
    if !out.status.success() {
        bail!("cargo metadata failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    serde_json::from_slice(&out.stdout).context("parsing cargo metadata")
}

fn manifest_path(p: &Value) -> PathBuf {
    PathBuf::from(p["manifest_path"].as_str().unwrap_or_default())
}

/// S2: a crate under `crates/` depends on `agentry-types` and third-party crates, never on a sibling,
/// in any dependency kind (normal, dev or build).
fn independence(p: &Value, name: &str, crate_names: &[&str], problems: &mut Vec<String>) {
    let deps = p["dependencies"].as_array().map(Vec::as_slice).unwrap_or_default();
    for d in deps {
        let dep = d["name"].as_str().unwrap_or_default();
        if dep != name && dep != TYPES && crate_names.contains(&dep) {
            let kind = d["kind"].as_str().unwrap_or("normal");
            problems.push(format!(
                "{name} depends on its sibling {dep} ({kind} dependency): crates under crates/ share only {TYPES}"
            ));
        }
    }
}

/// S3/S4: members use the workspace lints and take every dependency version from the workspace.
fn manifest_rules(manifest: &Path, name: &str, problems: &mut Vec<String>) -> anyhow::Result<()> {
    let text = fs::read_to_string(manifest).with_context(|| format!("reading {}", manifest.display()))?;
    let doc: toml::Table = text.parse().with_context(|| format!("parsing {}", manifest.display()))?;
    let lints_ok =
        doc.get("lints").and_then(|l| l.get("workspace")).and_then(toml::Value::as_bool) == Some(true);
    if !lints_ok {
        problems.push(format!("{name} does not set [lints] workspace = true"));
    }
    let mut tables: Vec<(String, &toml::Table)> = Vec::new();
    for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(t) = doc.get(kind).and_then(toml::Value::as_table) {
            tables.push((kind.to_owned(), t));
        }
    }
    if let Some(targets) = doc.get("target").and_then(toml::Value::as_table) {
        for (cfg, t) in targets {
            for kind in ["dependencies", "dev-dependencies", "build-dependencies"] {
                if let Some(t) = t.get(kind).and_then(toml::Value::as_table) {
                    tables.push((format!("target.{cfg}.{kind}"), t));
                }
            }
        }
    }
    for (kind, table) in tables {
        for (dep, spec) in table {
            let inherited = spec.get("workspace").and_then(toml::Value::as_bool) == Some(true);
            if !inherited {
                problems.push(format!(
                    "{name}: [{kind}] {dep} sets its own version; declare it in [workspace.dependencies] \
                     and write `{dep}.workspace = true`"
                ));
            }
        }
    }
    Ok(())
}

/// No `todo!` or `unimplemented!` in library code (test modules excepted).
fn no_stubs(src: &Path, problems: &mut Vec<String>) -> anyhow::Result<()> {
    for file in rust_files(src)? {
        let text = fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            let code = line.split("//").next().unwrap_or_default();
            if STUB_MACROS.iter().any(|m| code.contains(m)) {
                problems.push(format!(
                    "{}:{}: a stub in library code: {}",
                    file.display(),
                    i + 1,
                    line.trim()
                ));
            }
        }
    }
    Ok(())
}

fn rust_files(dir: &Path) -> anyhow::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    if !dir.is_dir() {
        return Ok(out);
    }
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in fs::read_dir(&d).with_context(|| format!("listing {}", d.display()))? {
            let path = entry?.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    Ok(out)
}

/// S17: docs/ARCHITECTURE.md has a code-map section (a heading naming the package) for every crate.
fn architecture(root: &Path, crate_names: &[&str], problems: &mut Vec<String>) -> anyhow::Result<()> {
    let path = root.join("docs/ARCHITECTURE.md");
    let Ok(text) = fs::read_to_string(&path) else {
        problems.push("docs/ARCHITECTURE.md is missing".to_owned());
        return Ok(());
    };
    for name in crate_names {
        let has_section = text.lines().any(|l| l.starts_with('#') && l.contains(&format!("`{name}`")));
        if !has_section {
            problems
                .push(format!("docs/ARCHITECTURE.md has no section (a heading with `{name}`) for {name}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The real workspace keeps every house rule.
    #[test]
    fn workspace_is_tidy() {
        let problems = check(&crate::workspace_root()).expect("tidy runs");
        assert!(problems.is_empty(), "tidy found problems:\n{}", problems.join("\n"));
    }

    fn write(root: &Path, rel: &str, text: &str) {
        let path = root.join(rel);
        fs::create_dir_all(path.parent().expect("has a parent")).expect("mkdir");
        fs::write(path, text).expect("write");
    }

    /// A scratch workspace with `types`, `a` and `b` under crates/; `a_deps` is a's [dependencies] body.
    fn planted(a_deps: &str, a_src: &str) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        write(
            root,
            "Cargo.toml",
            "[workspace]\nresolver = \"3\"\nmembers = [\"crates/*\"]\n\n[workspace.package]\nversion = \"0.1.0\"\n\
             edition = \"2024\"\n\n[workspace.dependencies]\nagentry-types = { path = \"crates/types\" }\n\
             agentry-b = { path = \"crates/b\" }\n\n\
             [workspace.lints.rust]\nunsafe_code = \"deny\"\n",
        );
        let member = |n: &str, deps: &str| {
            format!(
                "[package]\nname = \"agentry-{n}\"\nversion.workspace = true\nedition.workspace = true\n\n\
                 [dependencies]\n{deps}\n[lints]\nworkspace = true\n"
            )
        };
        write(root, "crates/types/Cargo.toml", &member("types", ""));
        write(root, "crates/b/Cargo.toml", &member("b", "agentry-types.workspace = true\n"));
        write(root, "crates/a/Cargo.toml", &member("a", a_deps));
        for (n, src) in [("types", "//! t\n"), ("b", "//! b\n"), ("a", a_src)] {
            write(root, &format!("crates/{n}/src/lib.rs"), src);
            write(root, &format!("crates/{n}/README.md"), "# x\n");
        }
        write(root, "docs/ARCHITECTURE.md", "# A\n### `agentry-types`\n### `agentry-a`\n### `agentry-b`\n");
        dir
    }

    fn problems(a_deps: &str, a_src: &str) -> Vec<String> {
        let dir = planted(a_deps, a_src);
        check(dir.path()).expect("tidy runs on the planted workspace")
    }

    #[test]
    fn clean_planted_workspace_passes() {
        assert_eq!(problems("agentry-types.workspace = true\n", "//! a\n"), Vec::<String>::new());
    }

    #[test]
    fn sibling_dependency_fails() {
        let p = problems("agentry-types.workspace = true\nagentry-b.workspace = true\n", "//! a\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].contains("agentry-a depends on its sibling agentry-b"), "{p:?}");
    }

    #[test]
    fn own_version_fails() {
        let p = problems("agentry-types.workspace = true\nitoa = \"1\"\n", "//! a\n");
        assert!(p.iter().any(|m| m.contains("itoa sets its own version")), "{p:?}");
    }

    #[test]
    fn stub_fails() {
        let p = problems("", &format!("//! a\npub fn f() {{ {}) }}\n", STUB_MACROS[0]));
        assert!(p.iter().any(|m| m.contains("a stub in library code")), "{p:?}");
    }

    #[test]
    fn stub_in_test_module_passes() {
        let p =
            problems("", &format!("//! a\n#[cfg(test)]\nmod tests {{ fn f() {{ {}) }} }}\n", STUB_MACROS[0]));
        assert!(p.is_empty(), "{p:?}");
    }
}
