//! Ansible's argument spec validation: aliases, unsupported parameters, type
//! conversion, required, choices and defaults, with Ansible's error messages.

use super::ModuleFail;
use crate::util::expand::expand_path;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// Parameter types (the `type=` of an argument spec).
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Kind {
    Str,
    Bool,
    Int,
    /// A string with `~` and `$VARS` expanded.
    Path,
    /// A list of strings (a comma-separated string is split).
    List,
    /// Anything, unconverted.
    Raw,
    /// A list of ints (`type='list', elements='int'`); a scalar becomes a one-item list.
    IntList,
    /// A dictionary (`type='dict'`).
    Dict,
}

/// A default value usable in a `const` spec.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParamDefault {
    None,
    Bool(bool),
    Str(&'static str),
    Int(i64),
    List(&'static [&'static str]),
    IntList(&'static [i64]),
    EmptyDict,
}

/// One parameter of a module's argument spec.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub kind: Kind,
    pub default: ParamDefault,
    pub aliases: &'static [&'static str],
    pub choices: &'static [&'static str],
    pub required: bool,
    pub no_log: bool,
    /// A parameter only rsible's own actions pass (Ansible's module has no
    /// such parameter): accepted, but never listed among the supported ones
    /// nor shown in `invocation.module_args`.
    pub rsible_internal: bool,
}

impl Param {
    pub const fn new(name: &'static str, kind: Kind) -> Param {
        Param {
            name,
            kind,
            default: ParamDefault::None,
            aliases: &[],
            choices: &[],
            required: false,
            no_log: false,
            rsible_internal: false,
        }
    }
    pub const fn default(mut self, d: ParamDefault) -> Param {
        self.default = d;
        self
    }
    pub const fn aliases(mut self, a: &'static [&'static str]) -> Param {
        self.aliases = a;
        self
    }
    pub const fn choices(mut self, c: &'static [&'static str]) -> Param {
        self.choices = c;
        self
    }
    pub const fn required(mut self) -> Param {
        self.required = true;
        self
    }
    pub const fn no_log(mut self) -> Param {
        self.no_log = true;
        self
    }
    pub const fn rsible_internal(mut self) -> Param {
        self.rsible_internal = true;
        self
    }
}

/// Validated parameters and the `invocation.module_args` view of them.
pub type Validated = (Map<String, Value>, Map<String, Value>);

/// Validate `args` against `spec`. Returns the parameters (every spec name, defaults
/// filled) and the `invocation.module_args` view of them (no_log values masked).
pub fn validate(
    module: &str,
    spec: &[Param],
    args: &Map<String, Value>,
    env: &BTreeMap<String, String>,
) -> Result<Validated, ModuleFail> {
    check_supported(module, spec, args)?;
    // Ansible checks required parameters before converting any type.
    let given = |p: &Param| {
        std::iter::once(p.name)
            .chain(p.aliases.iter().copied())
            .any(|k| args.get(k).is_some_and(|v| !v.is_null()))
    };
    let mut missing: Vec<&str> = spec
        .iter()
        .filter(|p| p.required && !given(p))
        .map(|p| p.name)
        .collect();
    missing.sort_unstable();
    if !missing.is_empty() {
        return Err(ModuleFail::msg(format!(
            "missing required arguments: {}",
            missing.join(", ")
        )));
    }
    let mut params = Map::new();
    // Keys given under an alias stay visible too, as in Ansible's module_args.
    for (k, v) in args {
        params.insert(k.clone(), v.clone());
    }
    for p in spec {
        let given = std::iter::once(p.name)
            .chain(p.aliases.iter().copied())
            .find_map(|k| args.get(k).cloned());
        let value = match given {
            Some(v) => convert(p, v, env)?,
            None => match p.default {
                ParamDefault::None => Value::Null,
                ParamDefault::Bool(b) => Value::Bool(b),
                ParamDefault::Str(s) => Value::String(s.to_string()),
                ParamDefault::Int(i) => Value::from(i),
                ParamDefault::List(items) => {
                    Value::Array(items.iter().map(|s| Value::String(s.to_string())).collect())
                }
                ParamDefault::IntList(items) => {
                    Value::Array(items.iter().map(|i| Value::from(*i)).collect())
                }
                ParamDefault::EmptyDict => Value::Object(Map::new()),
            },
        };
        params.insert(p.name.to_string(), value);
    }
    for p in spec.iter().filter(|p| !p.choices.is_empty()) {
        if let Some(Value::String(s)) = params.get_mut(p.name) {
            // A YAML boolean given for a choice of strings arrives as "True" or
            // "False": Ansible takes it back to the one choice that is a boolean
            // of that truth ("yes"/"no"), when there is exactly one.
            if !p.choices.contains(&s.as_str()) && (s == "True" || s == "False") {
                let truth = s == "True";
                let mut same: Vec<&str> = p
                    .choices
                    .iter()
                    .copied()
                    .filter(|c| boolean_word(c) == Some(truth))
                    .collect();
                same.dedup();
                if let [one] = same[..] {
                    *s = one.to_string();
                }
            }
            if !p.choices.contains(&s.as_str()) {
                return Err(ModuleFail::msg(format!(
                    "value of {} must be one of: {}, got: {s}",
                    p.name,
                    p.choices.join(", ")
                )));
            }
        }
    }
    let mut invocation = params.clone();
    for p in spec.iter().filter(|p| p.rsible_internal) {
        invocation.remove(p.name);
    }
    for p in spec.iter().filter(|p| p.no_log) {
        for key in std::iter::once(p.name).chain(p.aliases.iter().copied()) {
            if invocation.get(key).is_some_and(|v| !v.is_null()) {
                invocation.insert(
                    key.to_string(),
                    Value::String("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER".into()),
                );
            }
        }
    }
    Ok((params, invocation))
}

