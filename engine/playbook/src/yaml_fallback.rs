//! A minimal YAML 1.1 loader, used only until rsible-yaml's `load_file`
//! lands: it builds rsible-yaml `Node`s from saphyr-parser events with the
//! common PyYAML resolutions (booleans, null, ints, floats, merge keys,
//! `!unsafe`). The real loader replaces it; nothing else depends on it.

use std::collections::HashMap;
use std::sync::Arc;

use rsible_yaml::{Mapping, Mark, Node, Value};
use saphyr_parser::{Event, Parser, ScalarStyle};

pub fn load_str(text: &str, source: Option<Arc<str>>) -> Result<Vec<Node>, (String, Mark)> {
    let mut parser = Parser::new_from_str(text);
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut docs = Vec::new();
    loop {
        let Some(next) = parser.next_event() else {
            break;
        };
        let (event, span) = next.map_err(|e| {
            let m = e.marker();
            (
                e.info().to_string(),
                Mark::new(source.clone(), m.line() as u32, m.col() as u32 + 1),
            )
        })?;
        match event {
            Event::StreamEnd => break,
            Event::DocumentStart(_) => {
                let node = read_node(&mut parser, &source, &mut anchors, None)?;
                docs.push(
                    node.unwrap_or_else(|| Node::new(Value::Null, mark_of(&source, span.start))),
                );
            }
            _ => {}
        }
    }
    Ok(docs)
}

fn mark_of(source: &Option<Arc<str>>, m: saphyr_parser::Marker) -> Mark {
    Mark::new(source.clone(), m.line() as u32, m.col() as u32 + 1)
}

type LoadResult = Result<Option<Node>, (String, Mark)>;

/// Read one node; `None` when the event closes the enclosing collection or document.
fn read_node(
    parser: &mut Parser<'_, saphyr_parser::StrInput<'_>>,
    source: &Option<Arc<str>>,
    anchors: &mut HashMap<usize, Node>,
    _first: Option<()>,
) -> LoadResult {
    let (event, span) = match None::<(Event<'_>, saphyr_parser::Span)> {
        Some(e) => e,
        None => match parser.next_event() {
            Some(Ok(e)) => e,
            Some(Err(e)) => {
                let m = e.marker();
                return Err((e.info().to_string(), mark_of(source, *m)));
            }
            None => return Ok(None),
        },
    };
    let mark = mark_of(source, span.start);
    let node = match event {
        Event::Scalar(text, style, anchor, tag) => {
            let tag_suffix = tag.as_ref().map(|t| t.suffix.clone());
            let value = if tag_suffix.as_deref() == Some("unsafe") {
                Value::Unsafe(text.to_string())
            } else if tag_suffix.as_deref() == Some("vault") {
                Value::Vault(text.to_string())
            } else if style == ScalarStyle::Plain && tag.is_none() {
                resolve_plain(&text)
            } else {
                Value::Str(text.to_string())
            };
            let node = Node::new(value, mark);
            if anchor > 0 {
                anchors.insert(anchor, node.clone());
            }
            node
        }
        Event::Alias(id) => anchors
            .get(&id)
            .cloned()
            .unwrap_or(Node::new(Value::Null, mark)),
        Event::SequenceStart(anchor, _) => {
            let mut items = Vec::new();
            while let Some(item) = read_node(parser, source, anchors, None)? {
                items.push(item);
            }
            let node = Node::new(Value::Seq(items), mark);
            if anchor > 0 {
                anchors.insert(anchor, node.clone());
            }
            node
        }
        Event::MappingStart(anchor, _) => {
            let mut map = Mapping::new();
            while let Some(key) = read_node(parser, source, anchors, None)? {
                let value = read_node(parser, source, anchors, None)?
                    .unwrap_or_else(|| Node::new(Value::Null, key.mark.clone()));
                if key.as_str() == Some("<<") {
                    merge_into(&mut map, &value);
                } else {
                    map.insert(key, value);
                }
            }
            let node = Node::new(Value::Map(map), mark);
            if anchor > 0 {
                anchors.insert(anchor, node.clone());
            }
            node
        }
        _ => return Ok(None),
    };
    Ok(Some(node))
}

fn merge_into(map: &mut Mapping, value: &Node) {
    let sources: Vec<&Node> = match &value.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![value],
    };
    for src in sources {
        if let Value::Map(m) = &src.value {
            for (k, v) in m.iter() {
                if !map.entries.iter().any(|(ek, _)| ek.value == k.value) {
                    map.entries.push((k.clone(), v.clone()));
                }
            }
        }
    }
}

fn resolve_plain(text: &str) -> Value {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            return Value::Bool(true)
        }
        "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            return Value::Bool(false)
        }
        _ => {}
    }
    let digits = text.replace('_', "");
    if let Ok(i) = digits.parse::<i64>() {
        if !digits.starts_with('0') || digits == "0" {
            return Value::Int(i);
        }
        if let Ok(o) = i64::from_str_radix(&digits[1..], 8) {
            return Value::Int(o);
        }
    }
    if let Some(hex) = digits.strip_prefix("0x") {
        if let Ok(i) = i64::from_str_radix(hex, 16) {
            return Value::Int(i);
        }
    }
    let looks_float = digits.contains('.')
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || "+-.eE".contains(c))
        && digits.chars().any(|c| c.is_ascii_digit());
    if looks_float {
        if let Ok(f) = digits.parse::<f64>() {
            return Value::Float(f);
        }
    }
    Value::Str(text.to_string())
}
