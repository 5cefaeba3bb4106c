//! `apt_key`: add or remove an APT signing key with `apt-key`, as ansible-core 2.18's
//! module does (key ids compared in long or short form, keys from a file, inline data
//! or a keyserver). Keys given by an http(s) `url` are fetched by the agent's HTTP
//! client (`apt_key_download.rs`); other schemes run the Python module (`declines`).

use super::apt_key_download::{download_key, natively_fetched};
use super::{Kind, ModuleContext, ModuleFail, ModuleOutcome, Param, ParamDefault};
use crate::util::locale::best_parsable_locale;
use crate::util::run::{required_bin, run, Output};
use crate::util::shlex;
use serde_json::{json, Map, Value};
use std::io::Write;
use std::process::{Command, Stdio};

pub const SPEC: &[Param] = &[
    Param::new("id", Kind::Str),
    Param::new("url", Kind::Str),
    Param::new("data", Kind::Str),
    Param::new("file", Kind::Path),
    Param::new("keyring", Kind::Path),
    Param::new("validate_certs", Kind::Bool).default(ParamDefault::Bool(true)),
    Param::new("keyserver", Kind::Str),
    Param::new("state", Kind::Str)
        .default(ParamDefault::Str("present"))
        .choices(&["absent", "present"]),
];

/// Keys at ftp:// or file:// URLs run ansible-core's module (the agent's client
/// speaks http and https only).
pub fn declines(args: &Map<String, Value>) -> Option<&'static str> {
    args.get("url")
        .and_then(Value::as_str)
        .filter(|url| !natively_fetched(url))
        .map(|_| "apt_key: keys from a non-http url run the Python module")
}

const NO_ERROR: &str =
    "apt-key did not return an error, but {} (check that the id is correct and *not* a subkey)";

struct AptKey {
    ctx: ModuleContext,
    apt_key: String,
    gpg: String,
    keyring: Option<String>,
    /// `lang_env`: the parsable locale forced on commands whose output is read.
    lang: Map<String, Value>,
}

impl AptKey {
    /// Run a command given as one string (run_command splits it as shlex does).
    fn run_str(&self, cmd: &str, lang: bool) -> Result<Output, ModuleFail> {
        let argv = shlex::split(cmd).map_err(ModuleFail::msg)?;
        let mut ctx = self.ctx.clone();
        if lang {
            for (k, v) in &self.lang {
                ctx.env
                    .insert(k.clone(), v.as_str().unwrap_or("C").to_string());
            }
        }
        run(&argv, &ctx, None)
    }

    fn keyring_opt(&self) -> String {
        self.keyring
            .as_ref()
            .map(|k| format!(" --keyring {k}"))
            .unwrap_or_default()
    }

    fn all_keys(&self, short: bool) -> Result<Vec<String>, ModuleFail> {
        let cmd = format!(
            "{}{} adv --list-public-keys --keyid-format=long",
            self.apt_key,
            self.keyring_opt()
        );
        let o = self.run_str(&cmd, false)?;
        if o.rc != 0 {
            return Err(ModuleFail::msg("Unable to list public keys")
                .with("cmd", json!(cmd))
                .with("rc", json!(o.rc))
                .with("stdout", json!(o.out))
                .with("stderr", json!(o.err)));
        }
        Ok(parse_keys(&o.out, short))
    }

