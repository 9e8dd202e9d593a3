#!/usr/bin/env python3
"""A Claude Code PreToolUse hook in Python with agentry-hooks' default rules: the anchor of the
`hooks/decision` benchmark.

It is written the way such hooks are usually written (json, shlex, fnmatch, os.path), but it implements the
same default policy as the Rust binary, fail closed: protected paths (generated/**, fixtures/sensitive/**,
.git/**, .env and .env.* at any depth, anything outside the project root) for Write/Edit/MultiEdit/
NotebookEdit, apply_patch and shell redirections, tee, cp and mv; reads of .env files by any command;
recursive deletes of /, ~, the root and its ancestors; DROP/TRUNCATE TABLE in psql/mysql/sqlite3; deploy*
with a production target; downloads or decoded text piped into a shell; bash -c / sh -c / eval recursion;
wrapper commands. Exit 2 with the reason on stderr and the JSON deny on stdout blocks.
"""
import fnmatch
import json
import os
import re
import shlex
import sys

PROTECTED = ["generated/**", "fixtures/sensitive/**", ".git/**", "**/.env", "**/.env.*"]
READ_PROTECTED = ["**/.env", "**/.env.*"]
SQL_DENY = ["DROP TABLE", "TRUNCATE TABLE", "DROP DATABASE", "DROP SCHEMA"]
WRAPPERS = {"sudo", "env", "nice", "nohup", "timeout", "command", "builtin", "exec", "time", "stdbuf", "xargs"}
SHELLS = {"sh", "bash", "zsh", "dash", "ksh"}
DECODERS = {"curl", "wget", "base64", "rev", "xxd"}
NON_READERS = {"echo", "printf", "ls", "mkdir", "cd", "test", "["}
OPERATORS = {";", "&&", "||", "|", "&", "(", ")", "\n"}


class Deny(Exception):
    def __init__(self, rule, reason):
        super().__init__(reason)
        self.rule = rule
        self.reason = reason


def glob_match(pattern, rel):
    pat = [p.lower() for p in pattern.split("/") if p]
    comps = [c.lower().rstrip(". ") or c for c in rel.split("/") if c and c != "."]

    def m(pi, ci):
        if pi == len(pat):
            return ci == len(comps)
        if pat[pi] == "**":
            return any(m(pi + 1, k) for k in range(ci, len(comps) + 1))
        return ci < len(comps) and fnmatch.fnmatchcase(comps[ci], pat[pi]) and m(pi + 1, ci + 1)

    return m(0, 0)


