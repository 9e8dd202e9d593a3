//! Word expansion: quoting, parameters, tildes, `$'..'`, brace groups, command substitutions walked.

use brush_parser::ast;
use brush_parser::word::{self, Parameter, ParameterExpr, TildeExpr, WordPiece, WordPieceWithSource};

use super::{Analyzer, COMMAND_OUTPUT, Stdin, parser_options};
use crate::vocab::Word;

impl Analyzer {
    pub(super) fn assignment(&mut self, a: &ast::Assignment) -> (String, Option<String>) {
        let name = match &a.name {
            ast::AssignmentName::VariableName(n) | ast::AssignmentName::ArrayElementName(n, _) => n.clone(),
        };
        let value = match &a.value {
            ast::AssignmentValue::Scalar(w) => {
                let words = self.expand_no_split(&w.value);
                if words.dynamic { None } else { Some(words.text) }
            }
            ast::AssignmentValue::Array(items) => {
                for (_, w) in items {
                    self.expand(&w.value);
                }
                None
            }
        };
        (name, value)
    }

    /// Expands a word and splits it into fields the way an unquoted expansion would be.
    pub(crate) fn expand(&mut self, raw: &str) -> Vec<Word> {
        let pieces = match word::parse(raw, &parser_options()) {
            Ok(p) => p,
            Err(e) => {
                self.deny(format!("word `{raw}` cannot be parsed ({e})"));
                return vec![Word::unknown(raw)];
            }
        };
        let mut chars: Vec<(char, bool)> = Vec::new(); // (char, splittable)
        let mut dynamic = false;
        let mut glob = false;
        self.pieces(&pieces, false, &mut chars, &mut dynamic, &mut glob);
        // Brace expansion of the simple `{a,b}` kind, on unquoted text.
        let mut out = Vec::new();
        let mut field = String::new();
        let mut any = false;
        for (c, split) in chars {
            if split && (c == ' ' || c == '\t' || c == '\n') {
                if any {
                    out.push(std::mem::take(&mut field));
                    any = false;
                }
                continue;
            }
            field.push(c);
            any = true;
        }
        if any || out.is_empty() {
            out.push(field);
        }
        let mut words = Vec::new();
        for text in out {
            for t in brace_expand(&text, raw) {
                words.push(Word { text: t, dynamic, glob });
            }
        }
        words
    }

    /// Expands a word without field splitting (assignment values, `-c` strings keep their spaces).
    pub(super) fn expand_no_split(&mut self, raw: &str) -> Word {
        let pieces = match word::parse(raw, &parser_options()) {
            Ok(p) => p,
            Err(e) => {
                self.deny(format!("word `{raw}` cannot be parsed ({e})"));
                return Word::unknown(raw);
            }
        };
        let mut chars = Vec::new();
        let mut dynamic = false;
        let mut glob = false;
        self.pieces(&pieces, true, &mut chars, &mut dynamic, &mut glob);
        Word { text: chars.into_iter().map(|(c, _)| c).collect(), dynamic, glob: false }
    }

    pub(super) fn pieces(
        &mut self,
        pieces: &[WordPieceWithSource],
        quoted: bool,
        out: &mut Vec<(char, bool)>,
        dynamic: &mut bool,
        glob: &mut bool,
    ) {
        for p in pieces {
            match &p.piece {
                WordPiece::Text(t) => {
                    if !quoted && t.contains(['*', '?', '[']) {
                        *glob = true;
                    }
                    out.extend(t.chars().map(|c| (c, false)));
                }
                WordPiece::SingleQuotedText(t) => out.extend(t.chars().map(|c| (c, false))),
                WordPiece::AnsiCQuotedText(t) => out.extend(ansi_c_decode(t).chars().map(|c| (c, false))),
                WordPiece::DoubleQuotedSequence(inner) | WordPiece::GettextDoubleQuotedSequence(inner) => {
                    self.pieces(inner, true, out, dynamic, glob);
                }
                WordPiece::EscapeSequence(s) => out.extend(s.chars().skip(1).map(|c| (c, false))),
                WordPiece::TildeExpansion(t) => match (t, &self.home) {
                    (TildeExpr::Home, Some(h)) => out.extend(h.chars().map(|c| (c, false))),
                    (TildeExpr::WorkingDir, _) if self.cwd.is_some() => {
                        let cwd =
                            self.cwd.as_ref().map(|c| c.to_string_lossy().into_owned()).unwrap_or_default();
                        out.extend(cwd.chars().map(|c| (c, false)));
                    }
                    _ => {
                        *dynamic = true;
                        out.extend("~".chars().map(|c| (c, false)));
                    }
                },
                WordPiece::ParameterExpansion(expr) => match self.parameter(expr) {
                    Some(v) => out.extend(v.chars().map(|c| (c, !quoted))),
                    None => {
                        *dynamic = true;
                        let src = format!("${{{}}}", param_name(expr));
                        out.extend(src.chars().map(|c| (c, false)));
                    }
                },
                WordPiece::CommandSubstitution(cmd) | WordPiece::BackquotedCommandSubstitution(cmd) => {
                    let (vars, cwd) = (self.vars.clone(), self.cwd.clone());
                    self.script(cmd, Stdin::Inherited);
                    self.vars = vars;
                    self.cwd = cwd;
                    match self.static_output(cmd) {
                        // `$(echo ls)`: the output of an `echo` of known words is known.
                        Some(text) => out.extend(text.chars().map(|c| (c, !quoted))),
                        None => {
                            *dynamic = true;
                            out.extend(COMMAND_OUTPUT.chars().map(|c| (c, false)));
                        }
                    }
                }
                WordPiece::ArithmeticExpression(e) => {
                    self.arithmetic(&e.value);
                    *dynamic = true;
                    out.extend("$((...))".chars().map(|c| (c, false)));
                }
            }
        }
    }