fn check_supported(
    module: &str,
    spec: &[Param],
    args: &Map<String, Value>,
) -> Result<(), ModuleFail> {
    let known = |k: &str| spec.iter().any(|p| p.name == k || p.aliases.contains(&k));
    let mut unknown: Vec<&str> = args
        .keys()
        .map(String::as_str)
        .filter(|k| !known(k))
        .collect();
    if unknown.is_empty() {
        return Ok(());
    }
    unknown.sort_unstable();
    let mut names: Vec<&str> = spec
        .iter()
        .filter(|p| !p.rsible_internal)
        .map(|p| p.name)
        // Internal parameters (`_raw_params`, `_uses_shell`, ...) are listed too.
        .collect();
    names.sort_unstable();
    let mut aliases: Vec<&str> = spec
        .iter()
        .flat_map(|p| p.aliases.iter().copied())
        .collect();
    aliases.sort_unstable();
    let mut msg = format!(
        "Unsupported parameters for ({module}) module: {}. Supported parameters include: {}",
        unknown.join(", "),
        names.join(", ")
    );
    if !aliases.is_empty() {
        msg.push_str(&format!(" ({})", aliases.join(", ")));
    }
    msg.push('.');
    Err(ModuleFail::msg(msg))
}

/// Python's `type(value)` as printed in conversion errors.
fn py_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<class 'NoneType'>",
        Value::Bool(_) => "<class 'bool'>",
        Value::Number(n) if n.is_f64() => "<class 'float'>",
        Value::Number(_) => "<class 'int'>",
        Value::String(_) => "<class 'str'>",
        Value::Array(_) => "<class 'list'>",
        Value::Object(_) => "<class 'dict'>",
    }
}

/// Python's `str(value)`, as `type='str'` converts any value (containers
/// print as their repr: `{'a': 1}`, `[1, 'x']`).
fn py_str(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => rsible_pytext::float_repr(f),
            _ => n.to_string(),
        },
        Value::Array(items) => {
            let parts: Vec<String> = items.iter().map(py_repr).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Object(map) => {
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{}: {}", rsible_pytext::str_repr(k), py_repr(v)))
                .collect();
            format!("{{{}}}", parts.join(", "))
        }
    }
}

