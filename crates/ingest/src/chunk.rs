//! Structure-aware, edit-stable chunking.
//!
//! A document is cut into blocks at structural boundaries first (markdown headings, blank lines outside
//! fenced code), and only a block that is larger than the chunk limit is cut further (sentences, then words,
//! then characters, by `text-splitter`). Small blocks are glued to their successor only when both sit in the
//! same section. So whether a boundary exists depends on the two blocks around it and nothing else: an edit
//! changes the chunks it touches and leaves every other section, and every other paragraph of its own
//! section, byte-identical. Greedy packing, by contrast, fills each chunk up to the limit from the start of
//! the text, so an insertion shifts every later boundary until the next hard break.

use agentry_types::ChunkId;
use sha2::{Digest as _, Sha256};

/// Domain separation for chunk ids, so a chunk id never equals the SHA-256 of some other artifact.
const CHUNK_ID_DOMAIN: &[u8] = b"agentry-ingest/chunk/v1\0";

/// How documents are cut into chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkConfig {
    /// The largest chunk in bytes; blocks above it are split at sentences, words, then characters.
    pub max_bytes: usize,
    /// Blocks shorter than this are joined with the next block of the same section (when the two fit
    /// `max_bytes`), so a lone "For example:" line does not become a chunk of its own.
    pub min_bytes: usize,
}

impl Default for ChunkConfig {
    fn default() -> Self {
        Self { max_bytes: 1500, min_bytes: 0 }
    }
}

/// What kind of text a document holds, which decides where its structural boundaries are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DocumentKind {
    /// CommonMark-style markdown: ATX and setext headings, fenced code, blank-line separated blocks.
    Markdown,
    /// Anything else that is text: blank-line separated blocks, then sentences, words, characters.
    Text,
    /// Rust source: one block per top-level item with its doc comments and attributes (feature `code`;
    /// without it, or when the file does not parse, chunked as [`DocumentKind::Text`]).
    Rust,
    /// Python source: one block per top-level function or class with its decorators and leading comments
    /// (feature `code`; without it, or when the file does not parse, chunked as [`DocumentKind::Text`]).
    Python,
}

impl DocumentKind {
    /// The kind for a file name: markdown for `.md`/`.markdown`/`.mdx`, Rust for `.rs`, Python for
    /// `.py`/`.pyi`, text otherwise.
    pub fn from_path(path: &str) -> Self {
        let lower = path.to_ascii_lowercase();
        if lower.ends_with(".md") || lower.ends_with(".markdown") || lower.ends_with(".mdx") {
            Self::Markdown
        } else if lower.ends_with(".rs") {
            Self::Rust
        } else if lower.ends_with(".py") || lower.ends_with(".pyi") {
            Self::Python
        } else {
            Self::Text
        }
    }
}

/// One chunk of a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    /// Content identity: SHA-256 over a domain tag and the normalized text (the only input to the embedding).
    pub id: ChunkId,
    /// Position in the document, for ordering only; it never enters the id.
    pub ordinal: u32,
    /// Headings enclosing the chunk, outermost first (for a heading chunk, including its own heading).
    pub heading_path: Vec<String>,
    /// The normalized chunk text: exactly what is embedded.
    pub text: String,
}

/// The chunk id of a normalized text.
pub fn chunk_id(text: &str) -> ChunkId {
    let mut h = Sha256::new();
    h.update(CHUNK_ID_DOMAIN);
    h.update(text.as_bytes());
    ChunkId::from_bytes(h.finalize().into())
}

/// Normalizes text before hashing and chunking: strips a byte-order mark, turns CRLF and CR into LF, strips
/// trailing whitespace from every line and blank lines at both ends. Whitespace-only edits at line ends
/// therefore never re-embed anything.
pub fn normalize(text: &str) -> String {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut out = String::with_capacity(text.len());
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        // A lone CR inside a line is an old-Mac line break.
        for (i, part) in line.split('\r').enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(part.trim_end());
        }
        out.push('\n');
    }
    let trimmed_end = out.trim_end_matches('\n').len();
    out.truncate(trimmed_end);
    let start = out.len() - out.trim_start_matches('\n').len();
    out.drain(..start);
    out
}

