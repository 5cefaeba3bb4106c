//! Reading YAML/JSON files through rsible-yaml, as Ansible's DataLoader does.

use rsible_yaml::Node;

/// Load the single document of a YAML (or JSON) text; `Ok(None)` for an empty one.
pub fn load_yaml_text(text: &str, source: &str) -> Result<Option<Node>, String> {
    let node = rsible_yaml::load_one(text, Some(source)).map_err(|e| e.to_string())?;
    Ok(if node.is_null() { None } else { Some(node) })
}
