//! `community.general.json_query`: a JMESPath search (the `jmespath` crate,
//! an implementation of the same specification Python's `jmespath` follows).

use minijinja::value::Value;
use minijinja::Error;

use super::core::err;
use crate::value_conv::{from_json, to_json};

/// `data | json_query(expr)`.
pub fn json_query(data: Value, expr: String) -> Result<Value, Error> {
    let compiled = jmespath::compile(&elided_literals(&expr))
        .map_err(|e| err(format!("JMESPathError in json_query filter plugin:\n{}", e)))?;
    let input = json_to_variable(&to_json(&data));
    // `search` would take the input through serde (see json_to_variable)
    let mut ctx = jmespath::Context::new(&expr, &jmespath::DEFAULT_RUNTIME);
    let found = jmespath::interpret(&jmespath::Rcvar::new(input), compiled.as_ast(), &mut ctx)
        .map_err(|e| err(format!("JMESPathError in json_query filter plugin:\n{}", e)))?;
    Ok(from_json(&variable_to_json(&found)))
}

/// The search input, built directly (the crate's own conversion goes
/// through serde, which `arbitrary_precision` breaks for numbers).
fn json_to_variable(data: &serde_json::Value) -> jmespath::Variable {
    use jmespath::Variable as V;
    use serde_json::Value as J;
    match data {
        J::Null => V::Null,
        J::String(s) => V::String(s.clone()),
        J::Bool(b) => V::Bool(*b),
        J::Number(n) => V::Number(n.clone()),
        J::Array(items) => V::Array(
            items
                .iter()
                .map(|i| jmespath::Rcvar::new(json_to_variable(i)))
                .collect(),
        ),
        J::Object(map) => V::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), jmespath::Rcvar::new(json_to_variable(v))))
                .collect(),
        ),
    }
}

/// The search result as JSON, built directly: serde's round trip would turn
/// numbers into maps under serde_json's `arbitrary_precision`.
fn variable_to_json(found: &jmespath::Variable) -> serde_json::Value {
    use jmespath::Variable as V;
    use serde_json::Value as J;
    match found {
        V::Null => J::Null,
        V::String(s) => J::String(s.clone()),
        V::Bool(b) => J::Bool(*b),
        V::Number(n) => J::Number(n.clone()),
        V::Array(items) => J::Array(items.iter().map(|i| variable_to_json(i)).collect()),
        V::Object(map) => J::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), variable_to_json(v)))
                .collect(),
        ),
        V::Expref(e) => J::String(format!("<expression: {e:?}>")),
    }
}

/// Python's jmespath still accepts the deprecated JSON literals with elided
/// quotes (`` `kube-bridge` `` for `` `"kube-bridge"` ``), which Kubespray
/// uses; the crate follows the current specification. Such literals are
/// rewritten to the quoted form first, as Python's lexer reads them.
fn elided_literals(expr: &str) -> String {
    let mut out = String::with_capacity(expr.len());
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                // raw strings and quoted identifiers pass through unchanged
                out.push(c);
                while let Some(d) = chars.next() {
                    out.push(d);
                    if d == '\\' {
                        if let Some(e) = chars.next() {
                            out.push(e);
                        }
                    } else if d == c {
                        break;
                    }
                }
            }
            '`' => {
                let mut lexeme = String::new();
                let mut closed = false;
                while let Some(d) = chars.next() {
                    if d == '\\' && chars.peek() == Some(&'`') {
                        lexeme.push('`');
                        chars.next();
                    } else if d == '`' {
                        closed = true;
                        break;
                    } else {
                        lexeme.push(d);
                    }
                }
                let is_json = serde_json::from_str::<serde_json::Value>(&lexeme).is_ok();
                let quoted = format!("\"{}\"", lexeme.trim_start());
                let literal =
                    if !is_json && serde_json::from_str::<serde_json::Value>(&quoted).is_ok() {
                        quoted
                    } else {
                        lexeme
                    };
                out.push('`');
                out.push_str(&literal.replace('`', "\\`"));
                if closed {
                    out.push('`');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(data: &str, expr: &str) -> String {
        let data = from_json(&serde_json::from_str(data).unwrap());
        crate::python_repr::repr(&json_query(data, expr.into()).unwrap())
    }

    #[test]
    fn searches() {
        let cni = r#"{"plugins": [{"bridge": "kube-bridge", "ipam": {"subnet": "10.0.0.0/24"}}, {"type": "x"}]}"#;
        assert_eq!(
            q(cni, "plugins[?bridge==`kube-bridge`].ipam.subnet"),
            "['10.0.0.0/24']"
        );
        assert_eq!(
            q(r#"[{"results": [1]}, {"results": [2, 3]}]"#, "[].results"),
            "[[1], [2, 3]]"
        );
        assert_eq!(q("{}", "a.b"), "None");
        assert!(json_query(Value::from(1), "[".into()).is_err());
    }
}
