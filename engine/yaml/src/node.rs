//! The document model: every value carries the place it came from.
//!
//! Ansible's loader wraps each mapping, sequence and string in an object that
//! knows its `ansible_pos` (file, line, column). Error messages everywhere in
//! rsible point back at the source through these marks, so every node keeps one.

use std::fmt;
use std::sync::Arc;

/// Where a node starts in its source: 1-based line and column, as Ansible prints them.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct Mark {
    /// The file the node was read from; `None` for text that came from no file
    /// (the command line, a test). Shared between all nodes of one document.
    pub source: Option<Arc<str>>,
    pub line: u32,
    pub column: u32,
}

impl Mark {
    pub fn new(source: Option<Arc<str>>, line: u32, column: u32) -> Self {
        Mark {
            source,
            line,
            column,
        }
    }
}

impl fmt::Display for Mark {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Some(s) => write!(f, "'{}': line {}, column {}", s, self.line, self.column),
            None => write!(f, "line {}, column {}", self.line, self.column),
        }
    }
}

/// A YAML value after YAML 1.1 resolution (PyYAML's SafeLoader rules plus Ansible's tags).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// Integers that fit i64. PyYAML has arbitrary precision; larger ones become `BigInt`.
    Int(i64),
    /// An integer outside i64, kept as its decimal digits (with sign).
    BigInt(String),
    Float(f64),
    Str(String),
    /// `!unsafe` scalar: a string the templar must never template.
    Unsafe(String),
    /// `!vault` scalar: the ciphertext envelope, decrypted later by the vault.
    Vault(String),
    Seq(Vec<Node>),
    /// Key order is kept; duplicate keys are already resolved (last one wins, as in Ansible).
    Map(Mapping),
}

/// An ordered mapping. Keys are nodes because YAML allows non-string keys
/// (`1: a`, `true: b`); Ansible keeps them as their Python types.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Mapping {
    pub entries: Vec<(Node, Node)>,
}

impl Mapping {
    pub fn new() -> Self {
        Mapping {
            entries: Vec::new(),
        }
    }
    /// The value of the first entry whose key is the string `key`.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }
    pub fn get_entry(&self, key: &str) -> Option<(&Node, &Node)> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(k, v)| (k, v))
    }
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    pub fn iter(&self) -> impl Iterator<Item = &(Node, Node)> {
        self.entries.iter()
    }
    pub fn len(&self) -> usize {
        self.entries.len()
    }
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
    /// Insert or replace (keeping the original position of a replaced key, as a Python dict does).
    pub fn insert(&mut self, key: Node, value: Node) {
        if let Some(slot) = self.entries.iter_mut().find(|(k, _)| k.value == key.value) {
            slot.1 = value;
        } else {
            self.entries.push((key, value));
        }
    }
}

/// A value with its position.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub mark: Mark,
}

impl Node {
    pub fn new(value: Value, mark: Mark) -> Self {
        Node { value, mark }
    }
    /// A node with no source position (built in code, not read from a file).
    pub fn unplaced(value: Value) -> Self {
        Node {
            value,
            mark: Mark::default(),
        }
    }
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) | Value::Unsafe(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_map(&self) -> Option<&Mapping> {
        match &self.value {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(s) => Some(s),
            _ => None,
        }
    }
    pub fn as_bool(&self) -> Option<bool> {
        match self.value {
            Value::Bool(b) => Some(b),
            _ => None,
        }
    }
    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Null)
    }
    /// Python's name for the type, as Ansible's error messages print it
    /// (`str`, `int`, `dict`, `list`, `NoneType`, ...).
    pub fn type_name(&self) -> &'static str {
        match &self.value {
            Value::Null => "NoneType",
            Value::Bool(_) => "bool",
            Value::Int(_) | Value::BigInt(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "AnsibleUnicode",
            Value::Unsafe(_) => "AnsibleUnsafeText",
            Value::Vault(_) => "AnsibleVaultEncryptedUnicode",
            Value::Seq(_) => "AnsibleSequence",
            Value::Map(_) => "AnsibleMapping",
        }
    }
}
