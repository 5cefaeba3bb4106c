//! Python's `ast.literal_eval`, as Ansible's non-native templar applies it to
//! results that look like a list, a dict or a boolean (`ansible_eval_concat`).
//! JSON's `true`/`false`/`null` are accepted too (Ansible's `Json2Python`).
//! Anything that is not a literal yields `None` and the text stays a string.

use indexmap::IndexMap;
use minijinja::value::Value;

/// Applies Ansible's conversion rule: only text starting with `{` or `[`, or
/// exactly `True`/`False`, is tried.
pub fn convert_result(text: &str) -> Option<Value> {
    if text == "True" {
        return Some(Value::from(true));
    }
    if text == "False" {
        return Some(Value::from(false));
    }
    if text.starts_with('{') || text.starts_with('[') {
        return literal_eval(text);
    }
    None
}

/// Parses a complete Python literal expression.
pub fn literal_eval(text: &str) -> Option<Value> {
    let mut p = Parser {
        s: text.as_bytes(),
        pos: 0,
        src: text,
        depth: 0,
    };
    let v = p.expr()?;
    p.skip_ws();
    if p.pos != p.s.len() {
        return None;
    }
    Some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn skip_ws(&mut self) {
        while let Some(&c) = self.s.get(self.pos) {
            if c == b' ' || c == b'\t' || c == b'\n' || c == b'\r' || c == b'\x0c' {
                self.pos += 1;
            } else if c == b'\\' && self.s.get(self.pos + 1) == Some(&b'\n') {
                self.pos += 2;
            } else {
                break;
            }
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.skip_ws();
        self.s.get(self.pos).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expr(&mut self) -> Option<Value> {
        self.depth += 1;
        if self.depth > 200 {
            return None;
        }
        let v = self.atom();
        self.depth -= 1;
        v
    }

    fn atom(&mut self) -> Option<Value> {
        match self.peek()? {
            b'[' => {
                self.pos += 1;
                let items = self.items(b']')?;
                // Python's lists and dicts can be changed (`d.pop(k)` in a template)
                Some(crate::mutable::new_list(items))
            }
            b'(' => {
                self.pos += 1;
                if self.eat(b')') {
                    return Some(Value::from(Vec::<Value>::new()));
                }
                let first = self.expr()?;
                if self.eat(b')') {
                    return Some(first); // parenthesised expression, not a tuple
                }
                if !self.eat(b',') {
                    return None;
                }
                let mut items = vec![first];
                items.extend(self.items(b')')?);
                Some(Value::from(items))
            }
            b'{' => {
                self.pos += 1;
                let mut map = IndexMap::new();
                loop {
                    if self.eat(b'}') {
                        break;
                    }
                    let k = self.expr()?;
                    if !self.eat(b':') {
                        return None; // a set literal: not supported as a value
                    }
                    let v = self.expr()?;
                    // Python dict keys must be hashable: lists and dicts are not.
                    if matches!(
                        k.kind(),
                        minijinja::value::ValueKind::Seq | minijinja::value::ValueKind::Map
                    ) {
                        return None;
                    }
                    map.insert(k, v);
                    if self.eat(b'}') {
                        break;
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
                Some(crate::mutable::new_map(map))
            }
            b'\'' | b'"' => self.strings(),
            b'-' | b'+' => {
                let neg = self.s[self.pos] == b'-';
                self.pos += 1;
                let v = self.expr()?;
                let big = crate::big_int::big_int_digits(&v).is_some();
                if (!v.is_number() && !big) || v.kind() == minijinja::value::ValueKind::Bool {
                    return None;
                }
                if neg {
                    if big || v.is_integer() {
                        // negated on its digits: exact at any size
                        let digits = v.to_string();
                        return match digits.strip_prefix('-') {
                            Some(positive) => crate::big_int::int_from_digits(positive),
                            None => crate::big_int::int_from_digits(&format!("-{digits}")),
                        };
                    }
                    let f = f64::try_from(v).ok()?;
                    return Some(Value::from(-f));
                }
                Some(v)
            }
            c if c.is_ascii_digit() || c == b'.' => self.number(),
            c if c.is_ascii_alphabetic() || c == b'_' => {
                let start = self.pos;
                while self.pos < self.s.len()
                    && (self.s[self.pos].is_ascii_alphanumeric() || self.s[self.pos] == b'_')
                {
                    self.pos += 1;
                }
                let word = &self.src[start..self.pos];
                match word {
                    "True" | "true" => Some(Value::from(true)),
                    "False" | "false" => Some(Value::from(false)),
                    "None" | "null" => Some(Value::from(())),
                    _ => {
                        // string prefixes: u'', r'', b'' (bytes are not supported)
                        let lower = word.to_ascii_lowercase();
                        if (lower == "u" || lower == "r")
                            && matches!(self.s.get(self.pos), Some(b'\'') | Some(b'"'))
                        {
                            self.pos = start;
                            return self.strings();
                        }
                        None
                    }
                }
            }
            _ => None,
        }
    }

    fn items(&mut self, close: u8) -> Option<Vec<Value>> {
        let mut items = Vec::new();
        loop {
            if self.eat(close) {
                return Some(items);
            }
            items.push(self.expr()?);
            if self.eat(close) {
                return Some(items);
            }
            if !self.eat(b',') {
                return None;
            }
        }
    }

    /// One or more adjacent string literals (Python concatenates them).
    fn strings(&mut self) -> Option<Value> {
        let mut out = String::new();
        loop {
            self.skip_ws();
            let mut raw = false;
            let start = self.pos;
            while let Some(&c) = self.s.get(self.pos) {
                match c {
                    b'r' | b'R' => raw = true,
                    b'u' | b'U' => {}
                    _ => break,
                }
                self.pos += 1;
            }
            match self.s.get(self.pos) {
                Some(&q @ (b'\'' | b'"')) => {
                    self.string_body(q, raw, &mut out)?;
                }
                _ => {
                    self.pos = start;
                    break;
                }
            }
        }
        Some(Value::from(out))
    }

    fn string_body(&mut self, q: u8, raw: bool, out: &mut String) -> Option<()> {
        let triple = self.s.get(self.pos..self.pos + 3) == Some(&[q, q, q][..]);
        self.pos += if triple { 3 } else { 1 };
        let rest = &self.src[self.pos..];
        let mut chars = rest.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if c as u32 == q as u32 {
                if !triple {
                    self.pos += i + 1;
                    return Some(());
                }
                if rest.as_bytes()[i..].starts_with(&[q, q, q]) {
                    self.pos += i + 3;
                    return Some(());
                }
                out.push(c);
                continue;
            }
            if c == '\n' && !triple {
                return None;
            }
            if c != '\\' {
                out.push(c);
                continue;
            }
            let (_, e) = chars.next()?;
            if raw {
                out.push('\\');
                out.push(e);
                continue;
            }
            match e {
                '\n' => {}
                '\\' => out.push('\\'),
                '\'' => out.push('\''),
                '"' => out.push('"'),
                'a' => out.push('\x07'),
                'b' => out.push('\x08'),
                'f' => out.push('\x0c'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'v' => out.push('\x0b'),
                'x' | 'u' | 'U' => {
                    let n = match e {
                        'x' => 2,
                        'u' => 4,
                        _ => 8,
                    };
                    let mut code = 0u32;
                    for _ in 0..n {
                        let (_, h) = chars.next()?;
                        code = code * 16 + h.to_digit(16)?;
                    }
                    out.push(char::from_u32(code)?);
                }
                '0'..='7' => {
                    let mut code = e.to_digit(8)?;
                    for _ in 0..2 {
                        match chars.peek() {
                            Some(&(_, d)) if d.is_digit(8) => {
                                code = code * 8 + d.to_digit(8)?;
                                chars.next();
                            }
                            _ => break,
                        }
                    }
                    out.push(char::from_u32(code)?);
                }
                other => {
                    out.push('\\');
                    out.push(other);
                }
            }
        }
        None
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.pos;
        let s = self.s;
        if s.get(self.pos) == Some(&b'0')
            && matches!(
                s.get(self.pos + 1),
                Some(b'x' | b'X' | b'o' | b'O' | b'b' | b'B')
            )
        {
            let radix = match s[self.pos + 1] {
                b'x' | b'X' => 16,
                b'o' | b'O' => 8,
                _ => 2,
            };
            self.pos += 2;
            let ds = self.pos;
            while self.pos < s.len() && (s[self.pos].is_ascii_alphanumeric() || s[self.pos] == b'_')
            {
                self.pos += 1;
            }
            let digits: String = self.src[ds..self.pos]
                .chars()
                .filter(|c| *c != '_')
                .collect();
            return i128::from_str_radix(&digits, radix).ok().map(Value::from);
        }
        let mut is_float = false;
        while self.pos < s.len() {
            let c = s[self.pos];
            if c.is_ascii_digit() || c == b'_' {
                self.pos += 1;
            } else if c == b'.' {
                is_float = true;
                self.pos += 1;
            } else if c == b'e' || c == b'E' {
                is_float = true;
                self.pos += 1;
                if matches!(s.get(self.pos), Some(b'+' | b'-')) {
                    self.pos += 1;
                }
            } else {
                break;
            }
        }
        if matches!(s.get(self.pos), Some(b'j' | b'J'))
            || s.get(self.pos).is_some_and(|c| c.is_ascii_alphabetic())
        {
            return None; // complex numbers and junk are not supported
        }
        let text: String = self.src[start..self.pos]
            .chars()
            .filter(|c| *c != '_')
            .collect();
        if is_float {
            text.parse::<f64>().ok().map(Value::from)
        } else {
            // Python 3 rejects leading zeros in decimal ints other than 0 itself.
            if text.len() > 1 && text.starts_with('0') && text.chars().any(|c| c != '0') {
                return None;
            }
            // Python's ints have no size limit
            crate::big_int::int_from_digits(&text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::python_repr::repr;

    fn ev(s: &str) -> Option<String> {
        literal_eval(s).map(|v| repr(&v))
    }

    #[test]
    fn literals() {
        assert_eq!(ev("[1, 2]").as_deref(), Some("[1, 2]"));
        assert_eq!(
            ev("{'a': [true, null, 'x\\'y']}").as_deref(),
            Some("{'a': [True, None, \"x'y\"]}")
        );
        assert_eq!(ev("(1, 2)").as_deref(), Some("[1, 2]"));
        assert_eq!(ev("[-1.5, 0x10]").as_deref(), Some("[-1.5, 16]"));
        assert_eq!(ev("['a' 'b']").as_deref(), Some("['ab']"));
        assert_eq!(ev("[a]"), None);
        assert_eq!(ev("[1] x"), None);
        assert_eq!(ev("{[1]: 2}"), None);
        assert_eq!(ev("[01]"), None);
    }

    #[test]
    fn integers_of_any_size() {
        let big = "3402823669209384634633746074317682114650";
        assert_eq!(
            ev(&format!("[{big}, -{big}, -18446744073709551623]")).as_deref(),
            Some(format!("[{big}, -{big}, -18446744073709551623]").as_str())
        );
    }

    #[test]
    fn conversion_rule() {
        assert!(convert_result("True").is_some());
        assert!(convert_result(" [1]").is_none());
        assert!(convert_result("5").is_none());
    }
}
