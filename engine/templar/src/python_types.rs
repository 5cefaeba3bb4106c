//! Python's names for runtime types, as error messages and `type_debug` show them.

use minijinja::value::{Value, ValueKind};

pub fn type_name(value: &Value) -> &'static str {
    if crate::value_conv::vault_ciphertext(value).is_some() {
        return "AnsibleVaultEncryptedUnicode";
    }
    if crate::big_int::big_int_digits(value).is_some() {
        return "int";
    }
    match value.kind() {
        ValueKind::Undefined => "AnsibleUndefined",
        ValueKind::None => "NoneType",
        ValueKind::Bool => "bool",
        ValueKind::Number => {
            if value.is_integer() {
                "int"
            } else {
                "float"
            }
        }
        ValueKind::String => {
            if crate::value_conv::is_unsafe(value) {
                "AnsibleUnsafeText"
            } else {
                "str"
            }
        }
        ValueKind::Bytes => "bytes",
        ValueKind::Seq => "list",
        ValueKind::Map => "dict",
        ValueKind::Iterable => "generator",
        ValueKind::Plain => "object",
        ValueKind::Invalid => "object",
        _ => "object",
    }
}
