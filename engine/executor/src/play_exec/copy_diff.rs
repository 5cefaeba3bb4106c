//! `--diff` for `copy` and `template`: in Ansible their action plugins
//! (not the module) build the diff, from the destination as it was before
//! (peeked and slurped from the target) and the new content on the
//! controller. rsible does the same around the agent's `copy` call.

use serde_json::{json, Map, Value as Json};

use super::Executor;
use crate::output::default_callback::Sink;
use crate::vars::VarLayers;

/// Ansible's `MAX_FILE_SIZE_FOR_DIFF`.
const MAX_FILE_SIZE_FOR_DIFF: usize = 104448;

/// Where the new content comes from, for the diff's `after` side.
pub(super) struct NewContent<'c> {
    pub text: &'c str,
    /// The bytes written when they are not `text`'s UTF-8 (the template's
    /// `output_encoding`).
    pub bytes: Option<&'c [u8]>,
    /// `after_header`: the destination for `content:`, else the source file.
    pub header: String,
    /// The result's `src` when the action skips the module (`force: false`
    /// over an existing file): the file the action would have sent.
    pub source: String,
}

/// A file's bytes as Ansible's diff shows them: decoded with
/// surrogateescape, each byte that is not UTF-8 printed as "?".
fn displayed_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    let mut rest = bytes;
    loop {
        match std::str::from_utf8(rest) {
            Ok(valid) => {
                out.push_str(valid);
                return out;
            }
            Err(e) => {
                let (valid, after) = rest.split_at(e.valid_up_to());
                out.push_str(std::str::from_utf8(valid).unwrap_or_default());
                // Python's surrogateescape: one replacement per invalid byte.
                let bad = e.error_len().unwrap_or(after.len()).max(1);
                for _ in 0..bad {
                    out.push('?');
                }
                rest = &after[bad..];
            }
        }
    }
}

impl<'a, S: Sink> Executor<'a, S> {
    /// Runs `copy` (the agent's module, given `args`) and, in diff mode,
    /// adds Ansible's action-plugin diff when the content changed.
    pub(super) fn copy_with_diff(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        args: Map<String, Json>,
        new: NewContent,
    ) -> Map<String, Json> {
        let dest = args
            .get("dest")
            .and_then(Json::as_str)
            .unwrap_or("")
            .to_string();
        // A file the action read itself lands in a directory dest under its
        // own name; the diff is of that file, as the copy action's.
        let basename = args
            .get("_original_basename")
            .and_then(Json::as_str)
            .map(str::to_string);
        let dest = match &basename {
            Some(base) if dest.ends_with('/') => format!("{dest}{base}"),
            _ => dest,
        };
        let before = if self.ctl.call_settings.diff && !dest.is_empty() && !dest.ends_with('/') {
            let mut before = self.peek_before(host, scope, delegate, &dest);
            match (&basename, before.remove("dir")) {
                (Some(base), Some(_)) => {
                    let inner = format!("{}/{base}", dest.trim_end_matches('/'));
                    let mut inside = self.peek_before(host, scope, delegate, &inner);
                    inside.remove("dir");
                    Some(inside)
                }
                _ => Some(before),
            }
        } else {
            None
        };
        let task_dest = args.get("dest").cloned().unwrap_or(Json::Null);
        let mut result = self.module_call(host, scope, delegate, "copy", Json::Object(args));
        // `force: false` over an existing file: the action stats the dest and
        // stops before any module runs, so the result is its own bare answer.
        if result.get("msg").and_then(Json::as_str) == Some("file already exists")
            && result.get("failed").is_none()
            && result.get("changed") == Some(&Json::Bool(false))
        {
            let mut r = Map::new();
            r.insert("dest".into(), task_dest);
            r.insert("src".into(), Json::String(new.source.clone()));
            r.insert("changed".into(), Json::Bool(false));
            return r;
        }
        // The copy action adds the source's checksum to a module result
        // without one (an argument error, for one).
        if result.get("failed") == Some(&Json::Bool(true)) && !result.contains_key("checksum") {
            let sum = super::fetch::sha1_hex(new.bytes.unwrap_or(new.text.as_bytes()));
            result.insert("checksum".into(), Json::String(sum));
        }
        // Ansible's action works its diff out before calling the module, so a
        // module failure carries it too (an empty list without --diff).
        let module_failed = result.get("failed") == Some(&Json::Bool(true))
            && !result.contains_key("unreachable")
            && !result.contains_key("diff");
        let Some(mut diff) = before else {
            if module_failed {
                result.insert("diff".into(), Json::Array(Vec::new()));
            }
            return result;
        };
        // The module's own diff (attributes only) is kept when the content
        // did not change; a content change has none.
        let content_changed = result.get("changed") == Some(&Json::Bool(true))
            && !result.contains_key("diff")
            && !result.contains_key("failed");
        if !content_changed && !module_failed {
            return result;
        }
        let bytes = new.bytes.unwrap_or(new.text.as_bytes());
        if bytes.len() > MAX_FILE_SIZE_FOR_DIFF {
            diff.insert("src_larger".into(), json!(MAX_FILE_SIZE_FOR_DIFF));
        } else if bytes.contains(&0) {
            diff.insert("src_binary".into(), json!(1));
        } else {
            diff.insert("after_header".into(), json!(new.header));
            diff.insert("after".into(), json!(displayed_text(bytes)));
        }
        result.insert("diff".into(), Json::Array(vec![Json::Object(diff)]));
        result
    }

    /// The `before` side: empty for a missing file, a note for a binary or
    /// large one, else its text under its path.
    fn peek_before(
        &mut self,
        host: &str,
        scope: &VarLayers,
        delegate: Option<&str>,
        dest: &str,
    ) -> Map<String, Json> {
        let mut diff = Map::new();
        let slurped = self.module_call(host, scope, delegate, "slurp", json!({"src": dest}));
        let data = slurped
            .get("content")
            .and_then(Json::as_str)
            .and_then(super::fetch::base64_decode);
        let is_dir = slurped
            .get("msg")
            .and_then(Json::as_str)
            .is_some_and(|m| m.starts_with("source is a directory"));
        match data {
            // Marks a directory for the caller, which looks inside it.
            None if is_dir => {
                diff.insert("dir".into(), json!(true));
                diff.insert("before".into(), json!(""));
            }
            None => {
                diff.insert("before".into(), json!(""));
            }
            Some(data) if data.len() > MAX_FILE_SIZE_FOR_DIFF => {
                diff.insert("dst_larger".into(), json!(MAX_FILE_SIZE_FOR_DIFF));
            }
            Some(data) if data[..data.len().min(8192)].contains(&0) => {
                diff.insert("dst_binary".into(), json!(1));
            }
            Some(data) => {
                diff.insert("before_header".into(), json!(dest));
                diff.insert("before".into(), json!(displayed_text(&data)));
            }
        }
        diff
    }
}
