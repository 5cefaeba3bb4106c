//! Raw nodes to typed [`Node`]s, as Ansible's `AnsibleConstructor` (a
//! PyYAML `SafeConstructor`) builds Python objects: tags decide types,
//! merge keys are flattened, duplicate keys keep the last value with a
//! warning, and `!unsafe` marks every string beneath it.

use std::rc::Rc;
use std::sync::Arc;

use crate::compose::{Raw, RawKind};
use crate::key::KeyIndex;
use crate::scalar::{construct_bool, construct_float, construct_int, resolve_plain, Implicit};
use crate::syntax_error::SyntaxError;
use crate::{Mapping, Mark, Node, Value};

const CORE: &str = "tag:yaml.org,2002:";

/// State shared while constructing one document.
pub(crate) struct Constructor {
    source: Option<Arc<str>>,
    /// The name duplicate-key warnings use (`<string>` without a file, as Ansible).
    source_label: String,
    /// Warnings with their place in PyYAML's construction order: PyYAML builds
    /// nested collections breadth-first (each level after its parent), so a
    /// warning sorts by (nesting depth, order the mapping was started).
    warnings: Vec<(usize, usize, String)>,
    depth: usize,
    mappings_started: usize,
    /// Mappings already constructed: an alias re-uses PyYAML's constructed
    /// object, so its duplicate keys are reported once.
    constructed: std::collections::HashSet<*const Raw>,
    /// Nodes left before refusing: aliases can make a small text expand
    /// exponentially ("billion laughs"), which PyYAML survives by sharing objects.
    budget: usize,
}

impl Constructor {
    pub(crate) fn new(source: Option<Arc<str>>, text_len: usize) -> Self {
        let source_label = source.as_deref().unwrap_or("<string>").to_string();
        Constructor {
            source,
            source_label,
            warnings: Vec::new(),
            depth: 0,
            mappings_started: 0,
            constructed: std::collections::HashSet::new(),
            budget: 1_000_000 + 16 * text_len,
        }
    }

    /// The warnings of the document just constructed, in the order Ansible prints them.
    pub(crate) fn take_warnings(&mut self) -> Vec<String> {
        let mut warnings = std::mem::take(&mut self.warnings);
        warnings.sort_by_key(|(depth, order, _)| (*depth, *order));
        warnings.into_iter().map(|(_, _, text)| text).collect()
    }

    fn mark(&self, raw: &Raw) -> Mark {
        Mark::new(self.source.clone(), raw.line, raw.column)
    }

    pub(crate) fn construct(&mut self, raw: &Raw) -> Result<Node, SyntaxError> {
        self.budget = self.budget.checked_sub(1).ok_or_else(|| {
            SyntaxError::plain(
                "the document expands to too many nodes through aliases",
                raw.line,
                raw.column,
            )
        })?;
        let value = match &raw.kind {
            RawKind::Scalar { text, plain, tag } => {
                self.scalar(raw, text, *plain, tag.as_deref())?
            }
            RawKind::Seq { tag, items } => match tag.as_deref() {
                None | Some("!") => Value::Seq(self.sequence(items)?),
                Some(t) if t == core("seq") || t == core("omap") || t == core("pairs") => {
                    Value::Seq(self.sequence(items)?)
                }
                Some("!unsafe") => make_unsafe(Value::Seq(self.sequence(items)?)),
                Some(t) if is_scalar_only_tag(t) => return Err(expected_scalar(raw, "sequence")),
                Some(t) if t == core("map") || t == core("set") || t == core("python/dict") => {
                    return Err(SyntaxError::plain(
                        "expected a mapping node, but found sequence",
                        raw.line,
                        raw.column,
                    ))
                }
                Some(t) => return Err(no_constructor(raw, t)),
            },
            RawKind::Map { tag, pairs } => match tag.as_deref() {
                None | Some("!") => Value::Map(self.mapping(raw, pairs)?),
                Some(t) if t == core("map") || t == core("set") || t == core("python/dict") => {
                    Value::Map(self.mapping(raw, pairs)?)
                }
                Some("!unsafe") => make_unsafe(Value::Map(self.mapping(raw, pairs)?)),
                Some(t) if is_scalar_only_tag(t) => return Err(expected_scalar(raw, "mapping")),
                Some(t) if t == core("seq") || t == core("omap") || t == core("pairs") => {
                    return Err(SyntaxError::plain(
                        "expected a sequence node, but found mapping",
                        raw.line,
                        raw.column,
                    ))
                }
                Some(t) => return Err(no_constructor(raw, t)),
            },
        };
        Ok(Node::new(value, self.mark(raw)))
    }