    /// The first key id `gpg --with-colons` finds in a file or inline data.
    fn key_id_from(&self, file: &str, data: Option<&[u8]>) -> Result<Option<String>, ModuleFail> {
        let mut cmd = Command::new(&self.gpg);
        cmd.args(["--with-colons", file])
            .envs(&self.ctx.env)
            .envs(
                self.lang
                    .iter()
                    .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("C").to_string())),
            )
            .stdin(if data.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd
            .spawn()
            .map_err(|e| ModuleFail::msg(format!("failed to run {}: {e}", self.gpg)))?;
        if let (Some(d), Some(mut stdin)) = (data, child.stdin.take()) {
            // Armored text gets run_command's trailing newline; binary data does not.
            let mut bytes = d.to_vec();
            if String::from_utf8_lossy(d).contains("-----BEGIN PGP PUBLIC KEY BLOCK-----") {
                bytes.push(b'\n');
            }
            let _ = stdin.write_all(&bytes);
        }
        let out = child
            .wait_with_output()
            .map_err(|e| ModuleFail::msg(format!("failed to wait for gpg: {e}")))?;
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        );
        if !out.status.success() {
            let what = if data.is_some() { "inline data" } else { file };
            return Err(
                ModuleFail::msg(format!("Unable to extract key from '{what}'"))
                    .with("stdout", json!(stdout))
                    .with("stderr", json!(stderr)),
            );
        }
        Ok(parse_keys(&stdout, false).into_iter().next())
    }

    fn add_key(&self, file: Option<&str>, data: Option<&[u8]>) -> Result<(), ModuleFail> {
        let ring = self.keyring_opt();
        if let Some(data) = data {
            let cmd = format!("{}{ring} add -", self.apt_key);
            let argv = shlex::split(&cmd).map_err(ModuleFail::msg)?;
            let o = run_binary(&argv, &self.ctx, data)?;
            if o.rc != 0 {
                return Err(ModuleFail::msg("Unable to add a key from binary data")
                    .with("cmd", json!(cmd))
                    .with("rc", json!(o.rc))
                    .with("stdout", json!(o.out))
                    .with("stderr", json!(o.err)));
            }
            return Ok(());
        }
        let keyfile = file.unwrap_or_default();
        let cmd = format!("{}{ring} add {keyfile}", self.apt_key);
        let o = self.run_str(&cmd, false)?;
        if o.rc != 0 {
            return Err(
                ModuleFail::msg(format!("Unable to add a key from file {keyfile}"))
                    .with("cmd", json!(cmd))
                    .with("rc", json!(o.rc))
                    .with("keyfile", json!(keyfile))
                    .with("stdout", json!(o.out))
                    .with("stderr", json!(o.err)),
            );
        }
        Ok(())
    }

    fn import_key(&self, keyserver: &str, key_id: &str) -> Result<(), ModuleFail> {
        let mut cmd = format!(
            "{}{} adv --no-tty --keyserver {keyserver}",
            self.apt_key,
            self.keyring_opt()
        );
        let proxy = ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"]
            .iter()
            .find_map(|v| {
                self.ctx
                    .env
                    .get(*v)
                    .cloned()
                    .or_else(|| std::env::var(v).ok())
                    .filter(|p| !p.is_empty())
            });
        if let Some(proxy) = proxy {
            cmd += &format!(" --keyserver-options http-proxy={proxy}");
        }
        cmd += &format!(" --recv {key_id}");
        let mut last = None;
        for _ in 0..5 {
            let o = self.run_str(&cmd, true)?;
            if o.rc == 0 {
                return Ok(());
            }
            last = Some(o);
        }
        let o = last.unwrap_or(Output {
            rc: 1,
            out: String::new(),
            err: String::new(),
        });
        if o.rc == 2 && o.out.contains("not found on keyserver") {
            return Err(ModuleFail::msg(format!(
                "Key {key_id} not found on keyserver {keyserver}"
            ))
            .with("cmd", json!(cmd))
            .with("forced_environment", Value::Object(self.lang.clone())));
        }
        Err(ModuleFail::msg(format!(
            "Error fetching key {key_id} from keyserver: {keyserver}"
        ))
        .with("cmd", json!(cmd))
        .with("forced_environment", Value::Object(self.lang.clone()))
        .with("rc", json!(o.rc))
        .with("stdout", json!(o.out))
        .with("stderr", json!(o.err)))
    }

    fn remove_key(&self, short_id: &str) -> Result<(), ModuleFail> {
        let cmd = format!("{}{} del {short_id}", self.apt_key, self.keyring_opt());
        let o = self.run_str(&cmd, false)?;
        if o.rc != 0 {
            return Err(
                ModuleFail::msg(format!("Unable to remove a key with id {short_id}"))
                    .with("cmd", json!(cmd))
                    .with("rc", json!(o.rc))
                    .with("key_id", json!(short_id))
                    .with("stdout", json!(o.out))
                    .with("stderr", json!(o.err)),
            );
        }
        Ok(())
    }
}