    /// The output of a command substitution that is one `echo` of known words (without `-e`), newlines at the
    /// end removed as the shell removes them; `None` for anything else.
    fn static_output(&mut self, cmd: &str) -> Option<String> {
        let mut parser = brush_parser::Parser::new(std::io::Cursor::new(cmd.as_bytes()), &parser_options());
        let program = parser.parse_program().ok()?;
        let [list] = program.complete_commands.as_slice() else { return None };
        let [ast::CompoundListItem(and_or, _)] = list.0.as_slice() else { return None };
        if !and_or.additional.is_empty() {
            return None;
        }
        let [ast::Command::Simple(s)] = and_or.first.seq.as_slice() else { return None };
        if s.prefix.is_some() {
            return None;
        }
        let name = s.word_or_name.as_ref()?;
        if name.value != "echo" {
            return None;
        }
        let mut words = Vec::new();
        for item in s.suffix.iter().flat_map(|p| p.0.iter()) {
            let ast::CommandPrefixOrSuffixItem::Word(w) = item else { return None };
            words.extend(self.expand(&w.value));
        }
        if words.iter().any(|w| w.dynamic || w.glob) {
            return None;
        }
        let mut args: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        while let Some(first) = args.first() {
            match *first {
                "-n" | "-E" => {
                    args.remove(0);
                }
                f if f.starts_with('-')
                    && f.len() > 1
                    && f[1..].chars().all(|c| matches!(c, 'n' | 'e' | 'E')) =>
                {
                    return None;
                }
                _ => break,
            }
        }
        Some(args.join(" "))
    }

    /// The value of a parameter expansion when it is statically known.
    pub(super) fn parameter(&self, expr: &ParameterExpr) -> Option<String> {
        let lookup = |p: &Parameter| -> Option<String> {
            match p {
                Parameter::Named(n) => self.vars.get(n).cloned().flatten(),
                Parameter::Positional(n) => self.vars.get(&n.to_string()).cloned().flatten(),
                _ => None,
            }
        };
        match expr {
            ParameterExpr::Parameter { parameter, indirect: false } => lookup(parameter),
            ParameterExpr::UseDefaultValues { parameter, indirect: false, default_value, .. }
            | ParameterExpr::AssignDefaultValues { parameter, indirect: false, default_value, .. } => {
                match lookup(parameter) {
                    Some(v) if !v.is_empty() => Some(v),
                    _ => match default_value {
                        Some(d) if !d.contains(['$', '`']) => Some(d.clone()),
                        None => Some(String::new()),
                        _ => None,
                    },
                }
            }
            _ => None,
        }
    }
}

pub(super) fn param_name(expr: &ParameterExpr) -> String {
    match expr {
        ParameterExpr::Parameter { parameter, indirect } => {
            format!("{}{parameter}", if *indirect { "!" } else { "" }).replace(['$', '{', '}'], "")
        }
        _ => "...".to_owned(),
    }
}

/// Decodes the body of a `$'...'` string.
pub(super) fn ansi_c_decode(s: &str) -> String {
    let mut out = String::new();
    let mut it = s.chars().peekable();
    while let Some(c) = it.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = it.next() else {
            out.push('\\');
            break;
        };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'e' | 'E' => out.push('\x1b'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            'x' | 'u' | 'U' => {
                let max = match e {
                    'x' => 2,
                    'u' => 4,
                    _ => 8,
                };
                let mut v = 0u32;
                let mut n = 0;
                while n < max {
                    match it.peek().and_then(|c| c.to_digit(16)) {
                        Some(d) => {
                            v = v * 16 + d;
                            it.next();
                            n += 1;
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    match it.peek().and_then(|c| c.to_digit(8)) {
                        Some(d) => {
                            v = v * 8 + d;
                            it.next();
                        }
                        None => break,
                    }
                }
                out.push(char::from_u32(v).unwrap_or('\u{fffd}'));
            }
            other => out.push(other),
        }
    }
    out
}

/// Expands unquoted `{a,b}` alternatives (one level, the first group) in a word.
pub(super) fn brace_expand(text: &str, raw: &str) -> Vec<String> {
    // Only when the raw word has an unquoted brace group; quoted braces stay literal.
    if !raw.contains('{') || raw.contains(['\'', '"']) || !text.contains(',') {
        return vec![text.to_owned()];
    }
    let Some(open) = text.find('{') else { return vec![text.to_owned()] };
    let Some(close_rel) = text[open..].find('}') else { return vec![text.to_owned()] };
    let close = open + close_rel;
    let inner = &text[open + 1..close];
    if !inner.contains(',') {
        return vec![text.to_owned()];
    }
    let (pre, post) = (&text[..open], &text[close + 1..]);
    inner.split(',').flat_map(|alt| brace_expand(&format!("{pre}{alt}{post}"), raw)).take(64).collect()
}
