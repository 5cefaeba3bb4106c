//! Jinja resolves the names a template frame uses when the frame starts, not
//! when the expression using them runs: the whole template (or `{{ expr }}`)
//! looks up every variable it names at the start, each `for` body looks up
//! the new names it uses at the start of each iteration, even in branches
//! that are not taken. Ansible templates a variable's value on that lookup,
//! so a variable whose template fails (other than by being undefined) fails
//! the template even where the branch naming it is not taken. rsible looks
//! the same names up at the same points (`Frame::lookup` keeps the error as
//! the frame's fatal one).

use std::collections::HashSet;

use minijinja::machinery::ast::{CallArg, Expr, Stmt};
use minijinja::syntax::SyntaxConfig;
use minijinja::Value;

/// The function a `for` body calls first with the names it resolves.
pub const RESOLVE: &str = "__rsible_resolve";

/// Names Jinja treats as the loop's own, never looked up.
const SPECIAL: &[&str] = &["loop", "caller", "varargs", "kwargs", "self"];

/// Names a whole template resolves when it starts, and for each `for` loop
/// (in source order) the names its body resolves at each iteration.
pub struct TemplateNames {
    pub root: Vec<String>,
    pub loops: Vec<Vec<String>>,
}

/// The names of a template; None when it does not parse.
pub fn template_names(source: &str, syntax: SyntaxConfig) -> Option<TemplateNames> {
    let ast = minijinja::machinery::parse(source, "<template>", syntax).ok()?;
    let Stmt::Template(t) = &ast else {
        return None;
    };
    let mut collector = Collector { loops: Vec::new() };
    let mut known = HashSet::new();
    let mut root = Vec::new();
    collector.frame(&t.children, &mut known, &mut root);
    Some(TemplateNames {
        root,
        loops: collector.loops,
    })
}

/// The names one expression resolves (`{{ expr }}`, a conditional).
pub fn expression_names(source: &str) -> Vec<String> {
    let Ok(expr) = minijinja::machinery::parse_expr(source) else {
        return Vec::new();
    };
    let mut known = HashSet::new();
    let mut names = Vec::new();
    expr_names(&expr, &mut known, &mut names);
    names
}

/// [`RESOLVE`]: looks each named variable up; a variable whose template
/// failed stops the template with that error.
pub fn register(env: &mut minijinja::Environment<'static>) {
    env.add_function(RESOLVE, |names: minijinja::value::Rest<Value>| {
        let fatal = crate::context::with_current_frame(|id, f| {
            for name in names.iter() {
                if let Some(name) = name.as_str() {
                    f.lookup(id, name);
                }
            }
            f.fatal()
        })
        .flatten();
        match fatal {
            Some(e) => Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                e.message.clone(),
            )
            .with_source(e)),
            None => Ok(Value::from(false)),
        }
    });
}

struct Collector {
    loops: Vec<Vec<String>>,
}

