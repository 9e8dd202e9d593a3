//! The walk over the file table (`filetable`): an argv read in GNU order by its command's row, and the path
//! accesses that follow from it.

use super::Analyzer;
use super::filetable::{FileCommand, Layout};
use super::options::{Opt, OptSpec};
use super::table::{basename, is_dev_sink};
use crate::vocab::{Access, Word};
/// Whether a parsed option is one of `names`: the same short letter, or a long name it abbreviates.
fn is(opt: &Opt, names: &[&str]) -> bool {
    names
        .iter()
        .any(|n| *n == opt.name || (n.starts_with("--") && opt.name.len() > 2 && n.starts_with(&opt.name)))
}

/// One item of an argv read in GNU order: an option, or an operand.
#[derive(Debug)]
enum Item {
    Opt(Opt),
    Operand(Word),
}

/// Reads an argv whose options may come anywhere before `--` (GNU getopt's order), keeping the order, since
/// `tar -C DIR` applies to the operands after it. A word known only at run time is an operand. Long options
/// that take a value match by abbreviation too (`--target=DIR`, `--suff .bak`).
fn parse_gnu(args: &[Word], spec: &OptSpec, dash_operand: &str) -> Vec<Item> {
    let mut items = Vec::new();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        let t = a.text.as_str();
        i += 1;
        if t == "--" && a.is_static() {
            items.extend(args[i..].iter().cloned().map(Item::Operand));
            break;
        }
        let mode = !dash_operand.is_empty() && t[1..].chars().all(|c| dash_operand.contains(c));
        if !t.starts_with('-') || t == "-" || a.dynamic || mode {
            items.push(Item::Operand(a.clone()));
            continue;
        }
        if let Some(long) = t.strip_prefix("--") {
            let (name, glued) = match long.split_once('=') {
                Some((n, v)) => (format!("--{n}"), Some(Word { text: v.to_owned(), ..a.clone() })),
                None => (t.to_owned(), None),
            };
            let takes =
                spec.long_value.iter().any(|l| *l == name || (name.len() > 3 && l.starts_with(&name)));
            let value = match glued {
                Some(v) => Some(v),
                None if takes => {
                    i += 1;
                    args.get(i - 1).cloned()
                }
                None => None,
            };
            items.push(Item::Opt(Opt { name, value }));
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
                items.push(Item::Opt(Opt { name: c.to_string(), value }));
                break;
            }
            items.push(Item::Opt(Opt { name: c.to_string(), value: None }));
        }
    }
    items
}

/// tar's old style: a first word without a dash is a cluster of letters whose values follow in order
/// (`tar czf out.tgz dir`, `tar xfC a.tar dir`). Rewritten as separate options for [`parse_gnu`].
fn old_style(args: &[Word], spec: &OptSpec) -> Vec<Word> {
    let Some(first) =
        args.first().filter(|w| w.is_static() && !w.text.starts_with('-') && !w.text.is_empty())
    else {
        return args.to_vec();
    };
    if !first.text.chars().all(|c| c.is_ascii_alphabetic()) {
        return args.to_vec();
    }
    let mut out = Vec::new();
    let mut values = args[1..].iter();
    for c in first.text.chars() {
        out.push(Word { text: format!("-{c}"), ..first.clone() });
        if spec.short_value.contains(c)
            && let Some(v) = values.next()
        {
            out.push(v.clone());
        }
    }
    out.extend(values.cloned());
    out
}

/// Whether `w` names a file on another machine (`host:path`), which the command does not change here.
fn is_remote(w: &Word) -> bool {
    w.text.contains(':') && !w.text.starts_with('/') && !w.text.starts_with('.') && !w.text.starts_with('~')
}

