//! Ansible's undefined is strict: comparing it, testing its truth, feeding
//! it to a filter or a test, doing arithmetic with it all raise "'x' is
//! undefined"; only attribute lookups chain, and `is defined`/`is undefined`/
//! `default` look at it safely. minijinja's Chainable undefined (which the
//! templar needs for the chaining) lets it through comparisons, filters and
//! `not` silently, so `when: no_such_var.rc == 0` would be false instead of
//! an error.
//!
//! For conditionals we therefore rewrite the expression: every operand whose
//! value Python would have to look at is wrapped in a call to [`GUARD`],
//! which fails on an undefined value with the message of the last missing
//! lookup. The rewritten expression is printed from minijinja's own parse
//! tree, fully parenthesised, so its meaning is the original's.

use minijinja::machinery::ast::{self, CallArg, Expr};
use minijinja::value::ValueKind;
use minijinja::Value;

/// The function the rewritten expression calls on each guarded operand.
pub const GUARD: &str = "__rsible_defined_or_fail";

/// [`GUARD`] itself: the value, or the undefined error Ansible would raise.
pub fn register(env: &mut minijinja::Environment<'static>) {
    env.add_function(GUARD, |value: &Value| {
        if !value.is_undefined() {
            return Ok(value.clone());
        }
        let message = crate::context::with_current_frame(|_, f| f.last_missing()).flatten();
        Err(minijinja::Error::new(
            minijinja::ErrorKind::UndefinedError,
            message.unwrap_or_else(|| "an undefined variable was used".into()),
        ))
    });
    env.add_function(FILTER_INPUT_GUARD, |value: &Value, filter: &str| {
        if !value.is_undefined() {
            return Ok(value.clone());
        }
        let message = if filter.starts_with("ip") {
            format!(
                "Unrecognized type <<class 'ansible.template.native_helpers.AnsibleUndefined'>> for {} filter <value>",
                filter
            )
        } else {
            let undefined = crate::context::with_current_frame(|_, f| f.last_missing())
                .flatten()
                .unwrap_or_else(|| "an undefined variable was used".into());
            format!("{} - {}. {}", filter, undefined, undefined)
        };
        // Both kinds are AnsibleFilterError in Ansible.
        Err(
            crate::TemplateError::new(crate::ErrorKind::Other, message)
                .with_python_class(crate::error::ANSIBLE_FILTER_ERROR)
                .into_jinja(),
        )
    });
}

/// The function filters of [`FILTER_ERROR_INPUTS`] get their input through.
pub const FILTER_INPUT_GUARD: &str = "__rsible_filter_input";

/// Filters that report an undefined input as a filter error of their own
/// (not as an undefined variable: it then fails a template even when it
/// comes from a variable's value, see eager_resolve).
const FILTER_ERROR_INPUTS: &[&str] = &[
    "ipaddr",
    "ipwrap",
    "ipv4",
    "ipv6",
    "to_yaml",
    "to_nice_yaml",
];

/// Filters that take an undefined value without failing.
const SAFE_FILTERS: &[&str] = &["default", "d", "mandatory"];

/// Filters that may be given an undefined argument without failing: they
/// use an argument only in some cases (`default`'s fallback, `ternary`'s
/// branch not taken) and return it as it is, or hand their arguments on to
/// another filter (`map`); what they return fails where it is used. Every
/// other filter converts, compares or iterates its arguments, which Ansible's
/// strict undefined refuses ("'nope' is undefined").
const ARG_SAFE_FILTERS: &[&str] = &["default", "d", "ternary", "mandatory", "map"];

/// Tests that may be given an undefined argument: `sameas` compares identity.
const ARG_SAFE_TESTS: &[&str] = &["sameas"];

/// Functions whose positional arguments are always looked at (a lookup's
/// terms); their keyword options are only read when the plugin needs them.
const TERM_FUNCTIONS: &[&str] = &["lookup", "query", "q"];

/// Methods whose later arguments are only returned or stored (`dict.get`'s
/// default): their first argument is looked at, the rest not.
const FIRST_ARG_METHODS: &[&str] = &["get", "pop", "setdefault", "append", "insert"];

/// Tests whose Jinja/Ansible implementation does not touch an undefined
/// value (isinstance checks, or catch the error themselves).
const SAFE_TESTS: &[&str] = &[
    "defined",
    "undefined",
    "none",
    "string",
    "number",
    "mapping",
    "sequence",
    "boolean",
    "integer",
    "float",
    "true",
    "false",
    "callable",
    "sameas",
];

