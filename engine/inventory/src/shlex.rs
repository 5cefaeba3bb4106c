//! Python's `shlex.split(line, comments=True, posix=True)`, as the INI plugin
//! uses it to split a host line into the host and its `k=v` tokens.

/// Split like shlex in POSIX mode with `#` comments. Errors carry Python's message.
pub fn shlex_split(line: &str) -> Result<Vec<String>, String> {
    #[derive(PartialEq, Clone, Copy)]
    enum State {
        Between,
        Word,
        Single,
        Double,
        /// Backslash seen; remembers the state to return to.
        Escape(Ctx),
    }
    #[derive(PartialEq, Clone, Copy)]
    enum Ctx {
        Word,
        Double,
    }
    let mut tokens = Vec::new();
    let mut token = String::new();
    let mut quoted = false;
    let mut state = State::Between;
    let mut chars = line.chars();
    loop {
        let Some(c) = chars.next() else {
            match state {
                State::Single | State::Double => return Err("No closing quotation".into()),
                State::Escape(_) => return Err("No escaped character".into()),
                State::Word if !token.is_empty() || quoted => tokens.push(token),
                _ => {}
            }
            return Ok(tokens);
        };
        match state {
            State::Between | State::Word => {
                if c.is_whitespace() && is_shlex_whitespace(c) {
                    if state == State::Word && (!token.is_empty() || quoted) {
                        tokens.push(std::mem::take(&mut token));
                        quoted = false;
                    }
                    state = State::Between;
                } else if c == '#' {
                    // A comment runs to the end of the line (this is one line).
                    if state == State::Word && (!token.is_empty() || quoted) {
                        tokens.push(std::mem::take(&mut token));
                    }
                    return Ok(tokens);
                } else if c == '\'' {
                    state = State::Single;
                    quoted = true;
                } else if c == '"' {
                    state = State::Double;
                    quoted = true;
                } else if c == '\\' {
                    state = State::Escape(Ctx::Word);
                } else {
                    token.push(c);
                    state = State::Word;
                }
            }
            State::Single => {
                if c == '\'' {
                    state = State::Word;
                } else {
                    token.push(c);
                }
            }
            State::Double => {
                if c == '"' {
                    state = State::Word;
                } else if c == '\\' {
                    state = State::Escape(Ctx::Double);
                } else {
                    token.push(c);
                }
            }
            State::Escape(ctx) => {
                // Inside double quotes only `"` and `\` are escapable; otherwise the backslash stays.
                if ctx == Ctx::Double && c != '"' && c != '\\' {
                    token.push('\\');
                }
                token.push(c);
                state = match ctx {
                    Ctx::Word => State::Word,
                    Ctx::Double => State::Double,
                };
            }
        }
    }
}

/// shlex's whitespace set: space, tab, CR, LF.
fn is_shlex_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_python() {
        // Expected values from python3 -c "import shlex; print(shlex.split(s, comments=True))".
        assert_eq!(
            shlex_split(r#"h a='x y' b="q\"z" c=d#e f"#).unwrap(),
            vec!["h", "a=x y", "b=q\"z", "c=d"]
        );
        assert_eq!(shlex_split("a '' b").unwrap(), vec!["a", "", "b"]);
        assert_eq!(shlex_split(r#"a "\n""#).unwrap(), vec!["a", "\\n"]);
        assert_eq!(shlex_split(r"a\ b").unwrap(), vec!["a b"]);
        assert_eq!(shlex_split("a 'b").unwrap_err(), "No closing quotation");
        assert_eq!(shlex_split("a\\").unwrap_err(), "No escaped character");
    }
}
