//! Python's replacement templates (`re.sub`, `Match.expand`): `\1`, `\g<1>`,
//! `\g<name>`, `\g<0>`, octal and character escapes, with Python's error texts.

/// A parsed Python replacement template (`re.sub` / `Match.expand`).
#[derive(Debug, Clone, PartialEq)]
pub struct Template(Vec<Piece>);

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Text(String),
    Group(usize),
}

impl Template {
    /// Parse `template` against a regex whose capture names are `names` (index 0 is
    /// the whole match). Errors are Python's `re.error` texts.
    pub fn parse(template: &str, names: &[Option<String>]) -> Result<Template, String> {
        let group_count = names.len().saturating_sub(1);
        let mut pieces = Vec::new();
        let mut text = String::new();
        let chars: Vec<char> = template.chars().collect();
        let mut i = 0;
        let group = |pieces: &mut Vec<Piece>, text: &mut String, g: usize| {
            if !text.is_empty() {
                pieces.push(Piece::Text(std::mem::take(text)));
            }
            pieces.push(Piece::Group(g));
        };
        while i < chars.len() {
            let c = chars[i];
            if c != '\\' {
                text.push(c);
                i += 1;
                continue;
            }
            let Some(&n) = chars.get(i + 1) else {
                return Err("bad escape (end of pattern) at position ".to_string() + &i.to_string());
            };
            i += 2;
            match n {
                'g' => {
                    if chars.get(i) != Some(&'<') {
                        return Err(format!("missing < at position {i}"));
                    }
                    let close = chars[i..].iter().position(|&x| x == '>');
                    let Some(k) = close else {
                        return Err(format!(
                            "missing >, unterminated name at position {}",
                            i + 1
                        ));
                    };
                    let name: String = chars[i + 1..i + k].iter().collect();
                    i += k + 1;
                    let index = if !name.is_empty() && name.chars().all(|c| c.is_ascii_digit()) {
                        let g: usize = name
                            .parse()
                            .map_err(|_| format!("invalid group reference {name}"))?;
                        if g > group_count {
                            return Err(format!("invalid group reference {g}"));
                        }
                        g
                    } else {
                        names
                            .iter()
                            .position(|n| n.as_deref() == Some(name.as_str()))
                            .ok_or_else(|| format!("unknown group name '{name}'"))?
                    };
                    group(&mut pieces, &mut text, index);
                }
                '0' => {
                    // Octal escape: \0 plus up to two more octal digits.
                    let mut value = 0u32;
                    let mut taken = 0;
                    while taken < 2 && chars.get(i).is_some_and(|c| ('0'..='7').contains(c)) {
                        value = value * 8 + chars[i].to_digit(8).unwrap_or(0);
                        i += 1;
                        taken += 1;
                    }
                    text.push(char::from_u32(value).unwrap_or('\0'));
                }
                '1'..='9' => {
                    let d1 = n;
                    let d2 = chars.get(i).copied().filter(char::is_ascii_digit);
                    let d3 = d2.and(
                        chars
                            .get(i + 1)
                            .copied()
                            .filter(|c| ('0'..='7').contains(c)),
                    );
                    if let (Some(d2), Some(d3)) = (d2, d3) {
                        if ('0'..='7').contains(&d1) && ('0'..='7').contains(&d2) {
                            let v = u32::from_str_radix(&format!("{d1}{d2}{d3}"), 8).unwrap_or(0);
                            if v > 0o377 {
                                return Err(format!(
                                    "octal escape value \\{d1}{d2}{d3} outside of range 0-0o377 at position {}",
                                    i - 2
                                ));
                            }
                            text.push(char::from_u32(v).unwrap_or('\0'));
                            i += 2;
                            continue;
                        }
                    }
                    let mut g = d1.to_digit(10).unwrap_or(0) as usize;
                    if let Some(d2) = d2 {
                        g = g * 10 + d2.to_digit(10).unwrap_or(0) as usize;
                        i += 1;
                    }
                    if g > group_count {
                        return Err(format!("invalid group reference {g} at position {}", i - 1));
                    }
                    group(&mut pieces, &mut text, g);
                }
                'a' => text.push('\x07'),
                'b' => text.push('\x08'),
                'f' => text.push('\x0c'),
                'n' => text.push('\n'),
                'r' => text.push('\r'),
                't' => text.push('\t'),
                'v' => text.push('\x0b'),
                '\\' => text.push('\\'),
                other if other.is_ascii_alphabetic() => {
                    return Err(format!("bad escape \\{other} at position {}", i - 2));
                }
                other => {
                    text.push('\\');
                    text.push(other);
                }
            }
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Ok(Template(pieces))
    }

    /// Append the expansion to `out`; unmatched groups expand to nothing (Python 3.5+).
    pub fn expand_into<'a>(&self, out: &mut String, group: impl Fn(usize) -> Option<&'a str>) {
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Group(g) => out.push_str(group(*g).unwrap_or("")),
            }
        }
    }

    /// The bytes version, for lineinfile's `backrefs`.
    pub fn expand_bytes<'a>(&self, group: impl Fn(usize) -> Option<&'a [u8]>) -> Vec<u8> {
        let mut out = Vec::new();
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.extend_from_slice(t.as_bytes()),
                Piece::Group(g) => out.extend_from_slice(group(*g).unwrap_or(b"")),
            }
        }
        out
    }
}
