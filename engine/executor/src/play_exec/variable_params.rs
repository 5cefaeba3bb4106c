//! Arguments given as one templated variable (`lineinfile: "{{ args }}"`): the
//! parser keeps them as `_variable_params`; after templating they are the base the
//! task's other arguments override, as Ansible's `Task._post_validate_args`.

use indexmap::IndexMap;
use minijinja::value::ValueKind;
use rsible_templar::Value;

const VARIABLE_PARAMS: &str = "_variable_params";

/// Merges a templated `_variable_params` map under the other arguments; anything
/// else there is Ansible's "invalid or malformed argument" error.
pub(super) fn merge_variable_params(
    mut args: IndexMap<String, Value>,
) -> Result<IndexMap<String, Value>, String> {
    let Some(params) = args.shift_remove(VARIABLE_PARAMS) else {
        return Ok(args);
    };
    if params.kind() != ValueKind::Map {
        return Err(format!(
            "invalid or malformed argument: '{}'",
            rsible_templar::python_repr::str_of(&params)
        ));
    }
    let mut merged = IndexMap::new();
    if let Ok(keys) = params.try_iter() {
        for key in keys {
            let value = params.get_item(&key).unwrap_or_default();
            merged.insert(rsible_templar::python_repr::str_of(&key), value);
        }
    }
    merged.extend(args);
    Ok(merged)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_variable_is_the_base_and_explicit_arguments_win() {
        let mut args = IndexMap::new();
        let params: std::collections::BTreeMap<String, Value> = [
            ("path".to_string(), Value::from("/a")),
            ("line".to_string(), Value::from("x")),
        ]
        .into_iter()
        .collect();
        args.insert(VARIABLE_PARAMS.into(), Value::from(params));
        args.insert("line".into(), Value::from("y"));
        let merged = merge_variable_params(args).unwrap_or_default();
        assert_eq!(merged.get("path").map(|v| v.to_string()), Some("/a".into()));
        assert_eq!(merged.get("line").map(|v| v.to_string()), Some("y".into()));
        assert!(!merged.contains_key(VARIABLE_PARAMS));
    }

    #[test]
    fn a_string_is_refused() {
        let mut args = IndexMap::new();
        args.insert(VARIABLE_PARAMS.into(), Value::from("junk"));
        assert_eq!(
            merge_variable_params(args).err().as_deref(),
            Some("invalid or malformed argument: 'junk'")
        );
    }
}
