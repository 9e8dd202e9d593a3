//! `sed`: the files it edits in place, and what its scripts do beyond editing text (`e`, `w`, `r`).

use super::options::{OptSpec, parse_options};
use super::{Analyzer, FileText};
use crate::vocab::{Access, Word};

impl Analyzer {
    /// `sed`: with `-i`/`--in-place` every file operand is rewritten; the script is the first operand unless
    /// `-e` or `-f` gave it.
    pub(super) fn sed(&mut self, name: &str, args: &[Word]) {
        let spec = OptSpec {
            short_value: "efl",
            short_glued: "i",
            long_value: &["--expression", "--file", "--line-length"],
        };
        let mut in_place = false;
        let mut explicit_script = false;
        let mut files: Vec<Word> = Vec::new();
        let mut scripts: Vec<Word> = Vec::new();
        let mut i = 0;
        // GNU sed takes options after operands too: parse option runs between operands.
        while i < args.len() {
            let (opts, first) = parse_options(&args[i..], &spec);
            for o in &opts {
                match o.name.as_str() {
                    "i" | "--in-place" => in_place = true,
                    "e" | "--expression" => {
                        explicit_script = true;
                        scripts.extend(o.value.clone());
                    }
                    "f" | "--file" => {
                        explicit_script = true;
                        if let Some(f) = &o.value {
                            self.read_arg(f.clone(), name, true);
                            match self.read_small_file(f) {
                                FileText::Text(t) => scripts.push(Word::lit(t)),
                                FileText::Missing => {}
                                FileText::Opaque(why) => {
                                    self.deny(format!("`{name}` runs a script from a file, and {why}"))
                                }
                            }
                        }
                    }
                    _ => {}
                }
            }
            let at = i + first;
            let ended = at > 0 && args.get(at - 1).is_some_and(|w| w.text == "--");
            if ended {
                files.extend(args[at..].iter().cloned());
                break;
            }
            match args.get(at) {
                Some(w) => files.push(w.clone()),
                None => break,
            }
            i = at + 1;
        }
        let skip = usize::from(!explicit_script);
        if !explicit_script {
            scripts.extend(files.first().cloned());
        }
        for script in &scripts {
            if script.dynamic {
                self.deny(format!("`{name}` runs a script that cannot be resolved statically"));
            } else {
                self.sed_script(name, &script.text);
            }
        }
        for f in files.into_iter().skip(skip) {
            if in_place {
                self.path(Access::Write, f.clone(), &format!("{name} -i"));
            }
            self.read_arg(f, name, true);
        }
    }

    /// What a sed script does beyond editing text: `e CMD` and the `e` flag of `s` run commands, `w FILE`
    /// (and the `w` flag) writes a file, `r FILE` reads one. Commands are split at newlines and `;`, which may
    /// split a regular expression too: that only finds more to check.
    fn sed_script(&mut self, name: &str, script: &str) {
        let via = format!("{name} script");
        for piece in script.split(['\n', ';']) {
            let cmd = strip_sed_address(piece.trim_start());
            let mut chars = cmd.chars();
            let Some(c) = chars.next() else { continue };
            let rest = chars.as_str();
            match c {
                'e' if rest.is_empty() || rest.starts_with([' ', '\t']) => {
                    let command = rest.trim();
                    if command.is_empty() {
                        self.deny(format!(
                            "`{name}` runs its pattern space as a command (`e`), known only at run time"
                        ));
                    } else {
                        self.script(command, super::Stdin::Inherited);
                    }
                }
                'w' | 'W' if rest.starts_with([' ', '\t']) => {
                    self.path(Access::Write, Word::lit(rest.trim()), &via);
                }
                'r' | 'R' if rest.starts_with([' ', '\t']) => {
                    self.read_arg(Word::lit(rest.trim()), &via, false);
                }
                's' => {
                    let Some(delim) = rest.chars().next() else { continue };
                    // The flags follow the third unescaped delimiter.
                    let mut seen = 0;
                    let mut escaped = false;
                    let mut flags_at = None;
                    for (i, ch) in rest.char_indices() {
                        if escaped {
                            escaped = false;
                        } else if ch == '\\' {
                            escaped = true;
                        } else if ch == delim {
                            seen += 1;
                            if seen == 3 {
                                flags_at = Some(i + ch.len_utf8());
                                break;
                            }
                        }
                    }
                    let Some(at) = flags_at else { continue };
                    let flags = &rest[at..];
                    let letters: String = flags.chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                    if letters.contains('e') {
                        self.deny(format!(
                            "`{name}` runs the result of a substitution as a command (`s///e`)"
                        ));
                    }
                    if let Some(w) = letters.find('w') {
                        let file = flags[w + 1..].trim();
                        if !file.is_empty() {
                            self.path(Access::Write, Word::lit(file), &via);
                        }
                    }
                }
                _ => {}
            }
        }
    }
}

/// A sed command without its address (`1,5`, `$`, `/re/`, `/a/,/b/`, `!`).
fn strip_sed_address(cmd: &str) -> &str {
    let mut rest = cmd;
    for _ in 0..2 {
        if let Some(r) = rest.strip_prefix('/') {
            let mut escaped = false;
            let end = r.char_indices().find(|(_, c)| {
                let hit = !escaped && *c == '/';
                escaped = !escaped && *c == '\\';
                hit
            });
            rest = end.map_or("", |(i, _)| &r[i + 1..]);
        } else {
            rest = rest.trim_start_matches(|c: char| c.is_ascii_digit() || c == '$' || c == '~' || c == '+');
        }
        match rest.strip_prefix(',') {
            Some(r) => rest = r,
            None => break,
        }
    }
    rest.trim_start().trim_start_matches('!').trim_start()
}
