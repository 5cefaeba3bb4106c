//! The entry points: text or file in, documents (and warnings) out.

use std::path::Path;
use std::sync::Arc;

use crate::compose::compose_all;
use crate::construct::Constructor;
use crate::error::{Error, ErrorKind};
use crate::error_context::pick_lines;
use crate::json::parse_json;
use crate::source::SourceText;
use crate::syntax_error::SyntaxError;
use crate::{Mark, Node, Value};

/// Documents plus the warnings Ansible would print while loading them
/// (duplicate keys). The CLI shows each as `[WARNING]: <text>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded<T> {
    pub value: T,
    pub warnings: Vec<String>,
}

/// All documents of a YAML stream (or the one value of a JSON text).
pub fn load_str(text: &str, source: Option<&str>) -> Result<Vec<Node>, Error> {
    load_str_with_warnings(text, source).map(|l| l.value)
}

/// [`load_str`], also returning duplicate-key warnings.
pub fn load_str_with_warnings(
    text: &str,
    source: Option<&str>,
) -> Result<Loaded<Vec<Node>>, Error> {
    let source: Option<Arc<str>> = source.map(Arc::from);
    let json_error = match parse_json(text, source.clone()) {
        Ok(node) => {
            return Ok(Loaded {
                value: vec![node],
                warnings: Vec::new(),
            })
        }
        Err(message) => message,
    };
    let yaml_text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let src = SourceText::new(yaml_text);
    let fail = |e: SyntaxError| to_error(e, &source, text, &json_error);
    let stream = compose_all(&src).map_err(fail)?;
    let mut constructor = Constructor::new(source.clone(), text.len());
    let mut documents = Vec::with_capacity(stream.documents.len());
    let mut warnings = Vec::new();
    for raw in &stream.documents {
        documents.push(constructor.construct(raw).map_err(fail)?);
        warnings.extend(constructor.take_warnings());
    }
    Ok(Loaded {
        value: documents,
        warnings,
    })
}

/// Ansible's "data from a file" case: exactly one document; an empty text is
/// `Null`; a second document is an error, as PyYAML's `get_single_data` has it.
pub fn load_one(text: &str, source: Option<&str>) -> Result<Node, Error> {
    load_one_with_warnings(text, source).map(|l| l.value)
}

/// [`load_one`], also returning duplicate-key warnings.
pub fn load_one_with_warnings(text: &str, source: Option<&str>) -> Result<Loaded<Node>, Error> {
    let source_arc: Option<Arc<str>> = source.map(Arc::from);
    if let Ok(node) = parse_json(text, source_arc.clone()) {
        return Ok(Loaded {
            value: node,
            warnings: Vec::new(),
        });
    }
    let yaml_text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let stream = compose_all(&SourceText::new(yaml_text));
    if let Ok(stream) = &stream {
        if let (Some(first), Some(second)) = (stream.starts.first(), stream.starts.get(1)) {
            let json_error = parse_json(text, None).err().unwrap_or_default();
            let err = SyntaxError::with_context(
                "expected a single document in the stream",
                *first,
                "but found another document",
                *second,
            );
            return Err(to_error(err, &source_arc, text, &json_error));
        }
    }
    let loaded = load_str_with_warnings(text, source)?;
    let mut documents = loaded.value.into_iter();
    let value = documents
        .next()
        .unwrap_or_else(|| Node::new(Value::Null, Mark::new(source_arc, 1, 1)));
    Ok(Loaded {
        value,
        warnings: loaded.warnings,
    })
}

/// All documents of a file (UTF-8, a leading BOM tolerated); marks name `path`.
pub fn load_file(path: &Path) -> Result<Vec<Node>, Error> {
    load_file_with_warnings(path).map(|l| l.value)
}

/// [`load_file`], also returning duplicate-key warnings.
pub fn load_file_with_warnings(path: &Path) -> Result<Loaded<Vec<Node>>, Error> {
    let (text, name) = read_text(path)?;
    load_str_with_warnings(&text, Some(&name))
}

/// [`load_one`] on a file: what Ansible's `DataLoader.load_from_file` returns.
pub fn load_one_file(path: &Path) -> Result<Loaded<Node>, Error> {
    let (text, name) = read_text(path)?;
    load_one_with_warnings(&text, Some(&name))
}

fn read_text(path: &Path) -> Result<(String, String), Error> {
    let name = path.to_string_lossy().into_owned();
    // A vault-encrypted file is opened with the run's secrets, as Ansible's
    // loader does for every file it reads.
    let bytes = rsible_vault::read_file(path).map_err(|e| match e {
        rsible_vault::ReadError::Vault(v) => Error::io(v.to_string()),
        rsible_vault::ReadError::Io(e) => Error::io(format!(
            "an error occurred while trying to read the file '{name}': {e}"
        )),
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        Error::io(format!(
            "an error occurred while trying to read the file '{name}': invalid UTF-8 at byte {}",
            e.utf8_error().valid_up_to()
        ))
    })?;
    Ok((text, name))
}

fn to_error(err: SyntaxError, source: &Option<Arc<str>>, text: &str, json_error: &str) -> Error {
    let mark = |(line, column): (u32, u32)| Mark::new(source.clone(), line, column);
    let lines = pick_lines(text, err.problem_mark.0);
    Error {
        kind: ErrorKind::Syntax,
        message: err.problem,
        mark: Some(mark(err.problem_mark)),
        offending_line: lines.as_ref().map(|(_, target)| target.clone()),
        previous_line: lines.map(|(previous, _)| previous),
        context: err.context,
        context_mark: err.context_mark.map(mark),
        json_error: Some(json_error.to_string()),
    }
}