class Checker:
    def __init__(self, root, cwd):
        self.root = os.path.realpath(root)
        self.cwd = os.path.realpath(cwd or root)
        self.home = os.path.realpath(os.path.expanduser("~"))

    def resolve(self, path, cwd=None):
        path = os.path.expanduser(path.replace("\\", "/"))
        full = path if os.path.isabs(path) else os.path.join(cwd or self.cwd, path)
        real = os.path.realpath(full)  # non-strict: resolves the existing prefix, symlinks included
        lexical = os.path.normpath(full)
        rel = os.path.relpath(real, self.root) if real == self.root or real.startswith(self.root + os.sep) else None
        lrel = os.path.relpath(lexical, self.root) if lexical.startswith(self.root + os.sep) else None
        return real, rel, lrel

    def write(self, path, via, cwd=None):
        real, rel, lrel = self.resolve(path, cwd)
        if rel is None:
            raise Deny("outside-root", f"{via} changes {path}, outside the project root")
        for p in PROTECTED:
            if glob_match(p, rel) or (lrel and glob_match(p, lrel)):
                raise Deny("protected-path", f"{via} changes {path}, protected by {p}")

    def read(self, path, via, cwd=None):
        real, rel, lrel = self.resolve(path, cwd)
        for cand in (rel, lrel, os.path.basename(real)):
            if cand and any(glob_match(p, cand) for p in READ_PROTECTED):
                raise Deny("read-secret", f"{via} reads {path}, which is read-protected")

    def delete(self, path, recursive, via, cwd=None):
        real, _, _ = self.resolve(path, cwd)
        if recursive and (real == "/" or real == self.home or self.root == real or self.root.startswith(real + os.sep)):
            raise Deny("destructive-delete", f"{via} recursively deletes {path}")
        self.write(path, via, cwd)

    def sql(self, text, via):
        norm = " " + " ".join(re.sub(r"/\*.*?\*/|--[^\n]*", " ", text, flags=re.S).upper().split()) + " "
        for phrase in SQL_DENY:
            if f" {phrase} " in norm:
                raise Deny("destructive-sql", f"{phrase} through {via}")

    def shell(self, command, depth=0):
        if depth > 8:
            raise Deny("shell-unresolvable", "shell code nests too deep")
        try:
            lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()<>")
            lexer.whitespace_split = True
            tokens = list(lexer)
        except ValueError as e:
            raise Deny("shell-unparseable", f"cannot parse the command: {e}")
        commands, cur, ops = [], [], []
        for t in tokens:
            if t in OPERATORS or t in ("||", "&&", ";;"):
                commands.append(cur)
                ops.append(t)
                cur = []
            else:
                cur.append(t)
        commands.append(cur)
        cwd = self.cwd
        for i, argv in enumerate(commands):
            # Redirections.
            words = []
            j = 0
            while j < len(argv):
                t = argv[j]
                if t in (">", ">>", ">|", "&>") or (t.endswith(">") and t[:-1].isdigit()):
                    target = argv[j + 1] if j + 1 < len(argv) else ""
                    if target.startswith("&") or target in ("/dev/null", "/dev/stderr", "/dev/stdout"):
                        j += 2
                        continue
                    if target == "&" and j + 2 < len(argv):
                        j += 3
                        continue
                    self.write(target, "redirection", cwd)
                    j += 2
                    continue
                if t == "<":
                    if j + 1 < len(argv):
                        self.read(argv[j + 1], "redirection", cwd)
                    j += 2
                    continue
                words.append(t)
                j += 1
            while words and "=" in words[0] and not words[0].startswith("="):
                words = words[1:]
            while words and os.path.basename(words[0]) in WRAPPERS:
                w = os.path.basename(words[0])
                words = words[1:]
                while words and (words[0].startswith("-") or "=" in words[0]):
                    words = words[1:]
                if w == "timeout" and words:
                    words = words[1:]
            if not words:
                continue
            if "$" in words[0] or "`" in words[0]:
                raise Deny("shell-unresolvable", f"dynamic command name {words[0]}")
            name, args = os.path.basename(words[0]), words[1:]
            if name in SHELLS and "-c" in args:
                k = args.index("-c")
                if k + 1 < len(args):
                    self.shell(args[k + 1], depth + 1)
                continue
            if name == "eval":
                self.shell(" ".join(args), depth + 1)
                continue
            if name in SHELLS or name.startswith("python"):
                upstream = {os.path.basename(c[0]) for c in commands[:i] if c}
                if i > 0 and ops[i - 1] == "|" and upstream & DECODERS:
                    raise Deny("pipe-to-shell", f"downloaded or decoded text piped into {name}")
            if name == "cd" and args:
                cwd = os.path.join(cwd, args[0])
                continue
            operands = [a for a in args if not a.startswith("-")]
            if name in ("rm", "unlink", "rmdir", "shred"):
                recursive = any(a in ("--recursive",) or (a.startswith("-") and not a.startswith("--") and ("r" in a or "R" in a)) for a in args)
                for a in operands:
                    self.delete(a, recursive, name, cwd)
                continue
            if name == "find" and "-delete" in args:
                for a in operands[:1] or ["."]:
                    self.delete(a, True, "find -delete", cwd)
            if name in ("tee", "touch", "truncate"):
                for a in operands:
                    self.write(a, name, cwd)
                continue
            if name in ("cp", "mv") and operands:
                for a in operands[:-1]:
                    self.read(a, name, cwd)
                    if name == "mv":
                        self.write(a, name, cwd)
                self.write(operands[-1], name, cwd)
                continue
            if name in ("psql", "mysql", "sqlite3"):
                for k, a in enumerate(args):
                    if a in ("-c", "-e") and k + 1 < len(args):
                        self.sql(args[k + 1], name)
                    elif name == "sqlite3":
                        self.sql(a, name)
            if any(fnmatch.fnmatch(os.path.basename(w).lower(), "deploy*") for w in words):
                for w in words:
                    for part in re.split(r"[=:,/ ]", w):
                        if part.lstrip("-").lower() in ("production", "prod"):
                            raise Deny("production-deploy", f"{' '.join(words)} looks like a production deploy")
            if name not in NON_READERS:
                for a in args:
                    for cand in (a, a.split("=", 1)[-1], a.lstrip("@"), a.rsplit(":", 1)[-1]):
                        if cand and not cand.startswith("-"):
                            self.read(cand, name, cwd)


def patch_paths(text):
    out = []
    for line in text.splitlines():
        for prefix, kind in (("*** Add File:", "w"), ("*** Update File:", "w"), ("*** Delete File:", "d"), ("*** Move to:", "w")):
            if line.startswith(prefix):
                out.append((kind, line[len(prefix):].strip()))
    return out


def decide(payload):
    if not isinstance(payload, dict) or not isinstance(payload.get("hook_event_name"), str):
        raise Deny("malformed-payload", "payload is not a hook event")
    if payload["hook_event_name"] != "PreToolUse":
        return
    root = os.environ.get("CLAUDE_PROJECT_DIR") or payload.get("cwd")
    if not root:
        raise Deny("no-project-root", "no project root")
    tool, ti = payload.get("tool_name"), payload.get("tool_input")
    if not isinstance(tool, str) or not isinstance(ti, dict):
        raise Deny("malformed-payload", "tool_name or tool_input missing")
    c = Checker(root, payload.get("cwd"))
    if tool in ("Write", "Edit", "MultiEdit", "NotebookEdit"):
        path = ti.get("file_path") or ti.get("notebook_path")
        if not isinstance(path, str):
            raise Deny("malformed-payload", f"{tool} without a path")
        c.write(path, tool)
    elif tool == "Read":
        path = ti.get("file_path")
        if not isinstance(path, str):
            raise Deny("malformed-payload", "Read without a path")
        c.read(path, tool)
    elif tool == "apply_patch":
        paths = patch_paths(ti.get("command") or "")
        if not paths:
            raise Deny("malformed-payload", "unreadable patch")
        for _, p in paths:
            c.write(p, "apply_patch")
    elif tool == "Bash":
        cmd = ti.get("command")
        if not isinstance(cmd, str):
            raise Deny("malformed-payload", "Bash without a command")
        c.shell(cmd)


def main():
    try:
        payload = json.loads(sys.stdin.read())
        decide(payload)
    except Deny as d:
        print(json.dumps({"hookSpecificOutput": {"hookEventName": "PreToolUse", "permissionDecision": "deny", "permissionDecisionReason": d.reason}}))
        sys.stderr.write(d.reason + "\n")
        sys.exit(2)
    except Exception as e:  # fail closed
        sys.stderr.write(f"hook error: {e}\n")
        sys.exit(2)
    sys.exit(0)


if __name__ == "__main__":
    main()
