//! Redirections, here-documents and process substitutions: what a command reads from and writes to besides
//! its argv, and the standard input it sees.

use brush_parser::{ast, word};

use super::table::is_dev_sink;
use super::{Analyzer, FileText, Stdin, Upstream, parser_options};
use crate::vocab::{Access, Word};

impl Analyzer {
    /// Applies redirections; returns the standard input the command will see.
    pub(super) fn redirects(&mut self, list: &[ast::IoRedirect], mut stdin: Stdin) -> Stdin {
        for r in list {
            match r {
                ast::IoRedirect::File(fd, kind, target) => match target {
                    ast::IoFileRedirectTarget::Filename(w) => {
                        let words = self.expand(&w.value);
                        let is_stdin =
                            matches!(kind, ast::IoFileRedirectKind::Read) && matches!(fd, None | Some(0));
                        if is_stdin && words.len() == 1 {
                            // `sh < script.sh`, `psql < drop.sql`: the program sees the file's text. A device
                            // or FIFO (`< /dev/zero`) is never read: it may never end.
                            match self.read_small_file(&words[0]) {
                                FileText::Text(text) => stdin = Stdin::Text(text),
                                FileText::Opaque(why) => stdin = Stdin::Opaque(why),
                                FileText::Missing => {}
                            }
                        }
                        for word in words {
                            self.file_redirect(*fd, kind, word);
                        }
                    }
                    ast::IoFileRedirectTarget::Fd(_) => {}
                    ast::IoFileRedirectTarget::Duplicate(w) => {
                        let words = self.expand(&w.value);
                        for word in words {
                            let t = word.text.trim_end_matches('-');
                            if word.is_static() && (t.is_empty() || t.chars().all(|c| c.is_ascii_digit())) {
                                continue;
                            }
                            // `>& file` sends both streams to a file.
                            self.file_redirect(*fd, &ast::IoFileRedirectKind::Write, word);
                        }
                    }
                    ast::IoFileRedirectTarget::ProcessSubstitution(kind, sub) => {
                        self.process_substitution(kind, sub)
                    }
                },
                ast::IoRedirect::HereDocument(_, doc) => {
                    let raw = doc.doc.value.clone();
                    stdin = if doc.requires_expansion {
                        let expanded = self.heredoc_expansions(&raw);
                        Stdin::Template { raw, expanded }
                    } else {
                        Stdin::Text(raw)
                    };
                }
                ast::IoRedirect::HereString(_, w) => {
                    let words = self.expand(&w.value);
                    if words.iter().any(|w| w.dynamic) {
                        stdin = Stdin::Pipe(Upstream::default());
                    } else {
                        stdin =
                            Stdin::Text(words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" "));
                    }
                }
                ast::IoRedirect::OutputAndError(w, _) => {
                    for word in self.expand(&w.value) {
                        self.file_redirect(Some(1), &ast::IoFileRedirectKind::Write, word);
                    }
                }
            }
        }
        stdin
    }

    pub(super) fn file_redirect(&mut self, _fd: Option<i32>, kind: &ast::IoFileRedirectKind, word: Word) {
        if word.is_static() && is_dev_sink(&word.text) {
            return;
        }
        let access = match kind {
            ast::IoFileRedirectKind::Read | ast::IoFileRedirectKind::DuplicateInput => Access::Read,
            ast::IoFileRedirectKind::ReadAndWrite => {
                self.path(Access::Read, word.clone(), "redirection");
                Access::Write
            }
            _ => Access::Write,
        };
        self.path(access, word, "redirection");
    }

    /// Walks the expansions of a here-document; its expanded text when every expansion is known.
    pub(super) fn heredoc_expansions(&mut self, body: &str) -> Option<String> {
        match word::parse_heredoc(body, &parser_options()) {
            Ok(pieces) => {
                let mut chars = Vec::new();
                let (mut dynamic, mut glob) = (false, false);
                self.pieces(&pieces, true, &mut chars, &mut dynamic, &mut glob);
                (!dynamic).then(|| chars.into_iter().map(|(c, _)| c).collect())
            }
            Err(e) => {
                self.deny(format!("here-document cannot be parsed ({e})"));
                None
            }
        }
    }

    /// `<(cmd)` runs `cmd` with the terminal's input; `>(cmd)` runs it on what the outer command writes, so a
    /// shell there (`> >(bash)`) runs text that cannot be seen.
    pub(super) fn process_substitution(
        &mut self,
        kind: &ast::ProcessSubstitutionKind,
        sub: &ast::SubshellCommand,
    ) {
        let stdin = match kind {
            ast::ProcessSubstitutionKind::Read => Stdin::Inherited,
            ast::ProcessSubstitutionKind::Write => Stdin::Pipe(Upstream {
                names: vec!["the output of the outer command".to_owned()],
                ..Upstream::default()
            }),
        };
        let (vars, cwd) = (self.vars.clone(), self.cwd.clone());
        self.compound_list(&sub.list, &stdin);
        self.vars = vars;
        self.cwd = cwd;
    }
}
