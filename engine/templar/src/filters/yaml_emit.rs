//! A YAML emitter that writes what Ansible's `to_yaml`/`to_nice_yaml` write:
//! PyYAML's `SafeRepresenter` choosing node kinds and collection styles, and
//! libyaml's emitter (Ansible dumps through `CSafeDumper`) choosing scalar
//! quoting, indentation and line folding.
//!
//! The emitter follows libyaml's rules rather than pure PyYAML's where they
//! differ: columns count characters but simple-key length counts UTF-8
//! bytes; characters above U+FFFF are escaped (`\U0001F600`); double-quoted
//! text folds only at spaces.

use minijinja::value::{Value, ValueKind};

use crate::python_repr::float_repr;
use crate::value_conv::vault_ciphertext;

/// The `yaml.dump` arguments Ansible's filters pass or let through.
#[derive(Clone, Debug)]
pub struct DumpOptions {
    pub indent: i64,
    pub width: i64,
    /// `None`: collections of scalars only are written in flow style.
    pub default_flow_style: Option<bool>,
    pub sort_keys: bool,
    pub allow_unicode: bool,
    pub explicit_start: bool,
    pub explicit_end: bool,
}

impl Default for DumpOptions {
    fn default() -> Self {
        DumpOptions {
            indent: 2,
            width: 80,
            default_flow_style: None,
            sort_keys: true,
            allow_unicode: true,
            explicit_start: false,
            explicit_end: false,
        }
    }
}

/// The representation graph (PyYAML's nodes), without tags: every value the
/// templar produces resolves implicitly.
enum Node {
    Scalar {
        text: String,
        /// Written plain, would the text be read back as this value? (false
        /// for strings such as `'123'` or `'yes'`: they must be quoted).
        plain_implicit: bool,
    },
    Seq {
        items: Vec<Node>,
        flow: bool,
    },
    Map {
        pairs: Vec<(Node, Node)>,
        flow: bool,
    },
}

/// Dumps one value as a YAML document.
pub fn dump(value: &Value, opts: &DumpOptions) -> Result<String, String> {
    let node = represent(value, opts, 0)?;
    let mut e = Emitter::new(opts);
    e.document(&node, opts);
    Ok(e.out)
}

const MAX_DEPTH: usize = 500;

fn represent(value: &Value, opts: &DumpOptions, depth: usize) -> Result<Node, String> {
    if depth > MAX_DEPTH {
        return Err("maximum recursion depth exceeded while representing an object".into());
    }
    if vault_ciphertext(value).is_some() {
        return Err("vaulted values cannot be written as YAML yet (not implemented)".into());
    }
    let plain = |text: String| Node::Scalar {
        text,
        plain_implicit: true,
    };
    Ok(match value.kind() {
        ValueKind::Undefined => return Err("an undefined variable was used".into()),
        ValueKind::None => plain("null".into()),
        ValueKind::Bool => plain(if value.is_true() { "true" } else { "false" }.into()),
        ValueKind::Number => {
            if value.is_integer() {
                plain(value.to_string())
            } else {
                plain(float_text(f64::try_from(value.clone()).unwrap_or(f64::NAN)))
            }
        }
        ValueKind::String => {
            let text = value.as_str().unwrap_or_default().to_string();
            let plain_implicit = rsible_yaml::plain_text_is_str(&text);
            Node::Scalar {
                text,
                plain_implicit,
            }
        }
        ValueKind::Seq => {
            let iter = value.try_iter().map_err(|e| e.to_string())?;
            let items = iter
                .map(|v| represent(&v, opts, depth + 1))
                .collect::<Result<Vec<_>, _>>()?;
            let flow = opts
                .default_flow_style
                .unwrap_or_else(|| items.iter().all(|n| matches!(n, Node::Scalar { .. })));
            Node::Seq { items, flow }
        }
        ValueKind::Map => {
            let iter = value.try_iter().map_err(|e| e.to_string())?;
            let mut entries: Vec<(Value, Value)> = iter
                .map(|k| {
                    let v = value.get_item(&k).unwrap_or_default();
                    (k, v)
                })
                .collect();
            if opts.sort_keys {
                sort_python(&mut entries)?;
            }
            let mut pairs = Vec::with_capacity(entries.len());
            for (k, v) in &entries {
                pairs.push((
                    represent(k, opts, depth + 1)?,
                    represent(v, opts, depth + 1)?,
                ));
            }
            let flow = opts.default_flow_style.unwrap_or_else(|| {
                pairs.iter().all(|(k, v)| {
                    matches!(k, Node::Scalar { .. }) && matches!(v, Node::Scalar { .. })
                })
            });
            Node::Map { pairs, flow }
        }
        _ => {
            return Err(format!(
                "cannot represent an object: {}",
                crate::python_repr::repr(value)
            ))
        }
    })
}