    fn scalar(
        &mut self,
        raw: &Raw,
        text: &str,
        plain: bool,
        tag: Option<&str>,
    ) -> Result<Value, SyntaxError> {
        let implicit = match tag {
            // libyaml resolves the non-specific tag `!` like an untagged plain scalar, even when quoted.
            None if plain => resolve_plain(text),
            Some("!") => resolve_plain(text),
            None => Implicit::Str,
            Some("!unsafe") => return Ok(Value::Unsafe(text.to_string())),
            Some("!vault") | Some("!vault-encrypted") => return Ok(Value::Vault(text.to_string())),
            Some(t) => match t.strip_prefix(CORE) {
                Some("str") | Some("python/unicode") | Some("timestamp") | Some("binary") => {
                    Implicit::Str
                }
                Some("int") => Implicit::Int,
                Some("float") => Implicit::Float,
                Some("bool") => Implicit::Bool,
                Some("null") => Implicit::Null,
                Some("map") | Some("set") | Some("python/dict") => {
                    return Err(SyntaxError::plain(
                        "expected a mapping node, but found scalar",
                        raw.line,
                        raw.column,
                    ))
                }
                Some("seq") | Some("omap") | Some("pairs") => {
                    return Err(SyntaxError::plain(
                        "expected a sequence node, but found scalar",
                        raw.line,
                        raw.column,
                    ))
                }
                _ => return Err(no_constructor(raw, t)),
            },
        };
        let invalid = |what: &str| {
            SyntaxError::plain(
                format!("invalid literal for {what}: '{text}'"),
                raw.line,
                raw.column,
            )
        };
        Ok(match implicit {
            Implicit::Null => Value::Null,
            Implicit::Bool => Value::Bool(construct_bool(text).ok_or_else(|| invalid("bool"))?),
            Implicit::Int => construct_int(text).ok_or_else(|| invalid("int() with base 10"))?,
            Implicit::Float => {
                Value::Float(construct_float(text).ok_or_else(|| invalid("float()"))?)
            }
            // Dates stay text: rsible has no date type (see the crate docs).
            Implicit::Timestamp | Implicit::Str => Value::Str(text.to_string()),
            Implicit::Merge => return Err(no_constructor(raw, &core("merge"))),
            Implicit::ValueKey => return Err(no_constructor(raw, &core("value"))),
        })
    }

    fn sequence(&mut self, items: &[Rc<Raw>]) -> Result<Vec<Node>, SyntaxError> {
        self.depth += 1;
        let items = items.iter().map(|item| self.construct(item)).collect();
        self.depth -= 1;
        items
    }

    fn mapping(&mut self, raw: &Raw, pairs: &[(Rc<Raw>, Rc<Raw>)]) -> Result<Mapping, SyntaxError> {
        let flat = flatten(raw, pairs)?;
        let order = self.mappings_started;
        self.mappings_started += 1;
        let report = self.constructed.insert(raw as *const Raw);
        let (map_depth, label) = (self.depth, self.source_label.clone());
        self.depth += 1;
        let result = self.mapping_entries(raw, flat, report, map_depth, order, &label);
        self.depth -= 1;
        result
    }

    fn mapping_entries(
        &mut self,
        raw: &Raw,
        flat: Vec<(&Raw, &Raw)>,
        report: bool,
        map_depth: usize,
        order: usize,
        label: &str,
    ) -> Result<Mapping, SyntaxError> {
        let mut mapping = Mapping {
            entries: Vec::with_capacity(flat.len()),
        };
        let mut index = KeyIndex::default();
        for (key_raw, value_raw) in flat {
            let key = self.construct_key(raw, key_raw)?;
            let value = self.construct(value_raw)?;
            match index.position(&key.value) {
                Some(existing) => {
                    if report {
                        let text = format!(
                            "While constructing a mapping from {label}, line {}, column {}, found a duplicate dict key ({}). Using last defined value only.",
                            raw.line,
                            raw.column,
                            crate::key::python_str(&key.value)
                        );
                        self.warnings.push((map_depth, order, text));
                    }
                    // A Python dict keeps the first key object and its place; only the value changes.
                    if let Some(slot) = mapping.entries.get_mut(existing) {
                        slot.1 = value;
                    }
                }
                None => {
                    index.insert(&key.value, mapping.entries.len());
                    mapping.entries.push((key, value));
                }
            }
        }
        Ok(mapping)
    }