fn convert(p: &Param, v: Value, env: &BTreeMap<String, String>) -> Result<Value, ModuleFail> {
    if v.is_null() {
        return Ok(v);
    }
    let fail = |target: &str, why: String| {
        ModuleFail::msg(format!(
            "argument '{}' is of type {} and we were unable to convert to {target}: {why}",
            p.name,
            py_type(&v)
        ))
    };
    match p.kind {
        Kind::Raw => Ok(v),
        Kind::Dict => match &v {
            Value::Object(_) => Ok(v.clone()),
            _ => Err(fail(
                "dict",
                "dictionary requested, could not parse JSON or key=value".into(),
            )),
        },
        Kind::IntList => {
            let items = match &v {
                Value::Array(items) => items.clone(),
                Value::String(s) => s.split(',').map(|x| Value::String(x.to_string())).collect(),
                other => vec![other.clone()],
            };
            let int = Param::new(p.name, Kind::Int);
            items
                .into_iter()
                .map(|item| {
                    convert(&int, item.clone(), env).map_err(|_| {
                        ModuleFail::msg(format!(
                            "Elements value for option '{}' is of type {} and we were unable to convert to int: \"{}\" cannot be converted to an int",
                            p.name,
                            py_type(&item),
                            py_repr(&item)
                        ))
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Kind::Str => Ok(Value::String(py_str(&v))),
        Kind::Path => Ok(Value::String(expand_path(&py_str(&v), env))),
        // check_type_bool: only strings and numbers go through boolean().
        Kind::Bool if matches!(v, Value::Array(_) | Value::Object(_)) => Err(fail(
            "bool",
            format!("{} cannot be converted to a bool", py_type(&v)),
        )),
        Kind::Bool => match to_bool(&v) {
            Some(b) => Ok(Value::Bool(b)),
            None => Err(fail(
                "bool",
                format!(
                    "The value {} is not a valid boolean.  Valid booleans include: {}",
                    py_repr(&v),
                    VALID_BOOLEANS
                ),
            )),
        },
        // Ansible 2.18 converts through Decimal: "12", " 12 " and "1.0" are ints.
        Kind::Int => match &v {
            Value::Number(n) if n.is_i64() || n.is_u64() => Ok(v.clone()),
            Value::Number(n) => match n.as_f64() {
                Some(f) if f.fract() == 0.0 => Ok(Value::from(f as i64)),
                _ => Err(fail(
                    "int",
                    format!("\"{}\" cannot be converted to an int", py_repr(&v)),
                )),
            },
            Value::String(s) => {
                let t = s.trim();
                t.parse::<i64>()
                    .ok()
                    .or_else(|| {
                        t.parse::<f64>()
                            .ok()
                            .filter(|f| f.is_finite() && f.fract() == 0.0)
                            .map(|f| f as i64)
                    })
                    .map(Value::from)
                    .ok_or_else(|| {
                        fail(
                            "int",
                            format!("\"{}\" cannot be converted to an int", py_repr(&v)),
                        )
                    })
            }
            _ => Err(fail(
                "int",
                format!("\"{}\" cannot be converted to an int", py_repr(&v)),
            )),
        },
        Kind::List => match &v {
            Value::Array(items) => Ok(Value::Array(
                items.iter().map(|i| Value::String(py_str(i))).collect(),
            )),
            Value::String(s) => Ok(Value::Array(
                s.split(',').map(|x| Value::String(x.to_string())).collect(),
            )),
            Value::Number(_) | Value::Bool(_) => Ok(Value::Array(vec![Value::String(py_str(&v))])),
            _ => Err(fail(
                "list",
                format!("{} cannot be converted to a list", py_type(&v)),
            )),
        },
    }
}

// The order Ansible printed when this was recorded (it comes from a Python set).
const VALID_BOOLEANS: &str =
    "'yes', 1, 0, '1', 'n', 'off', '0', 'on', 'f', 'no', 't', 'true', 'false', 'y'";

fn py_repr(v: &Value) -> String {
    match v {
        Value::String(s) => rsible_pytext::str_repr(s),
        other => py_str(other),
    }
}

/// The strings of a validated `type='list'` parameter (empty when it is not given).
pub fn str_list(params: &Map<String, Value>, key: &str) -> Vec<String> {
    params
        .get(key)
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Ansible's boolean() as used for `type='bool'` parameters.
/// Whether a value as written in a task counts as true where apt's and dnf's
/// routing test it before any argument checking: Ansible's true strings
/// ("1.0" too, as `boolean(v, strict=False)` takes it), or a non-zero number.
pub fn loosely_true(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => matches!(
            s.to_lowercase().as_str(),
            "yes" | "on" | "1" | "true" | "y" | "t" | "1.0"
        ),
        _ => false,
    }
}

/// Whether a choice is one of Ansible's BOOLEANS_TRUE / BOOLEANS_FALSE strings
/// (a set lookup: exact case).
fn boolean_word(choice: &str) -> Option<bool> {
    match choice {
        "y" | "yes" | "on" | "1" | "true" | "t" => Some(true),
        "n" | "no" | "off" | "0" | "false" | "f" => Some(false),
        _ => None,
    }
}

pub fn to_bool(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => {
            let f = n.as_f64()?;
            if f == 1.0 {
                Some(true)
            } else if f == 0.0 {
                Some(false)
            } else {
                None
            }
        }
        Value::String(s) => match s.to_lowercase().as_str() {
            "y" | "yes" | "on" | "1" | "true" | "t" => Some(true),
            "n" | "no" | "off" | "0" | "false" | "f" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: &[Param] = &[
        Param::new("path", Kind::Path)
            .required()
            .aliases(&["dest", "name"]),
        Param::new("follow", Kind::Bool).default(ParamDefault::Bool(false)),
        Param::new("algo", Kind::Str)
            .default(ParamDefault::Str("sha1"))
            .choices(&["sha1", "md5"]),
        Param::new("secret", Kind::Str).no_log(),
    ];

    fn args(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn rsible_internal_parameters_are_neither_listed_nor_shown() {
        const WITH_INTERNAL: &[Param] = &[
            Param::new("path", Kind::Str),
            Param::new("_bytes", Kind::Str).no_log().rsible_internal(),
        ];
        let e = validate(
            "copy",
            WITH_INTERNAL,
            &args(json!({"path": "/x", "bogus": 1})),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert_eq!(
            e.0["msg"],
            json!("Unsupported parameters for (copy) module: bogus. Supported parameters include: path.")
        );
        for given in [
            json!({"path": "/x"}),
            json!({"path": "/x", "_bytes": "eA=="}),
        ] {
            let (params, invocation) =
                validate("copy", WITH_INTERNAL, &args(given), &BTreeMap::new()).unwrap();
            assert!(params.contains_key("_bytes"));
            assert_eq!(invocation, args(json!({"path": "/x"})));
        }
    }

    #[test]
    fn unsupported_parameters_message_matches_ansible() {
        let e = validate(
            "stat",
            SPEC,
            &args(json!({"path": "/x", "zz": 1, "bogus": 1})),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert_eq!(
            e.0["msg"],
            json!("Unsupported parameters for (stat) module: bogus, zz. Supported parameters include: algo, follow, path, secret (dest, name).")
        );
    }

    #[test]
    fn aliases_defaults_and_conversion() {
        let (p, inv) = validate(
            "x",
            SPEC,
            &args(json!({"dest": "/x", "follow": "yes", "secret": "pw"})),
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(p["path"], json!("/x"));
        assert_eq!(p["follow"], json!(true));
        assert_eq!(p["algo"], json!("sha1"));
        assert_eq!(p["secret"], json!("pw"));
        assert_eq!(inv["secret"], json!("VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"));
    }

    #[test]
    fn containers_convert_as_python_and_required_comes_first() {
        // Reference: file path=x follow=[true]; a str parameter given a dict.
        let e = validate(
            "x",
            SPEC,
            &args(json!({"path": "/x", "follow": [true]})),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert_eq!(e.0["msg"], json!("argument 'follow' is of type <class 'list'> and we were unable to convert to bool: <class 'list'> cannot be converted to a bool"));
        let (p, _) = validate(
            "x",
            SPEC,
            &args(json!({"path": "/x", "secret": {"a": [1, "b", null, 1.5]}})),
            &BTreeMap::new(),
        )
        .unwrap();
        assert_eq!(p["secret"], json!("{'a': [1, 'b', None, 1.5]}"));
        let e = validate(
            "x",
            SPEC,
            &args(json!({"follow": "maybe"})),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert_eq!(e.0["msg"], json!("missing required arguments: path"));
    }

    #[test]
    fn conversion_required_and_choice_errors() {
        // Reference: stat path=/x follow=maybe
        let e = validate(
            "x",
            SPEC,
            &args(json!({"path": "/x", "follow": "maybe"})),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert_eq!(e.0["msg"], json!("argument 'follow' is of type <class 'str'> and we were unable to convert to bool: The value 'maybe' is not a valid boolean.  Valid booleans include: 'yes', 1, 0, '1', 'n', 'off', '0', 'on', 'f', 'no', 't', 'true', 'false', 'y'"));
        let e = validate("x", SPEC, &args(json!({})), &BTreeMap::new()).unwrap_err();
        assert_eq!(e.0["msg"], json!("missing required arguments: path"));
        let e = validate(
            "x",
            SPEC,
            &args(json!({"path": "/x", "algo": "crc"})),
            &BTreeMap::new(),
        )
        .unwrap_err();
        assert_eq!(
            e.0["msg"],
            json!("value of algo must be one of: sha1, md5, got: crc")
        );
    }

    #[test]
    fn a_boolean_for_a_choice_of_strings_becomes_its_yes_or_no() {
        const CHOICE: &[Param] = &[
            Param::new("upgrade", Kind::Str).choices(&["dist", "no", "yes"]),
            Param::new("mode", Kind::Str).choices(&["a", "b"]),
        ];
        let check = |v: Value| validate("x", CHOICE, &args(v), &BTreeMap::new());
        let (p, inv) = check(json!({"upgrade": true})).unwrap();
        assert_eq!(
            (&p["upgrade"], &inv["upgrade"]),
            (&json!("yes"), &json!("yes"))
        );
        let (p, _) = check(json!({"upgrade": false})).unwrap();
        assert_eq!(p["upgrade"], json!("no"));
        // Without a boolean among the choices the value stays "True" and fails.
        let e = check(json!({"mode": true})).unwrap_err();
        assert_eq!(
            e.0["msg"],
            json!("value of mode must be one of: a, b, got: True")
        );
    }
}
