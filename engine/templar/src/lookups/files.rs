//! Lookups that read or write controller files: file, fileglob,
//! first_found, template, password.

use std::path::{Path, PathBuf};

use minijinja::value::{Value, ValueKind};
use minijinja::Error;

use super::{err, LookupCall};
use crate::python_repr::str_of;
use crate::templar::{JinjaOptions, StringMode};
use crate::vars::{MapVars, OverlayVars};

fn read_text(path: &Path) -> Result<String, Error> {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|e| err(format!("could not read {}: {}", path.display(), e)))
}

pub fn file(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let lstrip = call.kwarg::<bool>("lstrip")?.unwrap_or(false);
    let rstrip = call.kwarg::<bool>("rstrip")?.unwrap_or(true);
    let mut out = Vec::new();
    for t in &call.terms {
        let name = str_of(t);
        let issue = |why: &str| {
            err(format!(
                "The 'file' lookup had an issue accessing the file '{}'. {}",
                name, why
            ))
        };
        let path = call
            .find_file("files", &name)
            .ok_or_else(|| issue("file not found, use -vvvvv to see paths searched"))?;
        let mut text = read_text(&path).map_err(|e| issue(&e.to_string()))?;
        if lstrip {
            text = text.trim_start().to_string();
        }
        if rstrip {
            text = text.trim_end().to_string();
        }
        out.push(Value::from(text));
    }
    Ok(out)
}

pub fn fileglob(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for t in &call.terms {
        let term = str_of(t);
        let (dir, pattern) = match term.rsplit_once('/') {
            Some((d, p)) => (d.to_string(), p.to_string()),
            None => (String::new(), term.clone()),
        };
        let base = if dir.is_empty() {
            call.find_file("files", ".")
                .or_else(|| Some(call.basedir()))
        } else {
            call.find_file("files", &dir)
        };
        let Some(base) = base else { continue };
        // Python's glob lists the directory in its on-disk order (unsorted).
        let Ok(pat) = glob::Pattern::new(&pattern) else {
            continue;
        };
        let Ok(entries) = std::fs::read_dir(&base) else {
            continue;
        };
        for entry in entries.filter_map(Result::ok) {
            let name = entry.file_name().to_string_lossy().into_owned();
            let hidden_ok = pattern.starts_with('.') || !name.starts_with('.');
            let path = base.join(&name);
            if hidden_ok && pat.matches(&name) && path.is_file() {
                out.push(Value::from(path.to_string_lossy().into_owned()));
            }
        }
    }
    Ok(out)
}

/// Python's `_split_on`: strings split on any of `chars`, lists item by item.
fn split_on(v: &Value, chars: &[char]) -> Vec<String> {
    let split = |s: &str| -> Vec<String> {
        s.split(|c| chars.contains(&c))
            .filter(|p| !p.is_empty())
            .map(str::to_string)
            .collect()
    };
    match v.kind() {
        ValueKind::String => split(v.as_str().unwrap_or_default()),
        ValueKind::Seq => v
            .try_iter()
            .map(|it| it.flat_map(|x| split(&str_of(&x))).collect())
            .unwrap_or_default(),
        ValueKind::None | ValueKind::Undefined => Vec::new(),
        _ => split(&str_of(v)),
    }
}

pub fn first_found(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let default_files: Option<Value> = call.kwarg("files")?;
    let default_paths: Option<Value> = call.kwarg("paths")?;
    let default_skip = call.kwarg::<bool>("skip")?.unwrap_or(false);
    let terms = if call.terms.is_empty() {
        default_files.clone().map(|f| vec![f]).unwrap_or_default()
    } else {
        call.terms.clone()
    };
    let mut search = Vec::new();
    let mut skip = default_skip;
    fn process(
        terms: &[Value],
        default_paths: &Option<Value>,
        default_skip: bool,
        search: &mut Vec<String>,
        skip: &mut bool,
    ) -> Result<(), Error> {
        for term in terms {
            let (files, paths) = match term.kind() {
                ValueKind::Map => {
                    let get = |k: &str| term.get_attr(k).ok().filter(|v| !v.is_undefined());
                    *skip = get("skip").map(|v| v.is_true()).unwrap_or(false);
                    (get("files").unwrap_or_default(), get("paths"))
                }
                ValueKind::String => {
                    *skip = default_skip;
                    (term.clone(), default_paths.clone())
                }
                ValueKind::Seq => {
                    let inner: Vec<Value> = term.try_iter()?.collect();
                    process(&inner, default_paths, default_skip, search, skip)?;
                    continue;
                }
                _ => {
                    return Err(err(format!(
                        "Invalid term supplied, can handle string, mapping or list of strings but got: {} for {}",
                        crate::python_types::type_name(term),
                        str_of(term)
                    )))
                }
            };
            let filelist = split_on(&files, &[',', ';']);
            let pathlist = paths
                .map(|p| split_on(&p, &[',', ':', ';']))
                .unwrap_or_default();
            if !pathlist.is_empty() {
                for p in &pathlist {
                    for f in &filelist {
                        search.push(Path::new(p).join(f).to_string_lossy().into_owned());
                    }
                }
            } else {
                search.extend(filelist);
            }
        }
        Ok(())
    }
    process(&terms, &default_paths, default_skip, &mut search, &mut skip)?;
    for name in search {
        if let Some(path) = call.find_file(call.subdir, &name) {
            return Ok(vec![Value::from(normalize(&path))]);
        }
    }
    if skip {
        return Ok(Vec::new());
    }
    Err(err("No file was found when using first_found."))
}