/// Cuts a document into chunks according to its kind.
pub fn chunk_document(kind: DocumentKind, text: &str, config: &ChunkConfig) -> Vec<Chunk> {
    let text = normalize(text);
    let blocks = match kind {
        DocumentKind::Markdown => markdown_blocks(&text),
        DocumentKind::Text => text_blocks(&text),
        DocumentKind::Rust | DocumentKind::Python => code_blocks(kind, &text),
    };
    assemble(blocks, config)
}

/// A structural block before size handling.
#[derive(Debug)]
struct Block {
    text: String,
    heading_path: Vec<String>,
    is_heading: bool,
}

fn text_blocks(text: &str) -> Vec<Block> {
    text.split("\n\n")
        .map(|b| b.trim_matches('\n'))
        .filter(|b| !b.is_empty())
        .map(|b| Block { text: b.to_owned(), heading_path: Vec::new(), is_heading: false })
        .collect()
}

/// Blocks of a source file at top-level item boundaries; plain-text blocks when the file does not parse.
#[cfg(feature = "code")]
fn code_blocks(kind: DocumentKind, text: &str) -> Vec<Block> {
    match crate::code::item_blocks(kind, text) {
        Some(blocks) => blocks
            .into_iter()
            .map(|b| Block { text: b.text, heading_path: b.heading_path, is_heading: false })
            .collect(),
        None => {
            tracing::debug!(?kind, "source does not parse; chunked as plain text");
            text_blocks(text)
        }
    }
}

/// Without the `code` feature, source files are plain text.
#[cfg(not(feature = "code"))]
fn code_blocks(_kind: DocumentKind, text: &str) -> Vec<Block> {
    text_blocks(text)
}

/// The level and text of an ATX heading line (`## Title ##`), if it is one.
fn atx_heading(line: &str) -> Option<(usize, String)> {
    let indent = line.len() - line.trim_start_matches(' ').len();
    if indent > 3 {
        return None;
    }
    let rest = &line[indent..];
    let level = rest.len() - rest.trim_start_matches('#').len();
    if level == 0 || level > 6 {
        return None;
    }
    let after = &rest[level..];
    if !after.is_empty() && !after.starts_with([' ', '\t']) {
        return None;
    }
    let title = after.trim().trim_end_matches('#').trim_end();
    Some((level, title.to_owned()))
}

/// The title of an ATX heading line, if the line is one.
pub(crate) fn heading_title(line: &str) -> Option<String> {
    atx_heading(line).map(|(_, title)| title)
}

/// The fence marker (character and length) if the line opens or closes a fenced code block.
fn fence(line: &str) -> Option<(char, usize)> {
    let trimmed = line.trim_start_matches(' ');
    if line.len() - trimmed.len() > 3 {
        return None;
    }
    let c = trimmed.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let n = trimmed.len() - trimmed.trim_start_matches(c).len();
    (n >= 3).then_some((c, n))
}

fn setext_level(line: &str) -> Option<usize> {
    if line.len() - line.trim_start_matches(' ').len() > 3 {
        return None;
    }
    let t = line.trim();
    if t.is_empty() {
        None
    } else if t.chars().all(|c| c == '=') {
        Some(1)
    } else if t.chars().all(|c| c == '-') {
        Some(2)
    } else {
        None
    }
}

fn markdown_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut path: Vec<(usize, String)> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    let mut open_fence: Option<(char, usize)> = None;

    let titles = |path: &[(usize, String)]| path.iter().map(|(_, t)| t.clone()).collect::<Vec<_>>();
    let set_heading = |path: &mut Vec<(usize, String)>, level: usize, title: String| {
        while path.last().is_some_and(|(l, _)| *l >= level) {
            path.pop();
        }
        path.push((level, title));
    };

    for line in text.split('\n') {
        if let Some((c, n)) = open_fence {
            current.push(line);
            if fence(line).is_some_and(|(c2, n2)| c2 == c && n2 >= n && line.trim().chars().all(|x| x == c)) {
                open_fence = None;
            }
            continue;
        }
        if line.trim().is_empty() {
            flush(&mut blocks, &mut current, &titles(&path));
            continue;
        }
        if let Some((level, title)) = atx_heading(line) {
            flush(&mut blocks, &mut current, &titles(&path));
            set_heading(&mut path, level, title);
            blocks.push(Block { text: line.to_owned(), heading_path: titles(&path), is_heading: true });
            continue;
        }
        if current.len() == 1
            && let Some(level) = setext_level(line)
            && fence(current[0]).is_none()
        {
            let title = current[0].trim().to_owned();
            let heading_text = format!("{}\n{}", current[0], line);
            current.clear();
            set_heading(&mut path, level, title);
            blocks.push(Block { text: heading_text, heading_path: titles(&path), is_heading: true });
            continue;
        }
        if let Some(f) = fence(line) {
            open_fence = Some(f);
        }
        current.push(line);
    }
    flush(&mut blocks, &mut current, &titles(&path));
    blocks
}

