//! JSON first, as Ansible's `from_yaml` does: text that Python's `json.loads`
//! accepts is read as JSON (so `1e3` is a float, tabs are fine, duplicate
//! keys are silent); otherwise Python's error message is kept for the
//! combined "neither JSON nor YAML" report.

use std::sync::Arc;

use crate::compose::MAX_DEPTH;
use crate::scalar::construct_int;
use crate::{Mapping, Mark, Node, Value};

/// Parse `text` as a single JSON document, or return Python's
/// `JSONDecodeError` text (`Expecting value: line 1 column 1 (char 0)`).
pub(crate) fn parse_json(text: &str, source: Option<Arc<str>>) -> Result<Node, String> {
    let mut parser = JsonParser {
        text,
        bytes: text.as_bytes(),
        pos: 0,
        line: 1,
        line_start: 0,
        source,
        depth: 0,
    };
    if text.starts_with('\u{feff}') {
        return Err(
            "Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)".into(),
        );
    }
    parser.skip_ws();
    let node = parser.value()?;
    parser.skip_ws();
    if parser.pos != parser.bytes.len() {
        return Err(parser.error("Extra data", parser.pos));
    }
    Ok(node)
}

struct JsonParser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    pos: usize,
    line: u32,
    line_start: usize,
    source: Option<Arc<str>>,
    depth: usize,
}