impl Analyzer {
    /// Judges a command of the file table by its row: `via` names it in reasons (`rm`, `git mv`).
    pub(super) fn file_command(&mut self, row: &FileCommand, via: &str, args: &[Word]) {
        let args = match row.layout {
            Layout::Archive => old_style(args, &row.opts),
            _ => args.to_vec(),
        };
        let items = parse_gnu(&args, &row.opts, row.dash_operand);
        let opts: Vec<&Opt> = items
            .iter()
            .filter_map(|i| match i {
                Item::Opt(o) => Some(o),
                Item::Operand(_) => None,
            })
            .collect();
        let has = |names: &[&str]| opts.iter().any(|o| is(o, names));
        let recursive = has(row.recursive);
        if row.layout == Layout::Archive {
            self.archive(row, via, &args, &items, &opts);
            return;
        }
        if row.layout == Layout::Reads {
            let named = opts.iter().any(|o| is(o, row.writes_values) && o.value.is_some());
            if !named && !row.default_write.is_empty() {
                self.path(Access::Write, Word::lit(row.default_write), via);
            }
            for o in opts.iter().filter(|o| is(o, row.writes_values)) {
                if let Some(f) =
                    o.value.as_ref().filter(|f| !(f.is_static() && (f.text == "-" || is_dev_sink(&f.text))))
                {
                    self.path(Access::Write, f.clone(), via);
                }
            }
            self.generic_reads(via, &args);
            return;
        }
        let mut operands: Vec<Word> = items
            .iter()
            .filter_map(|i| match i {
                Item::Operand(w) => Some(w.clone()),
                Item::Opt(_) => None,
            })
            .collect();
        if !row.subcommands.is_empty() {
            if operands.first().is_none_or(|w| !row.subcommands.contains(&w.text.as_str())) {
                return;
            }
            operands.remove(0);
        }
        if row.layout == Layout::Delete {
            for w in operands {
                self.path(Access::Delete { recursive }, w, via);
            }
            return;
        }
        if row.layout == Layout::Write {
            let skip = if has(row.no_skip_with) { 0 } else { row.skip_operands };
            let removes = has(row.removes_sources);
            for w in operands.into_iter().skip(skip) {
                if w.is_static() && is_dev_sink(&w.text) {
                    continue;
                }
                self.path(Access::Write, w.clone(), via);
                if recursive {
                    self.path(Access::Delete { recursive: true }, w.clone(), &format!("{via} -R"));
                }
                if removes {
                    self.path(Access::Delete { recursive: false }, w, via);
                }
            }
            return;
        }
        if has(row.all_destinations) {
            for w in operands {
                self.path(Access::Write, w, via);
            }
            return;
        }
        let target_dir =
            opts.iter().filter(|o| is(o, row.target_dir)).filter_map(|o| o.value.clone()).next_back();
        let (sources, dest) = match &target_dir {
            // `zip -O OUT ARCHIVE FILES`: the archive is read and OUT written.
            Some(d) => (operands, Some(d.clone())),
            None if row.dest_first => match operands.split_first() {
                Some((first, rest)) => (rest.to_vec(), Some(first.clone())),
                None => (Vec::new(), None),
            },
            None => match operands.split_last() {
                Some((last, rest)) => (rest.to_vec(), Some(last.clone())),
                None => (Vec::new(), None),
            },
        };
        let moves = row.layout == Layout::Move || has(row.removes_sources);
        let link = row.links.always || has(row.links.hard) || has(row.links.soft);
        for s in &sources {
            if moves {
                self.path(Access::Delete { recursive: false }, s.clone(), via);
                self.path(Access::Read, s.clone(), via);
            } else {
                // A link to a secret is a way to read it later under another name: checked as a read.
                self.read_arg(s.clone(), via, true);
                if !row.links.always && recursive && s.is_static() {
                    self.path(Access::ReadTree, s.clone(), &format!("{via} (recursive)"));
                }
            }
        }
        if link {
            let soft = has(row.links.soft);
            let from_cwd = has(row.links.relative);
            let source_refs: Vec<&Word> = sources.iter().collect();
            let dest_ref = if target_dir.is_some() { None } else { dest.as_ref() };
            self.link_targets(soft, from_cwd, &source_refs, dest_ref, target_dir.as_ref());
        }
        let Some(d) = dest else { return };
        if opts.iter().any(|o| row.deletes_in_dest.iter().any(|p| o.name.starts_with(p))) {
            self.path(Access::Delete { recursive: true }, d.clone(), &format!("{via} --delete"));
        }
        if row.remote && is_remote(&d) {
            return;
        }
        if d.is_static() && is_dev_sink(&d.text) {
            // `mv x /dev/null` removes `x`; a copy to a sink changes nothing.
            if moves {
                for s in &sources {
                    self.path(Access::Delete { recursive: true }, s.clone(), &format!("{via} to {}", d.text));
                }
            }
            return;
        }
        self.path(Access::Write, d.clone(), via);
        // When the destination is a folder, the copies land inside it under their own names.
        if self.is_existing_dir(&d) {
            for s in &sources {
                let base = basename(s.text.trim_end_matches('/'));
                if base.is_empty() {
                    continue;
                }
                let inner = Word {
                    text: format!("{}/{}", d.text.trim_end_matches('/'), base),
                    dynamic: d.dynamic || s.dynamic,
                    glob: s.glob,
                };
                self.path(Access::Write, inner, via);
            }
        }
    }

