//! Events to a raw node graph, as PyYAML's Composer does: scalars keep their
//! text, style and tag; aliases share the anchored node (`Rc`), and are only
//! copied when constructed.

use std::collections::HashMap;
use std::rc::Rc;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

use crate::source::SourceText;
use crate::syntax_error::SyntaxError;

/// Deeper nesting than this is refused: real files never come close, and it
/// keeps recursion (construction, drop) bounded on hostile input. Python's own
/// recursion limit stops PyYAML near the same depth.
pub(crate) const MAX_DEPTH: usize = 512;

/// A composed node, before types are given to scalars.
#[derive(Debug)]
pub(crate) struct Raw {
    pub kind: RawKind,
    /// 1-based line and column of the node's start (anchor or tag included).
    pub line: u32,
    pub column: u32,
}

#[derive(Debug)]
pub(crate) enum RawKind {
    Scalar {
        text: String,
        plain: bool,
        tag: Option<String>,
    },
    Seq {
        tag: Option<String>,
        items: Vec<Rc<Raw>>,
    },
    Map {
        tag: Option<String>,
        pairs: Vec<(Rc<Raw>, Rc<Raw>)>,
    },
}

/// A collection being filled while its events arrive.
struct Frame {
    anchor: usize,
    line: u32,
    column: u32,
    kind: RawKind,
    pending_key: Option<Rc<Raw>>,
}

impl Frame {
    fn push(&mut self, node: Rc<Raw>) {
        match &mut self.kind {
            RawKind::Seq { items, .. } => items.push(node),
            RawKind::Map { pairs, .. } => match self.pending_key.take() {
                Some(key) => pairs.push((key, node)),
                None => self.pending_key = Some(node),
            },
            RawKind::Scalar { .. } => {}
        }
    }
}

/// The composed documents of a stream, with where each document starts.
pub(crate) struct Stream {
    pub documents: Vec<Rc<Raw>>,
    pub starts: Vec<(u32, u32)>,
}

/// Compose every document of the stream. An empty stream gives no documents.
pub(crate) fn compose_all(text: &SourceText) -> Result<Stream, SyntaxError> {
    let mut parser = Parser::new_from_str(text.text());
    let mut documents = Vec::new();
    let mut starts = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Rc<Raw>> = HashMap::new();
    let mut root: Option<Rc<Raw>> = None;
    // End of the previous event, to find a block scalar's `|`/`>` header.
    let mut previous_end = (1u32, 1u32);

    while let Some(next) = parser.next_event() {
        let (event, span) =
            next.map_err(|e| SyntaxError::from_scan(&e, text, &stack_marks(&stack)))?;
        let (line, column) = start_of(&span);
        let after_previous = std::mem::replace(&mut previous_end, end_of(&span));
        let completed = match event {
            Event::StreamStart | Event::Nothing | Event::StreamEnd => None,
            Event::DocumentStart(_) => {
                starts.push((line, column));
                root = None;
                None
            }
            Event::DocumentEnd => {
                documents.push(root.take().unwrap_or_else(|| empty_scalar(line, column)));
                anchors.clear();
                None
            }
            Event::Alias(id) => match anchors.get(&id) {
                Some(node) => Some(Rc::clone(node)),
                None => return Err(SyntaxError::undefined_alias(line, column)),
            },
            Event::Scalar(value, style, anchor, tag) => {
                // saphyr starts a block scalar at its content; libyaml at its header.
                let (line, column) = if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded)
                {
                    text.block_scalar_header(after_previous, (line, column))
                } else {
                    (line, column)
                };
                let node = Rc::new(Raw {
                    kind: RawKind::Scalar {
                        text: value.into_owned(),
                        plain: style == ScalarStyle::Plain,
                        tag: tag.map(|t| tag_name(&t)),
                    },
                    line,
                    column,
                });
                if anchor > 0 {
                    anchors.insert(anchor, Rc::clone(&node));
                }
                Some(node)
            }
            Event::SequenceStart(anchor, tag) => {
                let (line, column) = if span.is_empty() {
                    text.block_entry_start(line, column)
                } else {
                    (line, column)
                };
                open(
                    &mut stack,
                    anchor,
                    line,
                    column,
                    RawKind::Seq {
                        tag: tag.map(|t| tag_name(&t)),
                        items: Vec::new(),
                    },
                )?;
                None
            }
            Event::MappingStart(anchor, tag) => {
                open(
                    &mut stack,
                    anchor,
                    line,
                    column,
                    RawKind::Map {
                        tag: tag.map(|t| tag_name(&t)),
                        pairs: Vec::new(),
                    },
                )?;
                None
            }
            Event::SequenceEnd | Event::MappingEnd => match stack.pop() {
                Some(frame) => {
                    let node = Rc::new(Raw {
                        kind: frame.kind,
                        line: frame.line,
                        column: frame.column,
                    });
                    if frame.anchor > 0 {
                        anchors.insert(frame.anchor, Rc::clone(&node));
                    }
                    Some(node)
                }
                None => None,
            },
        };
        if let Some(node) = completed {
            match stack.last_mut() {
                Some(parent) => parent.push(node),
                None => root = Some(node),
            }
        }
    }
    Ok(Stream { documents, starts })
}

fn open(
    stack: &mut Vec<Frame>,
    anchor: usize,
    line: u32,
    column: u32,
    kind: RawKind,
) -> Result<(), SyntaxError> {
    if stack.len() >= MAX_DEPTH {
        return Err(SyntaxError::too_deep(line, column));
    }
    stack.push(Frame {
        anchor,
        line,
        column,
        kind,
        pending_key: None,
    });
    Ok(())
}

/// Start marks of the open collections, innermost last, for error contexts
/// ("while parsing a block mapping ... in line X").
fn stack_marks(stack: &[Frame]) -> Vec<(bool, u32, u32)> {
    stack
        .iter()
        .map(|f| (matches!(f.kind, RawKind::Map { .. }), f.line, f.column))
        .collect()
}

fn empty_scalar(line: u32, column: u32) -> Rc<Raw> {
    Rc::new(Raw {
        kind: RawKind::Scalar {
            text: String::new(),
            plain: true,
            tag: None,
        },
        line,
        column,
    })
}

fn start_of(span: &Span) -> (u32, u32) {
    let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX);
    let column = u32::try_from(span.start.col()).unwrap_or(u32::MAX - 1) + 1;
    (line, column)
}

fn end_of(span: &Span) -> (u32, u32) {
    let line = u32::try_from(span.end.line()).unwrap_or(u32::MAX);
    let column = u32::try_from(span.end.col()).unwrap_or(u32::MAX - 1) + 1;
    (line, column)
}

/// The full tag name as PyYAML reports it: `tag:yaml.org,2002:str` for `!!str`,
/// `!unsafe` for a local tag, `!` for the non-specific tag.
fn tag_name(tag: &Tag) -> String {
    if tag.handle.is_empty() {
        tag.suffix.clone()
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}