/// The expression with guarded operands, or None when nothing needs a guard
/// (or the expression cannot be parsed or printed: it is then compiled as
/// written, and reports its own errors).
pub fn guard_expression(source: &str) -> Option<String> {
    guard_expression_with(source, false)
}

/// Like [`guard_expression`]; `guard_top` also guards the expression's own
/// value (where its truth or its items are taken: `{% if %}`, `{% for %}`).
pub fn guard_expression_with(source: &str, guard_top: bool) -> Option<String> {
    let expr = minijinja::machinery::parse_expr(source).ok()?;
    let mut printer = Printer {
        out: String::with_capacity(source.len() * 2),
        guards: 0,
    };
    printer.expr(&expr, guard_top)?;
    (printer.guards > 0).then_some(printer.out)
}

struct Printer {
    out: String,
    guards: usize,
}

impl Printer {
    /// Prints `expr`, inside a guard call when `guard` is set.
    fn expr(&mut self, expr: &Expr<'_>, guard: bool) -> Option<()> {
        // Literals, tests and comparisons are never undefined.
        if guard && !matches!(expr, Expr::Const(_) | Expr::Test(_) | Expr::Compare(_)) {
            self.guards += 1;
            self.out.push_str(GUARD);
            self.out.push('(');
            self.bare(expr)?;
            self.out.push(')');
            return Some(());
        }
        self.bare(expr)
    }

    fn bare(&mut self, expr: &Expr<'_>) -> Option<()> {
        match expr {
            Expr::Var(v) => self.out.push_str(v.id),
            Expr::Const(c) => self.constant(&c.value)?,
            Expr::Slice(s) => {
                self.expr(&s.expr, false)?;
                self.out.push('[');
                if let Some(start) = &s.start {
                    self.expr(start, true)?;
                }
                self.out.push(':');
                if let Some(stop) = &s.stop {
                    self.expr(stop, true)?;
                }
                if let Some(step) = &s.step {
                    self.out.push(':');
                    self.expr(step, true)?;
                }
                self.out.push(']');
            }
            Expr::UnaryOp(u) => {
                self.out.push('(');
                self.out.push_str(match u.op {
                    ast::UnaryOpKind::Not => "not ",
                    ast::UnaryOpKind::Neg => "-",
                });
                self.expr(&u.expr, true)?;
                self.out.push(')');
            }
            Expr::BinOp(b) => {
                let (op, guard_right) = bin_op(b.op);
                self.out.push('(');
                self.expr(&b.left, true)?;
                self.out.push(' ');
                self.out.push_str(op);
                self.out.push(' ');
                // `a or b` gives b itself: only its later use may fail.
                self.expr(&b.right, guard_right)?;
                self.out.push(')');
            }
            Expr::Compare(c) => {
                self.out.push('(');
                self.expr(&c.expr, true)?;
                for op in &c.ops {
                    self.out.push(' ');
                    self.out.push_str(compare_op(op.op));
                    self.out.push(' ');
                    self.expr(&op.expr, true)?;
                }
                self.out.push(')');
            }
            Expr::IfExpr(i) => {
                self.out.push('(');
                self.expr(&i.true_expr, false)?;
                self.out.push_str(" if ");
                self.expr(&i.test_expr, true)?;
                self.out.push_str(" else ");
                match &i.false_expr {
                    Some(f) => self.expr(f, false)?,
                    // Jinja's missing else is its lenient Undefined: it
                    // prints as nothing, has length 0, joins as '' and is
                    // not none. minijinja's silent undefined would look like
                    // any undefined to the formatter, which fails on it; an
                    // empty string behaves alike except for `is defined`
                    // and `default` (see COMPATIBILITY.md)
                    None => {
                        self.guards += 1;
                        self.out.push_str("''");
                    }
                }
                self.out.push(')');
            }
            Expr::Filter(f) => {
                let input = f.expr.as_ref()?;
                let short = f.name.rsplit('.').next().unwrap_or(f.name);
                self.out.push('(');
                if FILTER_ERROR_INPUTS.contains(&short) {
                    self.guards += 1;
                    self.out.push_str(FILTER_INPUT_GUARD);
                    self.out.push('(');
                    self.expr(input, false)?;
                    self.out.push_str(", \"");
                    self.out.push_str(short);
                    self.out.push_str("\")");
                } else {
                    self.expr(input, !SAFE_FILTERS.contains(&short))?;
                }
                self.out.push_str(" | ");
                self.out.push_str(f.name);
                let guard_args = if ARG_SAFE_FILTERS.contains(&short) {
                    ArgGuard::None
                } else {
                    ArgGuard::All
                };
                self.args(&f.args, guard_args)?;
                self.out.push(')');
            }
            Expr::Test(t) => {
                let short = t.name.rsplit('.').next().unwrap_or(t.name);
                self.out.push('(');
                self.expr(&t.expr, !SAFE_TESTS.contains(&short))?;
                self.out.push_str(" is ");
                self.out.push_str(t.name);
                let guard_args = if ARG_SAFE_TESTS.contains(&short) {
                    ArgGuard::None
                } else {
                    ArgGuard::All
                };
                self.args(&t.args, guard_args)?;
                self.out.push(')');
            }
            Expr::GetAttr(g) => {
                self.expr(&g.expr, false)?;
                self.out.push('.');
                self.out.push_str(g.name);
            }
            Expr::GetItem(g) => {
                self.expr(&g.expr, false)?;
                self.out.push('[');
                self.expr(&g.subscript_expr, true)?;
                self.out.push(']');
            }
            Expr::Call(c) => {
                self.expr(&c.expr, false)?;
                self.args(&c.args, call_arg_guard(&c.expr))?;
            }
            Expr::List(l) => {
                self.out.push('[');
                self.items(&l.items)?;
                self.out.push(']');
            }
            Expr::Tuple(t) => {
                self.out.push('(');
                self.items(&t.items)?;
                if !t.items.is_empty() {
                    self.out.push(',');
                }
                self.out.push(')');
            }
            Expr::Map(m) => {
                self.out.push('{');
                for (i, (k, v)) in m.keys.iter().zip(m.values.iter()).enumerate() {
                    if i > 0 {
                        self.out.push_str(", ");
                    }
                    self.expr(k, false)?;
                    self.out.push_str(": ");
                    self.expr(v, false)?;
                }
                self.out.push('}');
            }
        }
        Some(())
    }