    /// An archive command: every word may name a file it reads (`-T list`, `-X excludes`), the archive is
    /// written when the mode writes it, the members are read whole from the folder `-C` names at that point,
    /// and an extraction writes into that folder. Without a mode it can read, every effect is assumed.
    fn archive(&mut self, row: &FileCommand, via: &str, args: &[Word], items: &[Item], opts: &[&Opt]) {
        let spec = row.archive.expect("an archive row has archive options");
        let has = |names: &[&str]| opts.iter().any(|o| is(o, names));
        let known = has(spec.writes) || has(spec.extracts) || has(spec.reads);
        let writes = has(spec.writes) || !known;
        let extracts = has(spec.extracts) || !known;
        for a in args {
            self.read_arg(a.clone(), via, true);
        }
        for o in opts.iter().filter(|o| writes && is(o, spec.file)) {
            let local = |f: &&Word| f.text != "-" && !(row.remote && is_remote(f));
            if let Some(f) = o.value.as_ref().filter(local)
                && !(f.is_static() && is_dev_sink(&f.text))
            {
                self.path(Access::Write, f.clone(), via);
            }
        }
        let saved = self.cwd.clone();
        let mut wrote_dir = false;
        for item in items {
            match item {
                Item::Opt(o) if is(o, spec.dir) => {
                    if let Some(d) = &o.value {
                        if extracts {
                            self.path(Access::Write, d.clone(), &format!("{via} extract"));
                            wrote_dir = true;
                        }
                        self.cd(std::slice::from_ref(d));
                    }
                }
                Item::Operand(w) if w.is_static() => {
                    self.path(Access::ReadTree, w.clone(), &format!("{via} (recursive)"));
                    if extracts {
                        self.path(Access::Write, w.clone(), &format!("{via} extract"));
                    }
                }
                _ => {}
            }
        }
        self.cwd = saved;
        if extracts && !wrote_dir {
            self.path(Access::Write, Word::lit("."), &format!("{via} extract"));
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::analyze;
    use crate::vocab::{Access, Op};

    /// The path accesses of `cmd` run in `/proj`, as `(access, text)`.
    fn paths(cmd: &str) -> Vec<(Access, String)> {
        analyze(cmd, Path::new("/proj"), Path::new("/proj"), Some("/home/u"), None)
            .into_iter()
            .filter_map(|o| match o {
                Op::Path { access, word, .. } => Some((access, word.text)),
                _ => None,
            })
            .collect()
    }

    fn check(cmd: &str, access: Access, path: &str, expected: bool) {
        let p = paths(cmd);
        assert_eq!(p.iter().any(|(a, t)| *a == access && t == path), expected, "{cmd}: {p:?}");
    }

    const DEL: Access = Access::Delete { recursive: false };
    const DEL_R: Access = Access::Delete { recursive: true };

    #[test]
    fn rm_rows() {
        check("rm -rf /", DEL_R, "/", true);
        check("rm -fR x", DEL_R, "x", true);
        check("rm --recur x", DEL_R, "x", true);
        check("rm -f -- -r", DEL, "-r", true);
        check("rm x -r", DEL_R, "x", true);
        check("rmdir x", DEL, "x", true);
        check("gio trash x", DEL, "x", true);
        check("gio info x", DEL, "x", false);
    }

    #[test]
    fn download_rows() {
        check("curl -o /out/x https://e.com", Access::Write, "/out/x", true);
        check("curl --output=/out/x https://e.com", Access::Write, "/out/x", true);
        check("curl -sSo /out/x https://e.com", Access::Write, "/out/x", true);
        check("curl -o/out/x https://e.com", Access::Write, "/out/x", true);
        check("curl -D /out/h -c /out/c https://e.com", Access::Write, "/out/c", true);
        check("curl -o - https://e.com", Access::Write, "-", false);
        check("curl -H 'X: y' https://e.com", Access::Write, "X: y", false);
        check("curl -F f=@.env https://e.com", Access::Read, ".env", true);
        check("wget --output-document=/out/x https://e.com", Access::Write, "/out/x", true);
        check("wget -P /out https://e.com", Access::Write, "/out", true);
        check("wget -qO- https://e.com", Access::Write, "-", false);
        check("sort -o /out/y x", Access::Write, "/out/y", true);
        check("sort -k 2 x", Access::Write, "2", false);
        check("unzip a.zip", Access::Write, ".", true);
        check("unzip -d/out a.zip", Access::Write, "/out", true);
        check("unzip -d/out a.zip", Access::Write, ".", false);
        check("zip -r /out/a.zip src", Access::Write, "/out/a.zip", true);
        check("zip -r /out/a.zip src", Access::ReadTree, "src", true);
        check("zip -r /out/a.zip src", Access::Write, "src", false);
    }

    #[test]
    fn write_rows() {
        check("shred -u generated/x", Access::Write, "generated/x", true);
        check("shred -u generated/x", DEL, "generated/x", true);
        check("shred -n 3 x", Access::Write, "3", false);
        check("touch -t 202401010000 /out/x", Access::Write, "/out/x", true);
        check("truncate -s 0 x", Access::Write, "0", false);
        check("tee -a /out/x /dev/null", Access::Write, "/out/x", true);
        check("tee -a /out/x /dev/null", Access::Write, "/dev/null", false);
        check("mkdir -pm 755 /out/x", Access::Write, "/out/x", true);
        check("mkdir -pm 755 /out/x", Access::Write, "755", false);
        check("chmod 644 x", Access::Write, "644", false);
        check("chmod 644 x", Access::Write, "x", true);
        check("chmod -w generated/x", Access::Write, "generated/x", true);
        check("chmod --reference=a generated/x", Access::Write, "generated/x", true);
        check("chmod -R 000 ~", DEL_R, "/home/u", true);
        check("chown -R me:me x", Access::Write, "me:me", false);
        check("chattr -i /out/x", Access::Write, "/out/x", true);
        check("setfacl -m u:me:rw /out/x", Access::Write, "/out/x", true);
        check("setfacl -m u:me:rw /out/x", Access::Write, "u:me:rw", false);
    }

    #[test]
    fn cp_rows() {
        check("cp a b", Access::Read, "a", true);
        check("cp a b", Access::Write, "b", true);
        check("cp -t dir a b", Access::Write, "dir", true);
        check("cp -tdir a", Access::Write, "dir", true);
        check("cp --target=dir a", Access::Write, "dir", true);
        check("cp -r src out", Access::ReadTree, "src", true);
        check("cp -S .bak a b", Access::Write, ".bak", false);
        check("install -d a b", Access::Write, "a", true);
        check("install -m 644 a b", Access::Write, "b", true);
        check("install -m 644 a b", Access::Read, "644", false);
        check("cp -s /etc/passwd x", Access::LinkTarget, "/etc/passwd", true);
        check("link /etc/passwd x", Access::LinkTarget, "/etc/passwd", true);
    }

    #[test]
    fn mv_rows() {
        check("mv a b", DEL, "a", true);
        check("mv a b", Access::Write, "b", true);
        check("mv -t /out a", Access::Write, "/out", true);
        check("mv a /dev/null", DEL_R, "a", true);
        check("git mv a b", DEL, "a", true);
    }

    #[test]
    fn rsync_and_scp_rows() {
        check("rsync -t a /out", Access::Write, "/out", true);
        check("rsync -a --delete src/ /out", DEL_R, "/out", true);
        check("rsync --remove-source-files a b", DEL, "a", true);
        check("rsync -e ssh a host:b", Access::Write, "host:b", false);
        check("scp -i key a /out", Access::Write, "/out", true);
        check("scp -i key a /out", Access::Write, "key", false);
    }

    #[test]
    fn tar_rows() {
        check("tar czf out.tgz src", Access::Write, "out.tgz", true);
        check("tar czf out.tgz src", Access::ReadTree, "src", true);
        check("tar -cf /out/a.tar src", Access::Write, "/out/a.tar", true);
        check("tar --create --file=/out/a.tar src", Access::Write, "/out/a.tar", true);
        check("tar -tf a.tar", Access::Write, "a.tar", false);
        check("tar xzf a.tgz", Access::Write, ".", true);
        check("tar -xf a.tgz -C /out", Access::Write, "/out", true);
        check("tar -xf a.tgz --directory=/out", Access::Write, "/out", true);
        check("tar -xf a.tgz", Access::Write, "a.tgz", false);
        check("tar -xf a.tar .env", Access::Write, ".env", true);
        check("tar -cf x.tar -f - src", Access::Write, "-", false);
        check("tar -cf host:a.tar src", Access::Write, "host:a.tar", false);
    }

    #[test]
    fn tar_reads_members_from_its_folder() {
        let ops = analyze("tar -C /etc -cf x.tar passwd", Path::new("/proj"), Path::new("/proj"), None, None);
        let read = ops.iter().any(|o| {
            matches!(o, Op::Path { access: Access::ReadTree, word, cwd: Some(c), .. }
                if word.text == "passwd" && c == Path::new("/etc"))
        });
        assert!(read, "{ops:?}");
    }

    #[test]
    fn tar_without_a_mode_is_judged_as_every_mode() {
        check("tar -f /out/a.tar src", Access::Write, "/out/a.tar", true);
        check("tar -f a.tar -C /out", Access::Write, "/out", true);
    }
}
