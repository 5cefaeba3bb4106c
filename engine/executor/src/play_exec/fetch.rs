//! `fetch`: brings a file from the target to the controller, under
//! `dest/<host>/<src>` (or `dest` itself with `flat`), reading it through
//! the target's `slurp` module as Ansible's fetch does when it must.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use rsible_templar::Value;
use serde_json::{json, Map, Value as Json};
use sha1::{Digest, Sha1};

use super::{obj, Executor};
use crate::output::default_callback::Sink;
use crate::vars::VarLayers;

impl<'a, S: Sink> Executor<'a, S> {
    pub(super) fn fetch_action(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        args: &IndexMap<String, Value>,
    ) -> Map<String, Json> {
        // Ansible's fetch action raises AnsibleActionSkip before it reads its
        // arguments: nothing is read on the target, nothing written here.
        if self.ctl.call_settings.check_mode {
            let mut skipped = obj(json!({
                "changed": false,
                "skipped": true,
                "msg": "check mode not (yet) supported for this module",
            }));
            skipped.insert(super::results::RAISED_BY_ACTION.into(), Json::Bool(true));
            return skipped;
        }
        let text = |k: &str| {
            args.get(k)
                .filter(|v| !v.is_none() && !v.is_undefined())
                .map(|v| {
                    v.as_str()
                        .map(str::to_string)
                        .unwrap_or_else(|| v.to_string())
                })
        };
        let flag = |k: &str, default: bool| args.get(k).map(Value::is_true).unwrap_or(default);
        let (Some(src), Some(dest)) = (text("src"), text("dest")) else {
            return super::action_fail::action_fail("src and dest are required");
        };
        let fail_on_missing = flag("fail_on_missing", true);
        let validate = flag("validate_checksum", true);
        let slurped = self.module_call(host, scope, delegate, "slurp", json!({"src": src}));
        if slurped.contains_key("unreachable") {
            return slurped;
        }
        let missing_msg = "the remote file does not exist, not transferring, ignored";
        if slurped.get("failed") == Some(&Json::Bool(true)) {
            let msg = slurped.get("msg").and_then(Json::as_str).unwrap_or("");
            if msg.starts_with("file not found") {
                return if fail_on_missing {
                    obj(json!({"failed": true, "changed": false, "msg": missing_msg}))
                } else {
                    obj(json!({"changed": false, "msg": missing_msg, "file": src}))
                };
            }
            if msg.starts_with("source is a directory") {
                return obj(
                    json!({"failed": true, "changed": false, "msg": "remote file is a directory, fetch cannot work on directories"}),
                );
            }
            return slurped;
        }
        let Some(data) = slurped
            .get("content")
            .and_then(Json::as_str)
            .and_then(base64_decode)
        else {
            return obj(
                json!({"failed": true, "msg": "rsible: the target's slurp returned no readable content"}),
            );
        };
        let dest_path = fetch_destination(&src, &dest, flag("flat", false), host);
        let remote_checksum = sha1_hex(&data);
        let local = std::fs::read(&dest_path).ok();
        let dest_text = dest_path.display().to_string();
        if local.as_deref().map(sha1_hex).as_deref() == Some(remote_checksum.as_str()) {
            return obj(
                json!({"changed": false, "file": src, "dest": dest_text, "checksum": remote_checksum}),
            );
        }
        if let Some(parent) = dest_path.parent() {
            if let Err(e) = std::fs::create_dir_all(parent) {
                return obj(
                    json!({"failed": true, "msg": format!("Failed to create {}: {e}", parent.display())}),
                );
            }
        }
        let tmp = dest_path.with_extension("rsible-tmp");
        if let Err(e) = std::fs::write(&tmp, &data).and_then(|_| std::fs::rename(&tmp, &dest_path))
        {
            let _ = std::fs::remove_file(&tmp);
            return obj(json!({"failed": true, "msg": format!("Failed to fetch the file: {e}")}));
        }
        let new_checksum = std::fs::read(&dest_path)
            .map(|d| sha1_hex(&d))
            .unwrap_or_default();
        if validate && new_checksum != remote_checksum {
            return obj(json!({
                "failed": true,
                "msg": "checksum mismatch",
                "file": src,
                "dest": dest_text,
                "remote_checksum": remote_checksum,
                "checksum": new_checksum,
            }));
        }
        obj(json!({
            "changed": true,
            "dest": dest_text,
            "remote_md5sum": null,
            "checksum": new_checksum,
            "remote_checksum": remote_checksum,
        }))
    }
}

/// `flat`: `dest` itself (or `dest/<basename>` when it ends in `/`); else
/// `dest/<host>/<src without its leading />`.
fn fetch_destination(src: &str, dest: &str, flat: bool, host: &str) -> PathBuf {
    if flat {
        if dest.ends_with('/') {
            let base = Path::new(src)
                .file_name()
                .map(|b| b.to_string_lossy().into_owned())
                .unwrap_or_default();
            return PathBuf::from(dest).join(base);
        }
        return PathBuf::from(dest);
    }
    PathBuf::from(dest)
        .join(host)
        .join(src.trim_start_matches('/'))
}

pub(super) fn sha1_hex(data: &[u8]) -> String {
    let digest = Sha1::digest(data);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

pub(super) fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut acc: u32 = 0;
    let mut bits = 0;
    for c in text.bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' | b'\n' | b'\r' => continue,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destination_is_per_host_unless_flat() {
        assert_eq!(
            fetch_destination("/etc/hosts", "out", false, "web1"),
            PathBuf::from("out/web1/etc/hosts")
        );
        assert_eq!(
            fetch_destination("/etc/hosts", "out/", true, "web1"),
            PathBuf::from("out/hosts")
        );
        assert_eq!(
            fetch_destination("/etc/hosts", "out/h", true, "web1"),
            PathBuf::from("out/h")
        );
    }

    #[test]
    fn base64_round_trip() {
        assert_eq!(base64_decode("aGVsbG8K").as_deref(), Some(&b"hello\n"[..]));
        assert_eq!(base64_decode("Zg==").as_deref(), Some(&b"f"[..]));
        assert_eq!(base64_decode("Z!"), None);
    }
}