/// `SafeRepresenter.represent_float`: `repr()` lower-cased, with `.0` added
/// before an exponent so the text still resolves as a float.
fn float_text(f: f64) -> String {
    if f.is_nan() {
        return ".nan".into();
    }
    if f.is_infinite() {
        return if f > 0.0 { ".inf" } else { "-.inf" }.into();
    }
    let text = float_repr(f).to_lowercase();
    if !text.contains('.') && text.contains('e') {
        text.replacen('e', ".0e", 1)
    } else {
        text
    }
}

/// `sorted(mapping.items())` as Python does it; mixed key types fail as
/// Python's comparison fails.
fn sort_python(entries: &mut [(Value, Value)]) -> Result<(), String> {
    let mut failure = None;
    entries.sort_by(|(a, _), (b, _)| match python_cmp(a, b) {
        Ok(o) => o,
        Err(e) => {
            failure.get_or_insert(e);
            std::cmp::Ordering::Equal
        }
    });
    match failure {
        Some(e) => Err(e),
        None => Ok(()),
    }
}

fn python_cmp(a: &Value, b: &Value) -> Result<std::cmp::Ordering, String> {
    let numeric = |v: &Value| matches!(v.kind(), ValueKind::Number | ValueKind::Bool);
    if numeric(a) && numeric(b) {
        let x = f64::try_from(a.clone()).unwrap_or(if a.is_true() { 1.0 } else { 0.0 });
        let y = f64::try_from(b.clone()).unwrap_or(if b.is_true() { 1.0 } else { 0.0 });
        return Ok(x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal));
    }
    if let (Some(x), Some(y)) = (a.as_str(), b.as_str()) {
        return Ok(x.cmp(y));
    }
    Err(format!(
        "'<' not supported between instances of '{}' and '{}'",
        crate::python_types::type_name(b),
        crate::python_types::type_name(a)
    ))
}