/// run_command with binary data on stdin (no newline added).
fn run_binary(argv: &[String], ctx: &ModuleContext, data: &[u8]) -> Result<Output, ModuleFail> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| ModuleFail::msg("rsible: empty command"))?;
    let mut child = Command::new(program)
        .args(args)
        .envs(&ctx.env)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| ModuleFail::msg(format!("failed to run {program}: {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(data);
    }
    let out = child
        .wait_with_output()
        .map_err(|e| ModuleFail::msg(format!("failed to wait for {program}: {e}")))?;
    Ok(Output {
        rc: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    })
}

/// Key ids of `pub`/`sub` lines that are not expired: from `gpg --list-keys` text
/// (`pub   rsa4096/ABCD... `) or `--with-colons` records (field 5).
fn parse_keys(output: &str, short: bool) -> Vec<String> {
    let mut found = Vec::new();
    for line in output.split('\n') {
        if !(line.starts_with("pub") || line.starts_with("sub")) || line.contains("expired") {
            continue;
        }
        let from_text = line.split_whitespace().nth(1).and_then(|code| {
            let parts: Vec<&str> = code.split('/').collect();
            (parts.len() == 2).then(|| parts[1].to_string())
        });
        let code = from_text.or_else(|| line.split(':').nth(4).map(str::to_string));
        if let Some(code) = code {
            found.push(code);
        }
    }
    if short {
        found = found
            .into_iter()
            .map(|k| k[k.len().saturating_sub(8)..].to_string())
            .collect();
    }
    found
}

/// `parse_key_id`: (short id, fingerprint, key id), or None for an invalid id.
fn parse_key_id(key_id: &str) -> Option<(String, String, String)> {
    // Python's int(x, 16): optional sign, 0x prefix, underscores between digits.
    let t = key_id.trim();
    let unsigned = t.strip_prefix(['+', '-']).unwrap_or(t);
    let digits = unsigned
        .strip_prefix("0x")
        .or_else(|| unsigned.strip_prefix("0X"))
        .unwrap_or(unsigned);
    let ok = !digits.is_empty()
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__")
        && digits.chars().all(|c| c.is_ascii_hexdigit() || c == '_');
    if !ok {
        return None;
    }
    let mut id = key_id.to_uppercase();
    if let Some(rest) = id.strip_prefix("0X") {
        id = rest.to_string();
    }
    let len = id.chars().count();
    if len != 8 && len != 16 && len <= 16 {
        return None;
    }
    let tail = |n: usize| id.chars().skip(len.saturating_sub(n)).collect::<String>();
    let short = tail(8);
    let fingerprint = if len > 16 { tail(16) } else { id.clone() };
    Some((short, fingerprint, id))
}

