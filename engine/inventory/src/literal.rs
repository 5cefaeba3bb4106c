//! Python's `ast.literal_eval`, as the INI inventory plugin applies it to every value:
//! `1` is an int, `'x'` a string, `[1, 2]` a list, `True` a bool, while words that are
//! not Python literals (`yes`, `some thing`) stay strings.
//!
//! Returns `None` where Python raises ValueError/SyntaxError (the caller keeps the text).

use rsible_yaml::{Mapping, Node, Value};

/// Evaluate `text` as a Python literal, or `None` if it is not one.
pub fn literal_eval(text: &str) -> Option<Value> {
    // literal_eval strips leading spaces and tabs only; other leading whitespace is an IndentationError.
    let text = text.trim_start_matches([' ', '\t']);
    let mut p = Parser {
        s: text.as_bytes(),
        src: text,
        i: 0,
        depth: 0,
    };
    let v = p.expr_list(true)?;
    p.skip_ws(true);
    if p.i != p.s.len() {
        return None;
    }
    Some(v)
}

struct Parser<'a> {
    s: &'a [u8],
    src: &'a str,
    i: usize,
    depth: usize,
}

const MAX_DEPTH: usize = 200;

impl<'a> Parser<'a> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    /// Skip blanks and comments; newlines only count as blanks inside brackets.
    fn skip_ws(&mut self, top: bool) {
        while let Some(c) = self.peek() {
            match c {
                b' ' | b'\t' | b'\x0c' => self.i += 1,
                b'\n' | b'\r' if !top => self.i += 1,
                b'\\' if self.s.get(self.i + 1) == Some(&b'\n') => self.i += 2,
                b'#' => {
                    while let Some(c) = self.peek() {
                        if c == b'\n' {
                            break;
                        }
                        self.i += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// An expression, or a bare tuple `a, b` where one is allowed.
    fn expr_list(&mut self, top: bool) -> Option<Value> {
        self.skip_ws(top);
        let first = self.expr(top)?;
        self.skip_ws(top);
        if self.peek() != Some(b',') {
            return Some(first);
        }
        let mut items = vec![Node::unplaced(first)];
        while self.peek() == Some(b',') {
            self.i += 1;
            self.skip_ws(top);
            if self.at_expr_end() {
                break;
            }
            items.push(Node::unplaced(self.expr(top)?));
            self.skip_ws(top);
        }
        Some(Value::Seq(items))
    }

    fn at_expr_end(&self) -> bool {
        matches!(
            self.peek(),
            None | Some(b')') | Some(b']') | Some(b'}') | Some(b'\n')
        )
    }

    fn expr(&mut self, top: bool) -> Option<Value> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        let v = self.expr_inner(top);
        self.depth -= 1;
        v
    }

    fn expr_inner(&mut self, top: bool) -> Option<Value> {
        self.skip_ws(top);
        let c = self.peek()?;
        match c {
            b'+' | b'-' => {
                // One sign on a number literal is allowed; anything else is not a literal.
                self.i += 1;
                self.skip_ws(top);
                let v = self.number()?;
                Some(if c == b'-' { negate(v)? } else { v })
            }
            b'0'..=b'9' => self.number(),
            b'.' if self.s.get(self.i + 1).is_some_and(|d| d.is_ascii_digit()) => self.number(),
            b'[' => {
                self.i += 1;
                let items = self.items(b']')?;
                Some(Value::Seq(items))
            }
            b'(' => {
                self.i += 1;
                self.skip_ws(false);
                if self.peek() == Some(b')') {
                    self.i += 1;
                    return Some(Value::Seq(Vec::new()));
                }
                let inner = self.expr(false)?;
                self.skip_ws(false);
                match self.peek() {
                    Some(b')') => {
                        self.i += 1;
                        Some(inner)
                    }
                    Some(b',') => {
                        let mut items = vec![Node::unplaced(inner)];
                        self.i += 1;
                        items.extend(self.items(b')')?);
                        Some(Value::Seq(items))
                    }
                    _ => None,
                }
            }
            b'{' => {
                self.i += 1;
                self.dict_or_set()
            }
            b'\'' | b'"' => self.strings(top),
            _ if c.is_ascii_alphabetic() || c == b'_' => self.name_or_prefixed_string(top),
            _ => None,
        }
    }

    /// Comma-separated expressions up to `close` (trailing comma allowed).
    fn items(&mut self, close: u8) -> Option<Vec<Node>> {
        let mut items = Vec::new();
        loop {
            self.skip_ws(false);
            if self.peek() == Some(close) {
                self.i += 1;
                return Some(items);
            }
            items.push(Node::unplaced(self.expr(false)?));
            self.skip_ws(false);
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(c) if c == close => {
                    self.i += 1;
                    return Some(items);
                }
                _ => return None,
            }
        }
    }

    fn dict_or_set(&mut self) -> Option<Value> {
        self.skip_ws(false);
        if self.peek() == Some(b'}') {
            self.i += 1;
            return Some(Value::Map(Mapping::new()));
        }
        let first = self.expr(false)?;
        self.skip_ws(false);
        if self.peek() != Some(b':') {
            // A set literal: Ansible cannot serialise sets to JSON; a list is the closest value.
            let mut items = vec![Node::unplaced(first)];
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    items.extend(self.items(b'}')?);
                }
                Some(b'}') => self.i += 1,
                _ => return None,
            }
            return Some(Value::Seq(items));
        }
        let mut map = Mapping::new();
        let mut key = first;
        loop {
            if matches!(key, Value::Seq(_) | Value::Map(_)) {
                return None; // unhashable key
            }
            self.i += 1; // ':'
            let value = self.expr(false)?;
            map.insert(Node::unplaced(key), Node::unplaced(value));
            self.skip_ws(false);
            match self.peek() {
                Some(b',') => {
                    self.i += 1;
                    self.skip_ws(false);
                    if self.peek() == Some(b'}') {
                        self.i += 1;
                        return Some(Value::Map(map));
                    }
                }
                Some(b'}') => {
                    self.i += 1;
                    return Some(Value::Map(map));
                }
                _ => return None,
            }
            key = self.expr(false)?;
            self.skip_ws(false);
            if self.peek() != Some(b':') {
                return None;
            }
        }
    }

    fn ident(&mut self) -> &'a str {
        let start = self.i;
        while let Some(c) = self.peek() {
            if c.is_ascii_alphanumeric() || c == b'_' {
                self.i += 1;
            } else {
                break;
            }
        }
        &self.src[start..self.i]
    }

    fn name_or_prefixed_string(&mut self, top: bool) -> Option<Value> {
        let start = self.i;
        let word = self.ident();
        if matches!(self.peek(), Some(b'\'') | Some(b'"')) {
            let lower = word.to_ascii_lowercase();
            if ["r", "u", "b", "br", "rb"].contains(&lower.as_str()) {
                self.i = start;
                return self.strings(top);
            }
            return None;
        }
        match word {
            "True" => Some(Value::Bool(true)),
            "False" => Some(Value::Bool(false)),
            "None" => Some(Value::Null),
            "set" => {
                // `set()` is the one call literal_eval accepts.
                self.skip_ws(top);
                if self.peek() == Some(b'(') {
                    self.i += 1;
                    self.skip_ws(false);
                    if self.peek() == Some(b')') {
                        self.i += 1;
                        return Some(Value::Seq(Vec::new()));
                    }
                }
                None
            }
            _ => None,
        }
    }

    /// One or more adjacent string literals (Python concatenates them).
    fn strings(&mut self, top: bool) -> Option<Value> {
        let mut out = String::new();
        let mut any = false;
        loop {
            self.skip_ws(top);
            let start = self.i;
            let mut raw = false;
            while let Some(c) = self.peek() {
                match c {
                    b'r' | b'R' => raw = true,
                    b'b' | b'B' | b'u' | b'U' => {}
                    _ => break,
                }
                self.i += 1;
            }
            match self.peek() {
                Some(q @ (b'\'' | b'"')) => {
                    out.push_str(&self.string_body(q, raw)?);
                    any = true;
                }
                _ => {
                    self.i = start;
                    break;
                }
            }
        }
        any.then_some(Value::Str(out))
    }

    fn string_body(&mut self, quote: u8, raw: bool) -> Option<String> {
        let triple = self.s[self.i..].starts_with(&[quote, quote, quote]);
        self.i += if triple { 3 } else { 1 };
        let mut out = String::new();
        loop {
            let rest = &self.src[self.i..];
            let c = rest.chars().next()?;
            if c as u32 == quote as u32 {
                if !triple {
                    self.i += 1;
                    return Some(out);
                }
                if rest.as_bytes().starts_with(&[quote, quote, quote]) {
                    self.i += 3;
                    return Some(out);
                }
            }
            if (c == '\n' || c == '\r') && !triple {
                return None;
            }
            if c == '\\' {
                let next = rest[1..].chars().next()?;
                if raw {
                    out.push('\\');
                    out.push(next);
                    self.i += 1 + next.len_utf8();
                    continue;
                }
                self.i += 1;
                self.escape(next, &mut out)?;
                continue;
            }
            out.push(c);
            self.i += c.len_utf8();
        }
    }

    /// Decode one escape; `self.i` points at the character after the backslash.
    fn escape(&mut self, c: char, out: &mut String) -> Option<()> {
        let simple = match c {
            '\n' => Some(None),
            '\\' => Some(Some('\\')),
            '\'' => Some(Some('\'')),
            '"' => Some(Some('"')),
            'a' => Some(Some('\x07')),
            'b' => Some(Some('\x08')),
            'f' => Some(Some('\x0c')),
            'n' => Some(Some('\n')),
            'r' => Some(Some('\r')),
            't' => Some(Some('\t')),
            'v' => Some(Some('\x0b')),
            _ => None,
        };
        if let Some(ch) = simple {
            self.i += c.len_utf8();
            if let Some(ch) = ch {
                out.push(ch);
            }
            return Some(());
        }
        let hex = |p: &mut Self, n: usize| -> Option<char> {
            let digits = p.src.get(p.i + 1..p.i + 1 + n)?;
            if !digits.chars().all(|d| d.is_ascii_hexdigit()) {
                return None;
            }
            p.i += 1 + n;
            char::from_u32(u32::from_str_radix(digits, 16).ok()?)
        };
        match c {
            'x' => out.push(hex(self, 2)?),
            'u' => out.push(hex(self, 4)?),
            'U' => out.push(hex(self, 8)?),
            '0'..='7' => {
                let mut n = 0u32;
                let mut len = 0;
                while len < 3 {
                    match self.peek() {
                        Some(d @ b'0'..=b'7') => {
                            n = n * 8 + (d - b'0') as u32;
                            self.i += 1;
                            len += 1;
                        }
                        _ => break,
                    }
                }
                out.push(char::from_u32(n)?);
            }
            'N' => return None, // named escapes need the Unicode name table; not a literal we support
            other => {
                // Unknown escapes keep their backslash.
                out.push('\\');
                out.push(other);
                self.i += other.len_utf8();
            }
        }
        Some(())
    }

    fn number(&mut self) -> Option<Value> {
        let start = self.i;
        let rest = &self.src[start..];
        let lower = rest.get(..2).map(|s| s.to_ascii_lowercase());
        if let Some(radix) = match lower.as_deref() {
            Some("0x") => Some(16),
            Some("0o") => Some(8),
            Some("0b") => Some(2),
            _ => None,
        } {
            self.i += 2;
            let digits_start = self.i;
            while let Some(c) = self.peek() {
                if (c as char).is_digit(radix) || c == b'_' {
                    self.i += 1;
                } else {
                    break;
                }
            }
            let digits = &self.src[digits_start..self.i];
            if self.followed_by_name() {
                return None;
            }
            return int_value(digits, radix);
        }
        while let Some(c) = self.peek() {
            if c.is_ascii_digit() || c == b'_' {
                self.i += 1;
            } else {
                break;
            }
        }
        let mut is_float = false;
        if self.peek() == Some(b'.') {
            is_float = true;
            self.i += 1;
            while let Some(c) = self.peek() {
                if c.is_ascii_digit() || c == b'_' {
                    self.i += 1;
                } else {
                    break;
                }
            }
        }
        if matches!(self.peek(), Some(b'e') | Some(b'E')) {
            let save = self.i;
            self.i += 1;
            if matches!(self.peek(), Some(b'+') | Some(b'-')) {
                self.i += 1;
            }
            let exp_start = self.i;
            while let Some(c) = self.peek() {
                if c.is_ascii_digit() || c == b'_' {
                    self.i += 1;
                } else {
                    break;
                }
            }
            if self.i == exp_start {
                self.i = save;
                return None;
            }
            is_float = true;
        }
        if self.followed_by_name() {
            return None; // `1j` (complex), `1abc`: not something we keep
        }
        let text = &self.src[start..self.i];
        if !valid_underscores(text) {
            return None;
        }
        let clean: String = text.chars().filter(|c| *c != '_').collect();
        if is_float {
            return clean.parse::<f64>().ok().map(Value::Float);
        }
        // Leading zeros are a SyntaxError in Python 3 unless the number is all zeros.
        if clean.len() > 1 && clean.starts_with('0') && clean.chars().any(|c| c != '0') {
            return None;
        }
        int_value(text, 10)
    }

    fn followed_by_name(&self) -> bool {
        self.peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'.')
    }
}