impl Collector {
    /// Walks the statements of one frame, in source order.
    fn frame(&mut self, stmts: &[Stmt<'_>], known: &mut HashSet<String>, out: &mut Vec<String>) {
        for stmt in stmts {
            self.stmt(stmt, known, out);
        }
    }

    fn stmt(&mut self, stmt: &Stmt<'_>, known: &mut HashSet<String>, out: &mut Vec<String>) {
        match stmt {
            Stmt::Template(t) => self.frame(&t.children, known, out),
            Stmt::EmitExpr(e) => expr_names(&e.expr, known, out),
            Stmt::EmitRaw(_) => {}
            Stmt::IfCond(i) => {
                expr_names(&i.expr, known, out);
                self.frame(&i.true_body, known, out);
                self.frame(&i.false_body, known, out);
            }
            Stmt::ForLoop(f) => {
                expr_names(&f.iter, known, out);
                // the body is a frame of its own, entered at each iteration;
                // its slot is taken now so that loops keep source order
                let slot = self.loops.len();
                self.loops.push(Vec::new());
                let mut inner = known.clone();
                target_names(&f.target, &mut inner);
                let mut body_names = Vec::new();
                if let Some(filter) = &f.filter_expr {
                    let mut seen = inner.clone();
                    let mut ignored = Vec::new();
                    expr_names(filter, &mut seen, &mut ignored);
                }
                self.frame(&f.body, &mut inner, &mut body_names);
                self.loops[slot] = body_names;
                let mut else_known = known.clone();
                let mut ignored = Vec::new();
                self.frame(&f.else_body, &mut else_known, &mut ignored);
            }
            Stmt::Set(s) => {
                expr_names(&s.expr, known, out);
                target_names(&s.target, known);
            }
            Stmt::SetBlock(s) => {
                let mut inner = known.clone();
                let mut ignored = Vec::new();
                self.frame(&s.body, &mut inner, &mut ignored);
                target_names(&s.target, known);
            }
            Stmt::WithBlock(w) => {
                let mut inner = known.clone();
                for (target, value) in &w.assignments {
                    expr_names(value, known, out);
                    target_names(target, &mut inner);
                }
                let mut ignored = Vec::new();
                self.frame(&w.body, &mut inner, &mut ignored);
            }
            Stmt::AutoEscape(a) => self.frame(&a.body, known, out),
            Stmt::FilterBlock(f) => {
                let mut inner = known.clone();
                let mut ignored = Vec::new();
                self.frame(&f.body, &mut inner, &mut ignored);
            }
            Stmt::Macro(m) => {
                known.insert(m.name.to_string());
                let mut inner = known.clone();
                let mut ignored = Vec::new();
                self.frame(&m.body, &mut inner, &mut ignored);
            }
            Stmt::CallBlock(c) => {
                expr_names(&c.call.expr, known, out);
                args_names(&c.call.args, known, out);
                let mut inner = known.clone();
                let mut ignored = Vec::new();
                self.frame(&c.macro_decl.body, &mut inner, &mut ignored);
            }
            Stmt::Do(d) => {
                expr_names(&d.call.expr, known, out);
                args_names(&d.call.args, known, out);
            }
            Stmt::Block(b) => self.frame(&b.body, known, out),
            Stmt::Import(_)
            | Stmt::FromImport(_)
            | Stmt::Extends(_)
            | Stmt::Include(_)
            | Stmt::Continue(_)
            | Stmt::Break(_) => {}
        }
    }
}

/// Names an assignment target binds.
fn target_names(target: &Expr<'_>, known: &mut HashSet<String>) {
    match target {
        Expr::Var(v) => {
            known.insert(v.id.to_string());
        }
        Expr::Tuple(t) => {
            for item in &t.items {
                target_names(item, known);
            }
        }
        Expr::List(l) => {
            for item in &l.items {
                target_names(item, known);
            }
        }
        _ => {}
    }
}

/// Adds the variables `expr` loads that are not yet known.
fn expr_names(expr: &Expr<'_>, known: &mut HashSet<String>, out: &mut Vec<String>) {
    match expr {
        Expr::Var(v) => {
            if !SPECIAL.contains(&v.id)
                && !v.id.starts_with("__rsible_")
                && known.insert(v.id.to_string())
            {
                out.push(v.id.to_string());
            }
        }
        Expr::Const(_) => {}
        Expr::Slice(s) => {
            expr_names(&s.expr, known, out);
            for part in [&s.start, &s.stop, &s.step].into_iter().flatten() {
                expr_names(part, known, out);
            }
        }
        Expr::UnaryOp(u) => expr_names(&u.expr, known, out),
        Expr::BinOp(b) => {
            expr_names(&b.left, known, out);
            expr_names(&b.right, known, out);
        }
        Expr::Compare(c) => {
            expr_names(&c.expr, known, out);
            for op in &c.ops {
                expr_names(&op.expr, known, out);
            }
        }
        Expr::IfExpr(i) => {
            expr_names(&i.test_expr, known, out);
            expr_names(&i.true_expr, known, out);
            if let Some(f) = &i.false_expr {
                expr_names(f, known, out);
            }
        }
        Expr::Filter(f) => {
            if let Some(e) = &f.expr {
                expr_names(e, known, out);
            }
            args_names(&f.args, known, out);
        }
        Expr::Test(t) => {
            expr_names(&t.expr, known, out);
            args_names(&t.args, known, out);
        }
        Expr::GetAttr(g) => expr_names(&g.expr, known, out),
        Expr::GetItem(g) => {
            expr_names(&g.expr, known, out);
            expr_names(&g.subscript_expr, known, out);
        }
        Expr::Call(c) => {
            expr_names(&c.expr, known, out);
            args_names(&c.args, known, out);
        }
        Expr::List(l) => {
            for item in &l.items {
                expr_names(item, known, out);
            }
        }
        Expr::Tuple(t) => {
            for item in &t.items {
                expr_names(item, known, out);
            }
        }
        Expr::Map(m) => {
            for e in m.keys.iter().chain(m.values.iter()) {
                expr_names(e, known, out);
            }
        }
    }
}

fn args_names(args: &[CallArg<'_>], known: &mut HashSet<String>, out: &mut Vec<String>) {
    for arg in args {
        match arg {
            CallArg::Pos(e)
            | CallArg::Kwarg(_, e)
            | CallArg::PosSplat(e)
            | CallArg::KwargSplat(e) => expr_names(e, known, out),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_names_include_untaken_branches_but_not_loop_bodies() {
        let names = template_names(
            "{% if a %}{{ b }}{% else %}{% set c = d %}{{ c }}{% endif %}\
             {% for x in e %}{{ x ~ f ~ a }}{% for y in x %}{{ g }}{% endfor %}{% endfor %}",
            SyntaxConfig::default(),
        )
        .expect("parses");
        assert_eq!(names.root, ["a", "b", "d", "e"]);
        assert_eq!(
            names.loops,
            vec![vec!["f".to_string()], vec!["g".to_string()]]
        );
    }

    #[test]
    fn expression_names_in_order() {
        assert_eq!(
            expression_names("x if y else lookup('vars', z) | default(loop)"),
            ["y", "x", "lookup", "z"]
        );
    }
}