impl JsonParser<'_> {
    /// Python's message format: `msg: line L column C (char N)`, counting characters.
    fn error(&self, msg: &str, at: usize) -> String {
        let at = at.min(self.text.len());
        let before = &self.text[..at];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = before[line_start..].chars().count() + 1;
        let char_index = before.chars().count();
        format!("{msg}: line {line} column {column} (char {char_index})")
    }

    fn mark(&self) -> Mark {
        let column = self.text[self.line_start..self.pos].chars().count() + 1;
        Mark::new(
            self.source.clone(),
            self.line,
            u32::try_from(column).unwrap_or(u32::MAX),
        )
    }

    fn skip_ws(&mut self) {
        while let Some(&b) = self.bytes.get(self.pos) {
            match b {
                b' ' | b'\t' | b'\r' => self.pos += 1,
                b'\n' => {
                    self.pos += 1;
                    self.line += 1;
                    self.line_start = self.pos;
                }
                _ => break,
            }
        }
    }

    fn rest(&self) -> &[u8] {
        &self.bytes[self.pos..]
    }

    fn value(&mut self) -> Result<Node, String> {
        let mark = self.mark();
        let start = self.pos;
        let literal = |p: &mut Self, word: &str, value: Value| {
            p.pos += word.len();
            Ok(Node::new(value, mark.clone()))
        };
        match self.bytes.get(self.pos) {
            Some(b'"') => {
                let s = self.string()?;
                Ok(Node::new(Value::Str(s), mark))
            }
            Some(b'{') => self.object(mark),
            Some(b'[') => self.array(mark),
            _ if self.rest().starts_with(b"null") => literal(self, "null", Value::Null),
            _ if self.rest().starts_with(b"true") => literal(self, "true", Value::Bool(true)),
            _ if self.rest().starts_with(b"false") => literal(self, "false", Value::Bool(false)),
            _ if self.rest().starts_with(b"NaN") => literal(self, "NaN", Value::Float(f64::NAN)),
            _ if self.rest().starts_with(b"Infinity") => {
                literal(self, "Infinity", Value::Float(f64::INFINITY))
            }
            _ if self.rest().starts_with(b"-Infinity") => {
                literal(self, "-Infinity", Value::Float(f64::NEG_INFINITY))
            }
            Some(b'-' | b'0'..=b'9') => match self.number() {
                Some(value) => Ok(Node::new(value, mark)),
                None => Err(self.error("Expecting value", start)),
            },
            _ => Err(self.error("Expecting value", start)),
        }
    }

    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`; `None` if nothing matched.
    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.bytes.get(p.pos).is_some_and(u8::is_ascii_digit) {
                p.pos += 1;
            }
            p.pos - s
        };
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => {
                self.pos = start;
                return None;
            }
        }
        let int_end = self.pos;
        let mut is_float = false;
        if self.bytes.get(self.pos) == Some(&b'.') {
            let save = self.pos;
            self.pos += 1;
            if digits(self) == 0 {
                self.pos = save;
            } else {
                is_float = true;
            }
        }
        if matches!(self.bytes.get(self.pos), Some(b'e' | b'E')) {
            let save = self.pos;
            self.pos += 1;
            if matches!(self.bytes.get(self.pos), Some(b'+' | b'-')) {
                self.pos += 1;
            }
            if digits(self) == 0 {
                self.pos = save;
            } else {
                is_float = true;
            }
        }
        let text = &self.text[start..self.pos];
        if is_float {
            text.parse().ok().map(Value::Float)
        } else {
            debug_assert_eq!(int_end, self.pos);
            construct_int(text)
        }
    }

    /// A string starting at the opening quote (Python's C scanner messages).
    fn string(&mut self) -> Result<String, String> {
        let quote = self.pos;
        self.pos += 1;
        let mut out = String::new();
        loop {
            let chunk_start = self.pos;
            while let Some(&b) = self.bytes.get(self.pos) {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.pos += 1;
            }
            out.push_str(&self.text[chunk_start..self.pos]);
            match self.bytes.get(self.pos) {
                None => return Err(self.error("Unterminated string starting at", quote)),
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some(b'\\') => self.escape(&mut out)?,
                Some(_) => return Err(self.error("Invalid control character at", self.pos)),
            }
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), String> {
        let backslash = self.pos;
        let Some(&code) = self.bytes.get(self.pos + 1) else {
            return Err(self.error("Unterminated string starting at", backslash));
        };
        self.pos += 2;
        let simple = match code {
            b'"' => Some('"'),
            b'\\' => Some('\\'),
            b'/' => Some('/'),
            b'b' => Some('\u{8}'),
            b'f' => Some('\u{c}'),
            b'n' => Some('\n'),
            b'r' => Some('\r'),
            b't' => Some('\t'),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            return Ok(());
        }
        if code != b'u' {
            return Err(self.error("Invalid \\escape", backslash));
        }
        let first = self.hex4(backslash)?;
        let c = if (0xD800..0xDC00).contains(&first) && self.rest().starts_with(b"\\u") {
            let save = self.pos;
            self.pos += 2;
            let second = self.hex4(self.pos - 2)?;
            if (0xDC00..0xE000).contains(&second) {
                char::from_u32(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
            } else {
                self.pos = save;
                None
            }
        } else {
            char::from_u32(first)
        };
        // Python keeps lone surrogates; Rust strings cannot hold them.
        out.push(c.unwrap_or('\u{fffd}'));
        Ok(())
    }

    fn hex4(&mut self, escape_start: usize) -> Result<u32, String> {
        let digits = self
            .bytes
            .get(self.pos..self.pos + 4)
            .and_then(|d| std::str::from_utf8(d).ok());
        match digits
            .filter(|d| d.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|d| u32::from_str_radix(d, 16).ok())
        {
            Some(v) => {
                self.pos += 4;
                Ok(v)
            }
            None => Err(self.error("Invalid \\uXXXX escape", escape_start)),
        }
    }

    fn enter(&mut self) -> Result<(), String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error("maximum recursion depth exceeded", self.pos));
        }
        Ok(())
    }

    fn object(&mut self, mark: Mark) -> Result<Node, String> {
        self.enter()?;
        self.pos += 1;
        let mut map = Mapping::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Node::new(Value::Map(map), mark));
        }
        loop {
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.error(
                    "Expecting property name enclosed in double quotes",
                    self.pos,
                ));
            }
            let key_mark = self.mark();
            let key = self.string()?;
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.error("Expecting ':' delimiter", self.pos));
            }
            self.pos += 1;
            self.skip_ws();
            let value = self.value()?;
            map.insert(Node::new(Value::Str(key), key_mark), value);
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b'}') => break,
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                _ => return Err(self.error("Expecting ',' delimiter", self.pos)),
            }
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(ansible_object_hook(map, mark))
    }

    fn array(&mut self, mark: Mark) -> Result<Node, String> {
        self.enter()?;
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            self.depth -= 1;
            return Ok(Node::new(Value::Seq(items), mark));
        }
        loop {
            items.push(self.value()?);
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b']') => break,
                Some(b',') => {
                    self.pos += 1;
                    self.skip_ws();
                }
                _ => return Err(self.error("Expecting ',' delimiter", self.pos)),
            }
        }
        self.pos += 1;
        self.depth -= 1;
        Ok(Node::new(Value::Seq(items), mark))
    }
}

/// AnsibleJSONDecoder's object hook: `{"__ansible_vault": ...}` is vaulted
/// text, `{"__ansible_unsafe": ...}` an unsafe string.
fn ansible_object_hook(map: Mapping, mark: Mark) -> Node {
    for (key, value) in &map.entries {
        match (key.as_str(), &value.value) {
            (Some("__ansible_vault"), Value::Str(s)) => {
                return Node::new(Value::Vault(s.clone()), mark)
            }
            (Some("__ansible_unsafe"), Value::Str(s)) => {
                return Node::new(Value::Unsafe(s.clone()), mark)
            }
            _ => {}
        }
    }
    Node::new(Value::Map(map), mark)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse_json(text, None).unwrap_err()
    }

    // Messages recorded from Python 3.11's json.loads in the reference venv.
    #[test]
    fn python_error_messages() {
        assert_eq!(err("- a"), "Expecting value: line 1 column 1 (char 0)");
        assert_eq!(err(""), "Expecting value: line 1 column 1 (char 0)");
        assert_eq!(
            err("\n\n  ---"),
            "Expecting value: line 3 column 3 (char 4)"
        );
        assert_eq!(
            err("{a: 1}"),
            "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
        );
        assert_eq!(
            err("{\"a\" 1}"),
            "Expecting ':' delimiter: line 1 column 6 (char 5)"
        );
        assert_eq!(
            err("[1 2]"),
            "Expecting ',' delimiter: line 1 column 4 (char 3)"
        );
        assert_eq!(err("[1,]"), "Expecting value: line 1 column 4 (char 3)");
        assert_eq!(
            err("{\"a\": 1,}"),
            "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)"
        );
        assert_eq!(
            err("\"abc"),
            "Unterminated string starting at: line 1 column 1 (char 0)"
        );
        assert_eq!(
            err("\"a\\qb\""),
            "Invalid \\escape: line 1 column 3 (char 2)"
        );
        assert_eq!(
            err("\"a\tb\""),
            "Invalid control character at: line 1 column 3 (char 2)"
        );
        assert_eq!(err("{} x"), "Extra data: line 1 column 4 (char 3)");
        assert_eq!(err("01"), "Extra data: line 1 column 2 (char 1)");
    }

    #[test]
    fn json_values() {
        let n = parse_json("{\"a\":\t1e3, \"b\": [true, null, -0, 12345678901234567890], \"a\": \"\\u00e9\\ud83d\\ude00\"}", None).unwrap();
        let map = n.as_map().unwrap();
        assert_eq!(map.len(), 2);
        assert_eq!(map.get("a").unwrap().as_str(), Some("é😀"));
        assert_eq!(map.entries[0].0.as_str(), Some("a"), "first position kept");
        let b = map.get("b").unwrap().as_seq().unwrap();
        assert_eq!(b[0].value, Value::Bool(true));
        assert_eq!(b[1].value, Value::Null);
        assert_eq!(b[2].value, Value::Int(0));
        assert_eq!(b[3].value, Value::BigInt("12345678901234567890".into()));
        assert_eq!(parse_json("1e3", None).unwrap().value, Value::Float(1000.0));
        assert_eq!(
            parse_json(" NaN ", None).map(|n| matches!(n.value, Value::Float(f) if f.is_nan())),
            Ok(true)
        );
    }

    #[test]
    fn ansible_tags_in_json() {
        let n = parse_json("{\"x\": {\"__ansible_unsafe\": \"{{ a }}\"}, \"v\": {\"__ansible_vault\": \"$ANSIBLE\"}}", None).unwrap();
        let map = n.as_map().unwrap();
        assert_eq!(map.get("x").unwrap().value, Value::Unsafe("{{ a }}".into()));
        assert_eq!(map.get("v").unwrap().value, Value::Vault("$ANSIBLE".into()));
    }

    #[test]
    fn marks_point_at_values() {
        let n = parse_json("{\n  \"a\": [1,\n   2]}", Some(Arc::from("f.json"))).unwrap();
        let a = n.as_map().unwrap().get("a").unwrap();
        assert_eq!((a.mark.line, a.mark.column), (2, 8));
        let two = &a.as_seq().unwrap()[1];
        assert_eq!((two.mark.line, two.mark.column), (3, 4));
    }
}