fn valid_underscores(text: &str) -> bool {
    !text.ends_with('_') && !text.contains("__") && !text.contains("_.") && !text.contains("._")
}

fn int_value(digits: &str, radix: u32) -> Option<Value> {
    if digits.is_empty() || !valid_underscores(digits) || digits.starts_with('_') && radix == 10 {
        return None;
    }
    let clean: String = digits.chars().filter(|c| *c != '_').collect();
    match i64::from_str_radix(&clean, radix) {
        Ok(n) => Some(Value::Int(n)),
        Err(_) if radix == 10 => Some(Value::BigInt(clean.trim_start_matches('0').to_string())),
        Err(_) => big_from_radix(&clean, radix).map(Value::BigInt),
    }
}

/// Convert digits in a power-of-two radix to decimal text (for ints beyond i64).
fn big_from_radix(digits: &str, radix: u32) -> Option<String> {
    // Little-endian base-1e9 limbs.
    let mut limbs: Vec<u64> = vec![0];
    for d in digits.chars() {
        let mut carry = d.to_digit(radix)? as u64;
        for limb in limbs.iter_mut() {
            let v = *limb * radix as u64 + carry;
            *limb = v % 1_000_000_000;
            carry = v / 1_000_000_000;
        }
        while carry > 0 {
            limbs.push(carry % 1_000_000_000);
            carry /= 1_000_000_000;
        }
    }
    let mut out = limbs.last().map(|l| l.to_string()).unwrap_or_default();
    for limb in limbs.iter().rev().skip(1) {
        out.push_str(&format!("{limb:09}"));
    }
    Some(out)
}