pub fn run_module(params: &Map<String, Value>, ctx: &ModuleContext) -> ModuleOutcome {
    let s = |k: &str| params.get(k).and_then(Value::as_str).map(str::to_string);
    let given: Vec<&str> = ["data", "file", "keyserver", "url"]
        .into_iter()
        .filter(|k| params.get(*k).is_some_and(|v| !v.is_null()))
        .collect();
    if given.len() > 1 {
        return Err(ModuleFail::msg(
            "parameters are mutually exclusive: data|file|keyserver|url",
        ));
    }
    let (url, file, keyserver) = (s("url"), s("file"), s("keyserver"));
    // Inline text, or the bytes downloaded from `url` (`elif data:` in the module:
    // empty data counts as none).
    let mut data: Option<Vec<u8>> = s("data").map(String::into_bytes);
    let validate_certs = params
        .get("validate_certs")
        .and_then(Value::as_bool)
        .unwrap_or(true);
    let state = s("state").unwrap_or_else(|| "present".into());
    let apt_key = required_bin("apt-key", ctx)?;
    let gpg = required_bin("gpg", ctx)?;
    let locale = best_parsable_locale(&ctx.env);
    let lang: Map<String, Value> = ["LANG", "LC_ALL", "LC_MESSAGES", "LANGUAGE"]
        .iter()
        .map(|k| (k.to_string(), json!(locale)))
        .collect();
    let m = AptKey {
        ctx: ctx.clone(),
        apt_key,
        gpg,
        keyring: s("keyring"),
        lang,
    };

    let mut r = Map::new();
    r.insert("changed".into(), json!(false));
    let mut key_id = s("id").filter(|k| !k.is_empty());
    if key_id.is_none() {
        if keyserver.is_some() {
            return Err(ModuleFail::msg("Missing key_id, required with keyserver."));
        }
        if let Some(u) = url.as_deref().filter(|u| !u.is_empty()) {
            data = Some(download_key(u, validate_certs, ctx)?);
        }
        if let Some(f) = &file {
            key_id = m.key_id_from(f, None)?;
        } else if let Some(d) = data.as_deref().filter(|d| !d.is_empty()) {
            key_id = m.key_id_from("-", Some(d))?;
        }
    }
    r.insert("id".into(), json!(key_id));
    let fail_with = |msg: String, r: &Map<String, Value>| {
        let mut f = ModuleFail::msg(msg);
        for (k, v) in r {
            f = f.with(k, v.clone());
        }
        f
    };
    let Some((short_id, fingerprint, key_id)) = parse_key_id(key_id.as_deref().unwrap_or("None"))
    else {
        return Err(fail_with("Invalid key_id".into(), &r));
    };
    r.insert("short_id".into(), json!(short_id));
    r.insert("fp".into(), json!(fingerprint));
    r.insert("key_id".into(), json!(key_id));
    let short = key_id.chars().count() == 8;
    let keys = m.all_keys(short)?;
    r.insert("before".into(), json!(keys));
    let has = |keys: &[String]| {
        if short {
            keys.contains(&short_id)
        } else {
            keys.contains(&fingerprint)
        }
    };
    if state == "present" {
        if !has(&keys) {
            r.insert("changed".into(), json!(true));
            if !ctx.check_mode {
                if let Some(f) = &file {
                    m.add_key(Some(f), None)?;
                } else if let Some(ks) = &keyserver {
                    m.import_key(ks, &key_id)?;
                } else if let Some(d) = data.as_deref().filter(|d| !d.is_empty()) {
                    m.add_key(None, Some(d))?;
                } else if let Some(u) = url.as_deref().filter(|u| !u.is_empty()) {
                    // Reached only when an id was given with the url.
                    let downloaded = download_key(u, validate_certs, ctx)?;
                    m.add_key(None, Some(&downloaded))?;
                } else {
                    return Err(fail_with(
                        "No key to add ... how did i get here?!?!".into(),
                        &r,
                    ));
                }
                let after = m.all_keys(short)?;
                r.insert("after".into(), json!(after));
                if !has(&after) {
                    return Err(fail_with(
                        NO_ERROR.replace("{}", "failed to add the key"),
                        &r,
                    ));
                }
            }
        }
    } else if keys.contains(&fingerprint) {
        r.insert("changed".into(), json!(true));
        if !ctx.check_mode {
            m.remove_key(&short_id)?;
            let after = m.all_keys(short)?;
            r.insert("after".into(), json!(after));
            if after.contains(&fingerprint) {
                return Err(fail_with(
                    NO_ERROR.replace("{}", "the key was not removed"),
                    &r,
                ));
            }
        }
    }
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_split_as_the_module_does() {
        assert_eq!(
            parse_key_id("0x9DC858229FC7DD38854AE2D88D81803C0EBFCD88"),
            Some((
                "0EBFCD88".into(),
                "8D81803C0EBFCD88".into(),
                "9DC858229FC7DD38854AE2D88D81803C0EBFCD88".into()
            ))
        );
        assert_eq!(
            parse_key_id("0ebfcd88"),
            Some(("0EBFCD88".into(), "0EBFCD88".into(), "0EBFCD88".into()))
        );
        assert_eq!(parse_key_id("12345"), None);
        assert_eq!(parse_key_id("zz"), None);
        assert_eq!(parse_key_id("None"), None);
    }

    #[test]
    fn keys_are_read_from_listings_and_colons() {
        let text = "pub   rsa4096/8D81803C0EBFCD88 2017-02-22 [SCEA]\n\
                    sub   rsa4096/AAAA111122223333 2017-02-22 [S] [expired: 2020-01-01]\n\
                    pub:-:4096:1:7EA0A9C3F273FCD8:1487788321:::-:::scESC::::::23::0:\n";
        assert_eq!(
            parse_keys(text, false),
            ["8D81803C0EBFCD88", "7EA0A9C3F273FCD8"]
        );
        assert_eq!(parse_keys(text, true), ["0EBFCD88", "F273FCD8"]);
    }
}