/// libyaml's `yaml_emitter_analyze_scalar` result.
struct Analysis {
    multiline: bool,
    flow_plain_allowed: bool,
    block_plain_allowed: bool,
    single_quoted_allowed: bool,
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

fn is_blankz(c: Option<char>) -> bool {
    match c {
        None => true,
        Some(c) => c == ' ' || c == '\t' || c == '\0' || is_break(c),
    }
}

/// libyaml's `IS_PRINTABLE`: note that U+0085 and everything above U+FFFF
/// are not printable, so they force double quotes and escapes.
fn is_printable(c: char) -> bool {
    let u = c as u32;
    u == 0x0A
        || (0x20..=0x7E).contains(&u)
        || (0xA0..=0xD7FF).contains(&u)
        || ((0xE000..=0xFFFD).contains(&u) && u != 0xFEFF)
}

fn analyze(text: &str, allow_unicode: bool) -> Analysis {
    if text.is_empty() {
        return Analysis {
            multiline: false,
            flow_plain_allowed: false,
            block_plain_allowed: true,
            single_quoted_allowed: true,
        };
    }
    let chars: Vec<char> = text.chars().collect();
    let mut block_indicators = false;
    let mut flow_indicators = false;
    if text.starts_with("---") || text.starts_with("...") {
        block_indicators = true;
        flow_indicators = true;
    }
    let (mut line_breaks, mut special) = (false, false);
    let (mut leading_space, mut leading_break) = (false, false);
    let (mut trailing_space, mut trailing_break) = (false, false);
    let (mut break_space, mut space_break) = (false, false);
    let (mut previous_space, mut previous_break) = (false, false);
    let mut preceded_by_whitespace = true;
    let last = chars.len() - 1;
    for (i, &c) in chars.iter().enumerate() {
        let followed_by_whitespace = is_blankz(chars.get(i + 1).copied());
        if i == 0 {
            if "#,[]{}&*!|>'\"%@`".contains(c) {
                flow_indicators = true;
                block_indicators = true;
            }
            if c == '?' || c == ':' {
                flow_indicators = true;
                if followed_by_whitespace {
                    block_indicators = true;
                }
            }
            if c == '-' && followed_by_whitespace {
                flow_indicators = true;
                block_indicators = true;
            }
        } else {
            if ",?[]{}".contains(c) {
                flow_indicators = true;
            }
            if c == ':' {
                flow_indicators = true;
                if followed_by_whitespace {
                    block_indicators = true;
                }
            }
            if c == '#' && preceded_by_whitespace {
                flow_indicators = true;
                block_indicators = true;
            }
        }
        if !is_printable(c) || (!c.is_ascii() && !allow_unicode) {
            special = true;
        }
        if is_break(c) {
            line_breaks = true;
        }
        if c == ' ' {
            leading_space |= i == 0;
            trailing_space |= i == last;
            break_space |= previous_break;
            previous_space = true;
            previous_break = false;
        } else if is_break(c) {
            leading_break |= i == 0;
            trailing_break |= i == last;
            space_break |= previous_space;
            previous_space = false;
            previous_break = true;
        } else {
            previous_space = false;
            previous_break = false;
        }
        preceded_by_whitespace = is_blankz(Some(c));
    }
    let mut a = Analysis {
        multiline: line_breaks,
        flow_plain_allowed: true,
        block_plain_allowed: true,
        single_quoted_allowed: true,
    };
    if leading_space || leading_break || trailing_space || trailing_break {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if break_space {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if space_break || special {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
        a.single_quoted_allowed = false;
    }
    if line_breaks {
        a.flow_plain_allowed = false;
        a.block_plain_allowed = false;
    }
    if flow_indicators {
        a.flow_plain_allowed = false;
    }
    if block_indicators {
        a.block_plain_allowed = false;
    }
    a
}

#[derive(Clone, Copy, PartialEq)]
enum Style {
    Plain,
    Single,
    Double,
}

/// libyaml's emitter state, for one document.
struct Emitter {
    out: String,
    best_indent: i64,
    best_width: i64,
    allow_unicode: bool,
    indent: i64,
    indents: Vec<i64>,
    flow_level: usize,
    column: i64,
    whitespace: bool,
    indention: bool,
    mapping_context: bool,
    simple_key_context: bool,
}

impl Emitter {
    fn new(opts: &DumpOptions) -> Self {
        let best_indent = if opts.indent > 1 && opts.indent < 10 {
            opts.indent
        } else {
            2
        };
        let best_width = if opts.width < 0 {
            i64::MAX
        } else if opts.width <= best_indent * 2 {
            80
        } else {
            opts.width
        };
        Emitter {
            out: String::new(),
            best_indent,
            best_width,
            allow_unicode: opts.allow_unicode,
            indent: -1,
            indents: Vec::new(),
            flow_level: 0,
            column: 0,
            whitespace: true,
            indention: true,
            mapping_context: false,
            simple_key_context: false,
        }
    }

    fn document(&mut self, root: &Node, opts: &DumpOptions) {
        if opts.explicit_start {
            self.write_indent();
            self.write_indicator("---", true, false, false);
        }
        self.node(root, false, true, false);
        self.write_indent();
        if opts.explicit_end {
            self.write_indicator("...", true, false, false);
            self.write_indent();
        }
    }

    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    /// A line break taken from the scalar (`\n` is written as the
    /// configured break, the others as themselves).
    fn write_break(&mut self, c: char) {
        if c == '\n' {
            self.put_break();
        } else {
            self.out.push(c);
            self.column = 0;
        }
    }

    fn write_indent(&mut self) {
        let indent = self.indent.max(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn write_indicator(&mut self, ind: &str, need_ws: bool, is_ws: bool, is_indention: bool) {
        if need_ws && !self.whitespace {
            self.put(' ');
        }
        for c in ind.chars() {
            self.put(c);
        }
        self.whitespace = is_ws;
        self.indention = self.indention && is_indention;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { self.best_indent } else { 0 };
        } else if !indentless {
            self.indent += self.best_indent;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn node(&mut self, node: &Node, sequence: bool, mapping: bool, simple_key: bool) {
        let _ = sequence;
        self.mapping_context = mapping;
        self.simple_key_context = simple_key;
        match node {
            Node::Scalar {
                text,
                plain_implicit,
            } => self.scalar(text, *plain_implicit),
            Node::Seq { items, flow } => {
                if self.flow_level > 0 || *flow || items.is_empty() {
                    self.flow_sequence(items);
                } else {
                    self.block_sequence(items);
                }
            }
            Node::Map { pairs, flow } => {
                if self.flow_level > 0 || *flow || pairs.is_empty() {
                    self.flow_mapping(pairs);
                } else {
                    self.block_mapping(pairs);
                }
            }
        }
    }

    fn flow_sequence(&mut self, items: &[Node]) {
        self.write_indicator("[", true, true, false);
        self.increase_indent(true, false);
        self.flow_level += 1;
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.write_indicator(",", false, false, false);
            }
            if self.column > self.best_width {
                self.write_indent();
            }
            self.node(item, true, false, false);
        }
        self.flow_level -= 1;
        self.pop_indent();
        self.write_indicator("]", false, false, false);
    }

    fn flow_mapping(&mut self, pairs: &[(Node, Node)]) {
        self.write_indicator("{", true, true, false);
        self.increase_indent(true, false);
        self.flow_level += 1;
        for (i, (k, v)) in pairs.iter().enumerate() {
            if i > 0 {
                self.write_indicator(",", false, false, false);
            }
            if self.column > self.best_width {
                self.write_indent();
            }
            if is_simple_key(k, self.allow_unicode) {
                self.node(k, false, true, true);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, false);
                self.node(k, false, true, false);
                if self.column > self.best_width {
                    self.write_indent();
                }
                self.write_indicator(":", true, false, false);
            }
            self.node(v, false, true, false);
        }
        self.flow_level -= 1;
        self.pop_indent();
        self.write_indicator("}", false, false, false);
    }

    fn block_sequence(&mut self, items: &[Node]) {
        // A sequence that is a mapping's value is "indentless": its dashes
        // line up with the key.
        let indentless = self.mapping_context && !self.indention;
        self.increase_indent(false, indentless);
        for item in items {
            self.write_indent();
            self.write_indicator("-", true, false, true);
            self.node(item, true, false, false);
        }
        self.pop_indent();
    }

    fn block_mapping(&mut self, pairs: &[(Node, Node)]) {
        self.increase_indent(false, false);
        for (k, v) in pairs {
            self.write_indent();
            if is_simple_key(k, self.allow_unicode) {
                self.node(k, false, true, true);
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.node(k, false, true, false);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(v, false, true, false);
        }
        self.pop_indent();
    }

    fn scalar(&mut self, text: &str, plain_implicit: bool) {
        let a = analyze(text, self.allow_unicode);
        let style = self.choose_style(text, plain_implicit, &a);
        self.increase_indent(true, false);
        let allow_breaks = !self.simple_key_context;
        match style {
            Style::Plain => self.write_plain(text, allow_breaks),
            Style::Single => self.write_single_quoted(text, allow_breaks),
            Style::Double => self.write_double_quoted(text, allow_breaks),
        }
        self.pop_indent();
    }

    fn choose_style(&self, text: &str, plain_implicit: bool, a: &Analysis) -> Style {
        if self.simple_key_context && a.multiline {
            return Style::Double;
        }
        let mut style = Style::Plain;
        let flow = self.flow_level > 0;
        if (flow && !a.flow_plain_allowed) || (!flow && !a.block_plain_allowed) {
            style = Style::Single;
        }
        if text.is_empty() && (flow || self.simple_key_context) {
            style = Style::Single;
        }
        if !plain_implicit {
            style = Style::Single;
        }
        if style == Style::Single && !a.single_quoted_allowed {
            style = Style::Double;
        }
        style
    }

    fn write_plain(&mut self, text: &str, allow_breaks: bool) {
        if !self.whitespace && (!text.is_empty() || self.flow_level > 0) {
            self.put(' ');
        }
        let chars: Vec<char> = text.chars().collect();
        let (mut spaces, mut breaks) = (false, false);
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks && !spaces && self.column > self.best_width && !next_space {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        self.whitespace = false;
        self.indention = false;
    }

    fn write_single_quoted(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("'", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let last = chars.len().saturating_sub(1);
        let (mut spaces, mut breaks) = (false, false);
        for (i, &c) in chars.iter().enumerate() {
            if c == ' ' {
                let next_space = chars.get(i + 1) == Some(&' ');
                if allow_breaks
                    && !spaces
                    && self.column > self.best_width
                    && i != 0
                    && i != last
                    && !next_space
                {
                    self.write_indent();
                } else {
                    self.put(c);
                }
                spaces = true;
            } else if is_break(c) {
                if !breaks && c == '\n' {
                    self.put_break();
                }
                self.write_break(c);
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                }
                self.put(c);
                if c == '\'' {
                    self.put('\'');
                }
                self.indention = false;
                spaces = false;
                breaks = false;
            }
        }
        if breaks {
            self.write_indent();
        }
        self.write_indicator("'", false, false, false);
    }

    fn write_double_quoted(&mut self, text: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let chars: Vec<char> = text.chars().collect();
        let last = chars.len().saturating_sub(1);
        let mut spaces = false;
        for (i, &c) in chars.iter().enumerate() {
            let escape = !is_printable(c)
                || (!self.allow_unicode && !c.is_ascii())
                || c == '\u{feff}'
                || is_break(c)
                || c == '"'
                || c == '\\';
            if escape {
                self.put('\\');
                let code = match c {
                    '\0' => "0".to_string(),
                    '\x07' => "a".into(),
                    '\x08' => "b".into(),
                    '\t' => "t".into(),
                    '\n' => "n".into(),
                    '\x0b' => "v".into(),
                    '\x0c' => "f".into(),
                    '\r' => "r".into(),
                    '\x1b' => "e".into(),
                    '"' => "\"".into(),
                    '\\' => "\\".into(),
                    '\u{85}' => "N".into(),
                    '\u{a0}' => "_".into(),
                    '\u{2028}' => "L".into(),
                    '\u{2029}' => "P".into(),
                    c if (c as u32) <= 0xFF => format!("x{:02X}", c as u32),
                    c if (c as u32) <= 0xFFFF => format!("u{:04X}", c as u32),
                    c => format!("U{:08X}", c as u32),
                };
                for ch in code.chars() {
                    self.put(ch);
                }
                spaces = false;
            } else if c == ' ' {
                if allow_breaks && !spaces && self.column > self.best_width && i != 0 && i != last {
                    self.write_indent();
                    if chars.get(i + 1) == Some(&' ') {
                        self.put('\\');
                    }
                } else {
                    self.put(c);
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
    }
}

/// libyaml's `yaml_emitter_check_simple_key`: single-line scalars of at most
/// 128 bytes, and empty collections.
fn is_simple_key(node: &Node, allow_unicode: bool) -> bool {
    match node {
        Node::Scalar { text, .. } => !analyze(text, allow_unicode).multiline && text.len() <= 128,
        Node::Seq { items, .. } => items.is_empty(),
        Node::Map { pairs, .. } => pairs.is_empty(),
    }
}