fn flush(blocks: &mut Vec<Block>, current: &mut Vec<&str>, path: &[String]) {
    if current.is_empty() {
        return;
    }
    blocks.push(Block { text: current.join("\n"), heading_path: path.to_vec(), is_heading: false });
    current.clear();
}

/// Splits oversized blocks, glues small ones to their successor in the same section, and hashes.
fn assemble(blocks: Vec<Block>, config: &ChunkConfig) -> Vec<Chunk> {
    let max = config.max_bytes.max(16);
    let splitter = text_splitter::TextSplitter::new(text_splitter::ChunkConfig::new(max).with_trim(true));
    let mut pieces: Vec<Block> = Vec::with_capacity(blocks.len());
    for block in blocks {
        if block.text.len() <= max {
            pieces.push(block);
            continue;
        }
        for part in splitter.chunks(&block.text) {
            pieces.push(Block {
                text: part.to_owned(),
                heading_path: block.heading_path.clone(),
                is_heading: false,
            });
        }
    }

    let mut out: Vec<Chunk> = Vec::with_capacity(pieces.len());
    let mut pending: Option<Block> = None;
    for piece in pieces {
        let merged = match pending.take() {
            Some(p)
                if p.text.len() < config.min_bytes
                    && !piece.is_heading
                    && p.heading_path == piece.heading_path
                    && p.text.len() + 2 + piece.text.len() <= max =>
            {
                Block {
                    text: format!("{}\n\n{}", p.text, piece.text),
                    heading_path: piece.heading_path,
                    is_heading: false,
                }
            }
            Some(p) => {
                push_chunk(&mut out, p);
                piece
            }
            None => piece,
        };
        pending = Some(merged);
    }
    if let Some(p) = pending {
        push_chunk(&mut out, p);
    }
    out
}

