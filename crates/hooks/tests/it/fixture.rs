//! A scratch project with the files and links the corpus refers to, and a way to run the real binary.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

pub(crate) struct Fixture {
    _dir: tempfile::TempDir,
    pub(crate) root: PathBuf,
    pub(crate) out: PathBuf,
    pub(crate) home: PathBuf,
}

pub(crate) struct Run {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

fn write(p: &Path, text: &str) {
    std::fs::create_dir_all(p.parent().expect("has a parent")).expect("mkdir");
    std::fs::write(p, text).expect("write");
}

/// Where scratch projects go: cargo's scratch folder for this package, unless the checkout itself lies under a
/// temporary folder (a CI clone in /tmp, say). The temporary folders are writable by default, so a project there
/// would have `$OUT` and everything else writable too; then the scratch projects go under the home folder's
/// cache instead, each still removed when its test ends.
fn scratch_base() -> PathBuf {
    let target = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    let canon = target.canonicalize().unwrap_or_else(|_| target.clone());
    let tmpdir = std::env::var_os("TMPDIR").filter(|t| !t.is_empty()).map(PathBuf::from);
    let in_temp = ["/tmp", "/var/tmp", "/dev/shm"].iter().any(|t| canon.starts_with(t))
        || tmpdir.is_some_and(|t| canon.starts_with(t.canonicalize().unwrap_or(t)));
    if !in_temp {
        return target;
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).expect("HOME is set for the scratch projects");
    let base = home.join(".cache").join("agentry-hooks-tests");
    std::fs::create_dir_all(&base).expect("create the scratch folder under the home cache");
    base
}

impl Fixture {
    pub(crate) fn new() -> Self {
        // Not under a temporary folder: those are writable by default, and `$OUT` must be outside everything.
        let dir = tempfile::tempdir_in(scratch_base()).expect("tempdir");
        let base = dir.path().canonicalize().expect("canonical tempdir");
        let root = base.join("proj");
        let out = base.join("outside");
        let home = base.join("home");
        for (p, t) in [
            (".env", "SECRET=1\n"),
            ("config/.env", "SECRET=2\n"),
            ("config/.env.local", "SECRET=3\n"),
            ("README.md", "# demo\n"),
            ("src/main.rs", "fn main() {}\n"),
            ("src/env.rs", "pub fn env() {}\n"),
            ("src/a.rs", "// a\n"),
            ("generated/out.txt", "generated\n"),
            ("fixtures/sensitive/key.pem", "KEY\n"),
            ("target/debug/app", "bin\n"),
            (".git/config", "[core]\n"),
            (".git/HEAD", "ref: refs/heads/main\n"),
            ("scripts/wipe.sh", "echo bye\nrm -rf ~\n"),
            ("scripts/drop.sql", "-- cleanup\nDROP /* all */ TABLE users;\n"),
            ("scripts/ok.sh", "#!/bin/sh\necho building\ncargo build --release\nrm -rf ./target\n"),
            ("scripts/tool.py", "#!/usr/bin/env python3\nprint('hello')\n"),
            ("scripts/loop.sh", "echo again\n. scripts/loop.sh\n"),
            // A build wrapper in the shape of gradlew: its command and temp folder are only known at run time.
            (
                "gradlew",
                "#!/bin/sh\nAPP_HOME=$(cd \"${0%/*}\" && pwd -P)\nJAVACMD=${JAVA_HOME:-/usr}/bin/java\ntmp=$(mktemp -d)\nrm -rf \"$tmp\"\nexec \"$JAVACMD\" -classpath \"$APP_HOME/gradle/wrapper/gradle-wrapper.jar\" org.gradle.wrapper.GradleWrapperMain \"$@\"\n",
            ),
            (
                "scripts/mixed.sh",
                "#!/bin/sh\nout=$(mktemp)\nrm -f \"$out\"\ncat config/.env.local > \"$out\"\n",
            ),
            (
                "scripts/gen.sh",
                "apply_patch <<'EOF'\n*** Begin Patch\n*** Add File: generated/x.rs\n+pub fn x() {}\n*** End Patch\nEOF\n",
            ),
            (
                "patches/gen.diff",
                "--- a/generated/out.txt\n+++ b/generated/out.txt\n@@ -1 +1 @@\n-generated\n+changed\n",
            ),
            ("patches/src.diff", "--- a/src/a.rs\n+++ b/src/a.rs\n@@ -1 +1 @@\n-// a\n+// b\n"),
            ("migrations/001_init.sql", "CREATE TABLE users (id int);\n"),
            (
                ".agentry/hooks.toml",
                "[[rules]]\nid = \"no-force-push\"\ntools = [\"shell\"]\ncommand = \"git push*--force*\"\nmessage = \"Force pushes are not allowed\"\n\n[[rules]]\nid = \"migrations-append-only\"\npath = \"migrations/*\"\nmessage = \"Migrations are append-only\"\n",
            ),
        ] {
            write(&root.join(p), t);
        }
        std::fs::create_dir_all(&out).expect("mkdir");
        std::fs::create_dir_all(base.join("tmp")).expect("mkdir");
        std::fs::create_dir_all(&home).expect("mkdir");
        #[cfg(unix)]
        {
            use std::os::unix::fs::symlink;
            symlink("generated", root.join("gen2")).expect("symlink");
            symlink(".env", root.join("envlink")).expect("symlink");
            symlink(&out, root.join("escape")).expect("symlink");
            symlink("../outside/new.txt", root.join("dangling")).expect("symlink");
            symlink("/dev/zero", root.join("zero")).expect("symlink");
            // A FIFO nobody writes to: opening it for reading would block forever.
            let status = Command::new("mkfifo").arg(root.join("pipe.fifo")).status().expect("run mkfifo");
            assert!(status.success(), "mkfifo failed");
        }
        // A script larger than the analyzer reads (1 MiB): its text cannot be inspected.
        write(&root.join("scripts/big.sh"), &"echo padding\n".repeat(90_000));
        // A binary larger than that, run by its path: not a shell script, so it is run as before, unread.
        let mut elf = b"\x7fELF\x02\x01\x01\0".to_vec();
        elf.resize(1_200_000, 0);
        std::fs::create_dir_all(root.join("bin")).expect("mkdir");
        std::fs::write(root.join("bin/big-tool"), elf).expect("write");
        Self { _dir: dir, root, out, home }
    }