/// `unfrackpath(follow=False)`: absolute, `.` and `..` resolved textually.
fn normalize(path: &Path) -> String {
    let abs = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir().unwrap_or_default().join(path)
    };
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for c in abs.components() {
        match c {
            std::path::Component::ParentDir => {
                parts.pop();
            }
            std::path::Component::Normal(p) => parts.push(p),
            _ => {}
        }
    }
    let mut out = PathBuf::from("/");
    for p in parts {
        out.push(p);
    }
    out.to_string_lossy().into_owned()
}

/// `template`: the file rendered with the current variables, plus
/// `template_vars` and the template's own `template_*` variables.
pub fn template(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let convert_data = call.kwarg::<bool>("convert_data")?.unwrap_or(true);
    let template_vars: Option<Value> = call.kwarg("template_vars")?;
    // The lookup passes the variable and comment delimiters on (not the block ones).
    let variable_start: Option<String> = call.kwarg("variable_start_string")?;
    let variable_end: Option<String> = call.kwarg("variable_end_string")?;
    let comment_start: Option<String> = call.kwarg("comment_start_string")?;
    let comment_end: Option<String> = call.kwarg("comment_end_string")?;
    let delimiters = crate::templar::Delimiters::new(
        (None, None),
        (variable_start.as_deref(), variable_end.as_deref()),
        (comment_start.as_deref(), comment_end.as_deref()),
    );
    let _: Option<Value> = call.kwarg("jinja2_native")?;
    let mut out = Vec::new();
    for t in &call.terms {
        let name = str_of(t);
        let path = call.find_file("templates", &name).ok_or_else(|| {
            err(format!(
                "the template file {} could not be found for the lookup",
                name
            ))
        })?;
        let source = read_text(&path)?;
        let mut extra = MapVars::new();
        let abs = normalize(&path);
        extra.set("template_path", abs.as_str());
        extra.set("template_fullpath", abs.as_str());
        extra.set("template_destpath", Value::from(()));
        extra.set("template_host", Value::from(hostname()));
        extra.set("template_uid", Value::from(uid_name()));
        extra.set("template_run_date", Value::from(()));
        extra.set("ansible_managed", call.frame.templar.ansible_managed());
        extra.set(
            "template_basename",
            Path::new(&abs)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
                .unwrap_or_default(),
        );
        if let Some(tv) = &template_vars {
            if tv.kind() == ValueKind::Map {
                for k in tv.try_iter()? {
                    extra.set(str_of(&k), tv.get_item(&k).unwrap_or_default());
                }
            }
        }
        let vars = OverlayVars {
            top: &extra,
            base: call.frame.vars,
        };
        let mode = StringMode {
            options: JinjaOptions {
                delimiters,
                ..JinjaOptions::default()
            },
            convert_data,
            escape_backslashes: false,
            preserve_trailing_newlines: true,
        };
        let v = call
            .frame
            .templar
            .template_str_with(&source, &vars, mode)
            .map_err(|e| {
                let kind = if e.kind == crate::ErrorKind::Undefined {
                    minijinja::ErrorKind::UndefinedError
                } else {
                    minijinja::ErrorKind::InvalidOperation
                };
                minijinja::Error::new(kind, e.message.clone())
            })?;
        // Without conversion the text stays text (Ansible's NativeJinjaText).
        out.push(if convert_data {
            v
        } else {
            Value::from(str_of(&v))
        });
    }
    Ok(out)
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

fn uid_name() -> String {
    std::env::var("USER").unwrap_or_default()
}

const ASCII_LOWER: &str = "abcdefghijklmnopqrstuvwxyz";
const ASCII_UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";
const PUNCTUATION: &str = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";

/// Python's `string` module constants, or the text itself.
fn char_set(name: &str) -> String {
    match name {
        "ascii_letters" => format!("{}{}", ASCII_LOWER, ASCII_UPPER),
        "ascii_lowercase" => ASCII_LOWER.into(),
        "ascii_uppercase" => ASCII_UPPER.into(),
        "digits" => DIGITS.into(),
        "hexdigits" => "0123456789abcdefABCDEF".into(),
        "octdigits" => "01234567".into(),
        "punctuation" => PUNCTUATION.into(),
        "whitespace" => " \t\n\r\x0b\x0c".into(),
        "printable" => format!(
            "{}{}{}{}{}",
            DIGITS, ASCII_LOWER, ASCII_UPPER, PUNCTUATION, " \t\n\r\x0b\x0c"
        ),
        other => other.into(),
    }
}

/// `password`: the password stored in the file, or a new random one that is
/// then stored (mode 0600, directories 0700). The file is written only when
/// the lookup runs, that is when the variable holding it is used.
pub fn password(call: &LookupCall) -> Result<Vec<Value>, Error> {
    let mut out = Vec::new();
    for t in &call.terms {
        let term = str_of(t);
        let (relpath, params) = match term.split_once(' ') {
            Some((p, rest)) => (p.to_string(), rest.to_string()),
            None => (term.clone(), String::new()),
        };
        let mut length = call.kwarg::<i64>("length")?.unwrap_or(20);
        let mut chars_spec: Vec<String> =
            vec!["ascii_letters".into(), "digits".into(), ".,:-_".into()];
        if let Some(c) = call.kwarg::<Value>("chars")? {
            chars_spec = c.try_iter()?.map(|x| str_of(&x)).collect();
        }
        for kv in params.split_whitespace() {
            let Some((k, v)) = kv.split_once('=') else {
                return Err(err(
                    "Unrecognized value after key=value parameters given to password lookup",
                ));
            };
            match k {
                "length" => {
                    length = v
                        .parse()
                        .map_err(|_| err(format!("length must be an integer, not {}", v)))?
                }
                "chars" => {
                    let mut spec = Vec::new();
                    if v.contains(",,") {
                        spec.push(",".to_string());
                    }
                    spec.extend(
                        v.replace(",,", ",")
                            .split(',')
                            .filter(|c| !c.is_empty())
                            .map(str::to_string),
                    );
                    chars_spec = spec;
                }
                "encrypt" | "ident" | "salt" | "seed" => {
                    return Err(err(format!(
                        "the password lookup's '{}' parameter is not implemented in rsible",
                        k
                    )))
                }
                other => {
                    return Err(err(format!(
                        "Unrecognized parameter(s) given to password lookup: {}",
                        other
                    )))
                }
            }
        }
        let path = if Path::new(&relpath).is_absolute() {
            PathBuf::from(&relpath)
        } else {
            call.basedir().join(&relpath)
        };
        let existing = if path.exists() && path != Path::new("/dev/null") {
            Some(read_text(&path)?.trim_end().to_string())
        } else {
            None
        };
        let password = match existing {
            Some(content) => match content.split_once(" salt=") {
                Some((p, _)) => p.to_string(),
                None => content
                    .split(" ident=")
                    .next()
                    .unwrap_or_default()
                    .to_string(),
            },
            None => {
                let chars: Vec<char> = chars_spec
                    .iter()
                    .flat_map(|s| char_set(s).chars().collect::<Vec<_>>())
                    .collect();
                if chars.is_empty() {
                    return Err(err(
                        "password lookup: no characters to build the password from",
                    ));
                }
                let pw: String = (0..length.max(0))
                    .map(|_| {
                        chars[crate::filters::random::secure_below(chars.len() as u64) as usize]
                    })
                    .collect();
                if path != Path::new("/dev/null") {
                    write_password_file(&path, &pw)?;
                }
                pw
            }
        };
        out.push(Value::from(password));
    }
    Ok(out)
}

fn write_password_file(path: &Path, password: &str) -> Result<(), Error> {
    use std::io::Write;
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let fail = |e: std::io::Error| err(format!("could not write {}: {}", path.display(), e));
    if let Some(dir) = path.parent() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(fail)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(fail)?;
    f.write_all(format!("{}\n", password).as_bytes())
        .map_err(fail)
}
