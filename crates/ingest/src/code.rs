//! Source files cut at top-level item boundaries through tree-sitter (feature `code`).
//!
//! Each definition (Rust function, struct, enum, union, trait, impl, module with a body, `macro_rules!`;
//! Python function or class, decorated or not) becomes one block together with the comments and attributes
//! directly before it. Runs of everything else between definitions (imports, `use`, constants, statements)
//! become one block per run. A boundary therefore depends only on the syntax tree around it: an edit inside
//! one function changes that function's block and no other. The caller splits oversized blocks further.

use tree_sitter::{Node, Parser};

use crate::chunk::DocumentKind;

/// One top-level block of a source file.
#[derive(Debug)]
pub(crate) struct ItemBlock {
    /// The source text from the first leading comment or attribute to the end of the item.
    pub(crate) text: String,
    /// For a definition, its header up to the body (the signature); empty otherwise.
    pub(crate) heading_path: Vec<String>,
}

/// The blocks of `text`, or `None` when the language is not code, the grammar does not load, or the
/// file does not parse cleanly (any syntax error), so that the caller falls back to plain text.
pub(crate) fn item_blocks(kind: DocumentKind, text: &str) -> Option<Vec<ItemBlock>> {
    let language: tree_sitter::Language = match kind {
        DocumentKind::Rust => tree_sitter_rust::LANGUAGE.into(),
        DocumentKind::Python => tree_sitter_python::LANGUAGE.into(),
        DocumentKind::Markdown | DocumentKind::Text => return None,
    };
    let mut parser = Parser::new();
    parser.set_language(&language).ok()?;
    let tree = parser.parse(text, None)?;
    let root = tree.root_node();
    if root.has_error() {
        return None;
    }

    let mut blocks = Vec::new();
    // Comments and attributes not yet attached to an item: they belong to the next one.
    let mut leading: Option<usize> = None;
    // The start and end of the current run of non-definition items.
    let mut run: Option<(usize, usize)> = None;
    let mut cursor = root.walk();
    for node in root.named_children(&mut cursor) {
        if is_leading(node.kind()) {
            leading.get_or_insert(node.start_byte());
            continue;
        }
        let start = leading.take().unwrap_or(node.start_byte());
        let is_mod_declaration = node.kind() == "mod_item" && node.child_by_field_name("body").is_none();
        if is_definition(node.kind()) && !is_mod_declaration {
            if let Some((s, e)) = run.take() {
                push(&mut blocks, text, s, e, Vec::new());
            }
            let heading = signature(node, text).into_iter().collect();
            push(&mut blocks, text, start, node.end_byte(), heading);
        } else {
            let s = run.map_or(start, |(s, _)| s);
            run = Some((s, node.end_byte()));
        }
    }
    // Trailing comments join the last run (or form one).
    if let Some(l) = leading {
        let s = run.map_or(l, |(s, _)| s);
        run = Some((s, text.len()));
    }
    if let Some((s, e)) = run {
        push(&mut blocks, text, s, e, Vec::new());
    }
    Some(blocks)
}

fn push(blocks: &mut Vec<ItemBlock>, text: &str, start: usize, end: usize, heading_path: Vec<String>) {
    let Some(slice) = text.get(start..end) else { return };
    let slice = slice.trim_matches('\n');
    if !slice.trim().is_empty() {
        blocks.push(ItemBlock { text: slice.to_owned(), heading_path });
    }
}

fn is_leading(kind: &str) -> bool {
    matches!(kind, "line_comment" | "block_comment" | "attribute_item" | "comment")
}

fn is_definition(kind: &str) -> bool {
    matches!(
        kind,
        "function_item"
            | "function_signature_item"
            | "struct_item"
            | "enum_item"
            | "union_item"
            | "trait_item"
            | "impl_item"
            | "mod_item"
            | "macro_definition"
            | "function_definition"
            | "class_definition"
            | "decorated_definition"
    )
}

/// The header of a definition up to its body (for Python, of the definition under its decorators), with
/// runs of whitespace collapsed to one space.
fn signature(node: Node<'_>, text: &str) -> Option<String> {
    let def = node.child_by_field_name("definition").unwrap_or(node);
    let end = def.child_by_field_name("body").map_or(def.end_byte(), |b| b.start_byte());
    let src = text.get(def.start_byte()..end)?;
    let header = src.split_whitespace().collect::<Vec<_>>().join(" ");
    let header = header.trim_end_matches([';', '{', ':']).trim_end();
    (!header.is_empty()).then(|| header.to_owned())
}