    pub(crate) fn subst(&self, s: &str) -> String {
        s.replace("$ROOT", &self.root.to_string_lossy())
            .replace("$OUT", &self.out.to_string_lossy())
            .replace("$HOME", &self.home.to_string_lossy())
    }

    /// Runs `agentry-hooks` with `args`, the payload on stdin, a clean environment for root discovery.
    pub(crate) fn run(&self, args: &[&str], stdin: &[u8], devin_root: bool) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_agentry-hooks"));
        cmd.args(args)
            .current_dir(&self.root)
            .env("HOME", &self.home)
            .env("TMPDIR", self.home.with_file_name("tmp"))
            .env_remove("CLAUDE_PROJECT_DIR")
            .env_remove("GEMINI_PROJECT_DIR")
            .env_remove("CURSOR_PROJECT_DIR")
            .env_remove("DEVIN_PROJECT_DIR")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if devin_root {
            cmd.env("DEVIN_PROJECT_DIR", &self.root);
        }
        let mut child = cmd.spawn().expect("spawn agentry-hooks");
        if let Some(mut i) = child.stdin.take() {
            // The binary may exit before reading everything (it must not, but a broken pipe is not our test).
            let _ = i.write_all(stdin);
        }
        let out = child.wait_with_output().expect("wait");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    pub(crate) fn hook(&self, runtime: &str, payload: &serde_json::Value) -> Run {
        self.run(&["run", "--runtime", runtime], payload.to_string().as_bytes(), runtime == "devin")
    }
}