fn negate(v: Value) -> Option<Value> {
    match v {
        Value::Int(i) => Some(match i.checked_neg() {
            Some(n) => Value::Int(n),
            None => Value::BigInt(format!("-{}", i.unsigned_abs())),
        }),
        Value::BigInt(s) => Some(if s == "9223372036854775808" {
            Value::Int(i64::MIN)
        } else {
            Value::BigInt(format!("-{s}"))
        }),
        Value::Float(f) => Some(Value::Float(-f)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(s: &str) -> Option<Value> {
        literal_eval(s)
    }

    #[test]
    fn scalars() {
        assert_eq!(ev("1"), Some(Value::Int(1)));
        assert_eq!(ev("-1"), Some(Value::Int(-1)));
        assert_eq!(ev("1_000"), Some(Value::Int(1000)));
        assert_eq!(ev("0x1f"), Some(Value::Int(31)));
        assert_eq!(ev("1.5"), Some(Value::Float(1.5)));
        assert_eq!(ev("1e3"), Some(Value::Float(1000.0)));
        assert_eq!(ev("True"), Some(Value::Bool(true)));
        assert_eq!(ev("None"), Some(Value::Null));
        assert_eq!(ev("'x'"), Some(Value::Str("x".into())));
        assert_eq!(ev("'a' \"b\""), Some(Value::Str("ab".into())));
        assert_eq!(ev(r"'a\tb'"), Some(Value::Str("a\tb".into())));
        assert_eq!(ev("1 # comment"), Some(Value::Int(1)));
        assert_eq!(
            ev("99999999999999999999"),
            Some(Value::BigInt("99999999999999999999".into()))
        );
    }

    #[test]
    fn not_literals_stay_strings() {
        for s in [
            "yes",
            "some thing",
            "010",
            "--1",
            "1+2",
            "x",
            "",
            "{k:1}",
            "1_",
            "f'x'",
            "a.b",
            "1.2.3",
            "\n1",
            "[1,",
            "{[1]: 2}",
        ] {
            assert_eq!(ev(s), None, "{s:?}");
        }
    }

    #[test]
    fn containers() {
        let v = ev("[1, 'a', [True]]").unwrap();
        let Value::Seq(items) = v else { panic!() };
        assert_eq!(items.len(), 3);
        assert_eq!(ev("(1,)").map(|v| matches!(v, Value::Seq(_))), Some(true));
        assert_eq!(
            ev("1, 2").map(|v| matches!(v, Value::Seq(s) if s.len() == 2)),
            Some(true)
        );
        let Some(Value::Map(m)) = ev("{'k': 1, 'j': [2],}") else {
            panic!()
        };
        assert_eq!(m.get("k").map(|n| n.value.clone()), Some(Value::Int(1)));
    }
}
