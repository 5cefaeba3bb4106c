//! `slurp`: a file's content, base64-encoded (Ansible's fetch uses it too).

use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param};
use serde_json::{json, Map, Value};

pub const SPEC: &[Param] = &[Param::new("src", Kind::Path).required().aliases(&["path"])];

pub fn run(params: &Map<String, Value>, _ctx: &ModuleContext) -> ModuleOutcome {
    let source = params.get("src").and_then(Value::as_str).unwrap_or("");
    let content = std::fs::read(source).map_err(|e| {
        let msg = match e.raw_os_error() {
            Some(2) => format!("file not found: {source}"),
            Some(13) => format!("file is not readable: {source}"),
            Some(21) => format!("source is a directory and must be a file: {source}"),
            _ => format!("unable to slurp file: {e}"),
        };
        ModuleFail::msg(msg)
    })?;
    let mut r = Map::new();
    r.insert("content".into(), json!(base64(&content)));
    r.insert("source".into(), json!(source));
    r.insert("encoding".into(), json!("base64"));
    Ok(r)
}

/// Standard base64 with padding, as Python's b64encode writes it.
pub fn base64(data: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(TABLE[(n >> 18) as usize & 63] as char);
        out.push(TABLE[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            TABLE[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            TABLE[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::base64;

    #[test]
    fn base64_pads_as_python_does() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"hello\n"), "aGVsbG8K");
    }
}