    fn items(&mut self, items: &[Expr<'_>]) -> Option<()> {
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            self.expr(item, false)?;
        }
        Some(())
    }

    fn args(&mut self, args: &[CallArg<'_>], guard: ArgGuard) -> Option<()> {
        self.out.push('(');
        let mut positional = 0usize;
        for (i, arg) in args.iter().enumerate() {
            if i > 0 {
                self.out.push_str(", ");
            }
            match arg {
                CallArg::Pos(e) => {
                    let guarded = match guard {
                        ArgGuard::None => false,
                        ArgGuard::All | ArgGuard::Positional => true,
                        ArgGuard::FirstPositional => positional == 0,
                    };
                    positional += 1;
                    self.expr(e, guarded)?
                }
                CallArg::Kwarg(name, e) => {
                    self.out.push_str(name);
                    self.out.push('=');
                    self.expr(e, matches!(guard, ArgGuard::All))?;
                }
                CallArg::PosSplat(e) => {
                    self.out.push('*');
                    self.expr(e, false)?;
                }
                CallArg::KwargSplat(e) => {
                    self.out.push_str("**");
                    self.expr(e, false)?;
                }
            }
        }
        self.out.push(')');
        Some(())
    }

    /// A literal as Jinja source that reads back as the same value.
    fn constant(&mut self, value: &Value) -> Option<()> {
        match value.kind() {
            ValueKind::None => self.out.push_str("none"),
            ValueKind::Bool => self
                .out
                .push_str(if value.is_true() { "true" } else { "false" }),
            ValueKind::Number => {
                if let Some(i) = value.as_i64() {
                    self.out.push_str(&i.to_string());
                } else if let Ok(f) = f64::try_from(value.clone()) {
                    if !f.is_finite() {
                        return None;
                    }
                    // `{:?}` keeps a fraction or exponent, so it reads back as a float.
                    self.out.push_str(&format!("{f:?}"));
                } else {
                    // integers beyond i64: their digits
                    self.out.push_str(&value.to_string());
                }
            }
            ValueKind::String => {
                let s = value.as_str()?;
                self.out.push('"');
                for ch in s.chars() {
                    match ch {
                        '"' => self.out.push_str("\\\""),
                        '\\' => self.out.push_str("\\\\"),
                        '\n' => self.out.push_str("\\n"),
                        '\r' => self.out.push_str("\\r"),
                        '\t' => self.out.push_str("\\t"),
                        c if (c as u32) < 0x20 => {
                            self.out.push_str(&format!("\\u{:04x}", c as u32));
                        }
                        c => self.out.push(c),
                    }
                }
                self.out.push('"');
            }
            _ => return None,
        }
        Some(())
    }
}

/// Which arguments of a call are looked at (then an undefined one fails).
#[derive(Clone, Copy)]
enum ArgGuard {
    None,
    All,
    Positional,
    FirstPositional,
}

/// A function call's guarded arguments: a lookup's terms, a method's
/// arguments (but what `get`-like methods only return or store). Other
/// global functions (`range`, `dict`, `lipsum`) are left as they were.
fn call_arg_guard(callee: &Expr<'_>) -> ArgGuard {
    match callee {
        Expr::Var(v) if TERM_FUNCTIONS.contains(&v.id) => ArgGuard::Positional,
        Expr::GetAttr(g) if FIRST_ARG_METHODS.contains(&g.name) => ArgGuard::FirstPositional,
        Expr::GetAttr(_) => ArgGuard::All,
        _ => ArgGuard::None,
    }
}

/// The operator's text, and whether its right operand is looked at.
fn bin_op(op: ast::BinOpKind) -> (&'static str, bool) {
    use ast::BinOpKind as B;
    match op {
        B::Eq => ("==", true),
        B::Ne => ("!=", true),
        B::Lt => ("<", true),
        B::Lte => ("<=", true),
        B::Gt => (">", true),
        B::Gte => (">=", true),
        B::ScAnd => ("and", false),
        B::ScOr => ("or", false),
        B::Add => ("+", true),
        B::Sub => ("-", true),
        B::Mul => ("*", true),
        B::Div => ("/", true),
        B::FloorDiv => ("//", true),
        B::Rem => ("%", true),
        B::Pow => ("**", true),
        B::Concat => ("~", true),
        B::In => ("in", true),
    }
}

fn compare_op(op: ast::CompareOpKind) -> &'static str {
    use ast::CompareOpKind as C;
    match op {
        C::Eq => "==",
        C::Ne => "!=",
        C::Lt => "<",
        C::Lte => "<=",
        C::Gt => ">",
        C::Gte => ">=",
        C::In => "in",
        C::NotIn => "not in",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guarded(s: &str) -> String {
        guard_expression(s).unwrap_or_else(|| "<unchanged>".into())
    }

    #[test]
    fn operands_that_python_would_look_at_are_guarded() {
        let g = GUARD;
        assert_eq!(guarded("x.rc == 0"), format!("({g}(x.rc) == 0)"));
        assert_eq!(guarded("x | bool"), format!("({g}(x) | bool())"));
        assert_eq!(guarded("not x"), format!("(not {g}(x))"));
        assert_eq!(
            guarded("x is version('1.0', '>=')"),
            format!("({g}(x) is version(\"1.0\", \">=\"))")
        );
        assert_eq!(
            guarded("x is not defined or x.rc == 0"),
            format!("({g}((not (x is defined()))) or ({g}(x.rc) == 0))")
        );
    }

    #[test]
    fn safe_uses_are_left_alone() {
        assert_eq!(guarded("x is defined"), "<unchanged>");
        assert_eq!(guarded("x | default(1)"), "<unchanged>");
        assert_eq!(guarded("x"), "<unchanged>");
        assert_eq!(guarded("x.y.z is undefined"), "<unchanged>");
    }

    #[test]
    fn literals_print_back_as_the_same_values() {
        let g = GUARD;
        assert_eq!(
            guarded("x == \"a\\\"b\\n\" ~ 'c\\\\' and y < 1.5"),
            format!("({g}(({g}(x) == {g}((\"a\\\"b\\n\" ~ \"c\\\\\")))) and ({g}(y) < 1.5))")
        );
    }

    #[test]
    fn unparsable_expressions_are_left_to_the_compiler() {
        assert_eq!(guarded("x =="), "<unchanged>");
    }
}