fn push_chunk(out: &mut Vec<Chunk>, block: Block) {
    let ordinal = u32::try_from(out.len()).unwrap_or(u32::MAX);
    out.push(Chunk {
        id: chunk_id(&block.text),
        ordinal,
        heading_path: block.heading_path,
        text: block.text,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(kind: DocumentKind, input: &str, config: ChunkConfig, expected: &[(&[&str], &str)]) {
        let chunks = chunk_document(kind, input, &config);
        let got: Vec<(Vec<String>, String)> =
            chunks.iter().map(|c| (c.heading_path.clone(), c.text.clone())).collect();
        let want: Vec<(Vec<String>, String)> = expected
            .iter()
            .map(|(p, t)| (p.iter().map(|s| s.to_string()).collect(), t.to_string()))
            .collect();
        assert_eq!(got, want);
        for (i, c) in chunks.iter().enumerate() {
            assert_eq!(c.ordinal as usize, i);
            assert_eq!(c.id, chunk_id(&c.text));
        }
    }

    const SMALL: ChunkConfig = ChunkConfig { max_bytes: 1500, min_bytes: 0 };

    #[test]
    fn headings_and_paragraphs() {
        check(
            DocumentKind::Markdown,
            "# A\n\nfirst para\nline two\n\n## B\nsecond\n\n# C\n\nthird",
            SMALL,
            &[
                (&["A"], "# A"),
                (&["A"], "first para\nline two"),
                (&["A", "B"], "## B"),
                (&["A", "B"], "second"),
                (&["C"], "# C"),
                (&["C"], "third"),
            ],
        );
    }

    #[test]
    fn fenced_code_keeps_blank_lines() {
        check(
            DocumentKind::Markdown,
            "# T\n\n```rust\nfn a() {}\n\n# not a heading\nfn b() {}\n```\n\nafter",
            SMALL,
            &[
                (&["T"], "# T"),
                (&["T"], "```rust\nfn a() {}\n\n# not a heading\nfn b() {}\n```"),
                (&["T"], "after"),
            ],
        );
    }

    #[test]
    fn setext_heading() {
        check(
            DocumentKind::Markdown,
            "Title\n=====\n\nbody",
            SMALL,
            &[(&["Title"], "Title\n====="), (&["Title"], "body")],
        );
    }

    #[test]
    fn hash_without_space_is_not_heading() {
        check(DocumentKind::Markdown, "#hashtag\n\ntext", SMALL, &[(&[], "#hashtag"), (&[], "text")]);
    }

    #[test]
    fn small_blocks_glue_within_section_only() {
        let cfg = ChunkConfig { max_bytes: 100, min_bytes: 20 };
        check(
            DocumentKind::Markdown,
            "# A\n\nFor example:\n\n```\ncode\n```\n\n# B\n\ntiny",
            cfg,
            &[(&["A"], "# A\n\nFor example:\n\n```\ncode\n```"), (&["B"], "# B\n\ntiny")],
        );
    }

    #[test]
    fn oversized_block_is_split_by_sentences() {
        let cfg = ChunkConfig { max_bytes: 30, min_bytes: 0 };
        check(
            DocumentKind::Text,
            "One short sentence. Another short one. A third.",
            cfg,
            &[(&[], "One short sentence."), (&[], "Another short one. A third.")],
        );
    }

    #[test]
    fn normalization_ignores_line_endings_and_trailing_space() {
        assert_eq!(normalize("\u{feff}\n\na  \r\nb\t\rc\n\n"), "a\nb\nc");
        let a = chunk_document(DocumentKind::Text, "x y  \r\n\r\nz", &SMALL);
        let b = chunk_document(DocumentKind::Text, "x y\n\nz\n", &SMALL);
        assert_eq!(a, b);
    }

    #[test]
    fn insertion_keeps_later_chunk_ids() {
        let before = chunk_document(DocumentKind::Markdown, "# A\n\none\n\ntwo\n\nthree", &SMALL);
        let after = chunk_document(DocumentKind::Markdown, "# A\n\nnew\n\none\n\ntwo\n\nthree", &SMALL);
        let ids_before: Vec<_> = before.iter().map(|c| c.id).collect();
        assert!(ids_before.iter().all(|id| after.iter().any(|c| c.id == *id)));
        assert_eq!(after.len(), before.len() + 1);
    }

    #[cfg(feature = "code")]
    const RUST_SRC: &str = "//! Crate docs.\n\nuse std::fmt;\nuse std::io;\n\n/// Adds one.\n#[inline]\npub fn add_one(x: u32) -> u32 {\n    x + 1\n}\n\nstruct Point {\n    x: i32,\n}\n\nimpl Point {\n    fn new() -> Self {\n        Point { x: 0 }\n    }\n}\n\nconst LIMIT: u32 = 3;\n";

    #[cfg(feature = "code")]
    const PYTHON_SRC: &str = "import os\n\n# Greets.\n@cache\ndef greet(name):\n    return 'hi ' + name\n\nclass Box(Base):\n    def size(self):\n        return 1\n\nx = 2\n";

    #[cfg(feature = "code")]
    #[test]
    fn code_items_become_blocks() {
        type Expected<'a> = &'a [(&'a [&'a str], &'a str)];
        let cases: &[(DocumentKind, &str, Expected<'_>)] = &[
            (
                DocumentKind::Rust,
                RUST_SRC,
                &[
                    (&[], "//! Crate docs.\n\nuse std::fmt;\nuse std::io;"),
                    (
                        &["pub fn add_one(x: u32) -> u32"],
                        "/// Adds one.\n#[inline]\npub fn add_one(x: u32) -> u32 {\n    x + 1\n}",
                    ),
                    (&["struct Point"], "struct Point {\n    x: i32,\n}"),
                    (
                        &["impl Point"],
                        "impl Point {\n    fn new() -> Self {\n        Point { x: 0 }\n    }\n}",
                    ),
                    (&[], "const LIMIT: u32 = 3;"),
                ],
            ),
            (
                DocumentKind::Python,
                PYTHON_SRC,
                &[
                    (&[], "import os"),
                    (&["def greet(name)"], "# Greets.\n@cache\ndef greet(name):\n    return 'hi ' + name"),
                    (&["class Box(Base)"], "class Box(Base):\n    def size(self):\n        return 1"),
                    (&[], "x = 2"),
                ],
            ),
        ];
        for (kind, input, expected) in cases {
            check(*kind, input, SMALL, expected);
        }
    }

    #[cfg(feature = "code")]
    #[test]
    fn oversized_item_is_split_further() {
        let body: String = (0..40).map(|i| format!("    let v{i} = {i};\n")).collect();
        let src = format!("fn big() {{\n{body}}}\n\nfn small() {{}}\n");
        let cfg = ChunkConfig { max_bytes: 200, min_bytes: 0 };
        let chunks = chunk_document(DocumentKind::Rust, &src, &cfg);
        assert!(chunks.len() > 3, "{chunks:?}");
        assert!(chunks.iter().all(|c| c.text.len() <= 200));
        let last = chunks.last().map(|c| (c.heading_path.clone(), c.text.clone()));
        assert_eq!(last, Some((vec!["fn small()".to_owned()], "fn small() {}".to_owned())));
        assert!(chunks[..chunks.len() - 1].iter().all(|c| c.heading_path == ["fn big()"]));
    }

    /// Editing the body of one item changes that item's chunk id and no other.
    #[cfg(feature = "code")]
    #[test]
    fn edit_inside_one_item_changes_only_its_chunks() {
        let cases: &[(DocumentKind, &str, &str, &str)] = &[
            (DocumentKind::Rust, RUST_SRC, "x + 1", "x.saturating_add(1)"),
            (DocumentKind::Rust, RUST_SRC, "Point { x: 0 }", "Point { x: -1 }\n        // reset"),
            (DocumentKind::Python, PYTHON_SRC, "'hi '", "'hello there, '"),
            (DocumentKind::Python, PYTHON_SRC, "return 1", "n = 1\n\n        return n"),
        ];
        for (kind, src, from, to) in cases {
            let before = chunk_document(*kind, src, &SMALL);
            let after = chunk_document(*kind, &src.replacen(from, to, 1), &SMALL);
            assert_eq!(before.len(), after.len(), "{kind:?} {from}");
            let changed: Vec<usize> = (0..before.len()).filter(|&i| before[i].id != after[i].id).collect();
            assert_eq!(changed.len(), 1, "{kind:?} {from}: changed {changed:?}");
            assert!(after[changed[0]].text.contains(to), "{kind:?} {from}");
        }
    }

    /// A file that does not parse is chunked exactly as plain text, without an error.
    #[test]
    fn unparsable_code_falls_back_to_text() {
        let cases: &[(DocumentKind, &str)] = &[
            (DocumentKind::Rust, "fn broken( {\n\n  let x = ;\n\nstruct"),
            (DocumentKind::Python, "def f(:\n    pass\n\nclass"),
        ];
        for (kind, src) in cases {
            let got = chunk_document(*kind, src, &SMALL);
            assert_eq!(got, chunk_document(DocumentKind::Text, src, &SMALL), "{kind:?}");
            assert!(got.len() >= 2);
        }
    }

    #[test]
    fn kind_from_path() {
        let cases = [
            ("a/b.md", DocumentKind::Markdown),
            ("lib.RS", DocumentKind::Rust),
            ("x.py", DocumentKind::Python),
            ("x.pyi", DocumentKind::Python),
            ("notes.txt", DocumentKind::Text),
        ];
        for (path, kind) in cases {
            assert_eq!(DocumentKind::from_path(path), kind, "{path}");
        }
    }

    #[test]
    fn empty_document_has_no_chunks() {
        check(DocumentKind::Markdown, "\n\n  \n", SMALL, &[]);
    }
}