    /// A key, which Python must be able to hash: no lists or dicts.
    fn construct_key(&mut self, map: &Raw, key_raw: &Raw) -> Result<Node, SyntaxError> {
        // `=` as a key is a plain string (PyYAML's flatten_mapping retags it).
        if let RawKind::Scalar {
            text,
            plain: true,
            tag: None,
        } = &key_raw.kind
        {
            if text == "=" {
                return Ok(Node::new(Value::Str(text.clone()), self.mark(key_raw)));
            }
        }
        let key = self.construct(key_raw)?;
        let unhashable = match &key.value {
            Value::Seq(_) => Some("AnsibleSequence"),
            Value::Map(_) => Some("AnsibleMapping"),
            _ => None,
        };
        match unhashable {
            Some(type_name) => Err(SyntaxError::with_context(
                "while constructing a mapping",
                (map.line, map.column),
                format!("found unacceptable key (unhashable type: '{type_name}')"),
                (key_raw.line, key_raw.column),
            )),
            None => Ok(key),
        }
    }
}

fn core(suffix: &str) -> String {
    format!("{CORE}{suffix}")
}

fn is_scalar_only_tag(tag: &str) -> bool {
    matches!(
        tag.strip_prefix(CORE),
        Some("str" | "python/unicode" | "int" | "float" | "bool" | "null" | "timestamp" | "binary")
    ) || tag == "!vault"
        || tag == "!vault-encrypted"
}

fn expected_scalar(raw: &Raw, found: &str) -> SyntaxError {
    SyntaxError::plain(
        format!("expected a scalar node, but found {found}"),
        raw.line,
        raw.column,
    )
}

fn no_constructor(raw: &Raw, tag: &str) -> SyntaxError {
    SyntaxError::plain(
        format!("could not determine a constructor for the tag '{tag}'"),
        raw.line,
        raw.column,
    )
}

fn is_merge_key(raw: &Raw) -> bool {
    match &raw.kind {
        RawKind::Scalar {
            text,
            plain: true,
            tag: None,
        } => text == "<<",
        RawKind::Scalar { tag: Some(t), .. } => t == "tag:yaml.org,2002:merge",
        _ => false,
    }
}

/// PyYAML's `flatten_mapping`: the entries of merged maps come first (for a
/// list of maps, the last map's first), then the mapping's own entries; the
/// later assignment wins, so own keys beat merged ones and earlier maps in a
/// merge list beat later ones.
fn flatten<'a>(
    map: &'a Raw,
    pairs: &'a [(Rc<Raw>, Rc<Raw>)],
) -> Result<Vec<(&'a Raw, &'a Raw)>, SyntaxError> {
    if !pairs.iter().any(|(k, _)| is_merge_key(k)) {
        return Ok(pairs.iter().map(|(k, v)| (&**k, &**v)).collect());
    }
    let mut merged: Vec<(&Raw, &Raw)> = Vec::new();
    let mut own: Vec<(&Raw, &Raw)> = Vec::new();
    for (key, value) in pairs {
        if !is_merge_key(key) {
            own.push((key, value));
            continue;
        }
        match &value.kind {
            RawKind::Map { pairs: sub, .. } => merged.extend(flatten(value, sub)?),
            RawKind::Seq { items, .. } => {
                let mut parts = Vec::with_capacity(items.len());
                for item in items {
                    match &item.kind {
                        RawKind::Map { pairs: sub, .. } => parts.push(flatten(item, sub)?),
                        other => {
                            return Err(SyntaxError::with_context(
                                "while constructing a mapping",
                                (map.line, map.column),
                                format!(
                                    "expected a mapping for merging, but found {}",
                                    node_id(other)
                                ),
                                (item.line, item.column),
                            ))
                        }
                    }
                }
                for part in parts.into_iter().rev() {
                    merged.extend(part);
                }
            }
            other => {
                return Err(SyntaxError::with_context(
                    "while constructing a mapping",
                    (map.line, map.column),
                    format!(
                        "expected a mapping or list of mappings for merging, but found {}",
                        node_id(other)
                    ),
                    (value.line, value.column),
                ))
            }
        }
    }
    merged.extend(own);
    Ok(merged)
}

fn node_id(kind: &RawKind) -> &'static str {
    match kind {
        RawKind::Scalar { .. } => "scalar",
        RawKind::Seq { .. } => "sequence",
        RawKind::Map { .. } => "mapping",
    }
}

/// Ansible's `wrap_var` on a constructed value: every string, key or value, becomes unsafe.
fn make_unsafe(value: Value) -> Value {
    match value {
        Value::Str(s) => Value::Unsafe(s),
        Value::Seq(items) => Value::Seq(items.into_iter().map(unsafe_node).collect()),
        Value::Map(map) => Value::Map(Mapping {
            entries: map
                .entries
                .into_iter()
                .map(|(k, v)| (unsafe_node(k), unsafe_node(v)))
                .collect(),
        }),
        other => other,
    }
}

fn unsafe_node(node: Node) -> Node {
    Node {
        value: make_unsafe(node.value),
        mark: node.mark,
    }
}
