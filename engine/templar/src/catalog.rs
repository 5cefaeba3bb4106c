//! What the templar knows by name: filters, tests, lookups and global
//! functions. Used by the census check (`examples/census_gaps.rs`) to list
//! what a repository uses that rsible does not implement.

use minijinja::ErrorKind as MjKind;

use crate::templar::{JinjaOptions, Templar};

impl Templar {
    /// Is `name` a filter (`x | name`)?
    pub fn knows_filter(&self, name: &str) -> bool {
        self.probe(&format!("none | {}", name), MjKind::UnknownFilter)
    }

    /// Is `name` a test (`x is name`)?
    pub fn knows_test(&self, name: &str) -> bool {
        self.probe(&format!("none is {}", name), MjKind::UnknownTest)
    }

    /// Is `name` a global function (`name()`)?
    pub fn knows_function(&self, name: &str) -> bool {
        self.probe(&format!("{}()", name), MjKind::UnknownFunction)
    }

    /// Is `name` a lookup plugin (`lookup('name')`, `with_name`)?
    pub fn knows_lookup(&self, name: &str) -> bool {
        crate::lookups::is_known(name)
    }

    /// Compiles and runs an expression: unknown names show up as an error of
    /// `unknown` kind, at compile or at run time; any other error (missing
    /// arguments, wrong types) means the name exists.
    fn probe(&self, expr: &str, unknown: MjKind) -> bool {
        let env = self.env(JinjaOptions::default());
        let compiled = match env.compile_expression(expr) {
            Ok(c) => c,
            Err(e) => return e.kind() != unknown,
        };
        match compiled.eval(minijinja::context! {}) {
            Ok(_) => true,
            Err(e) => e.kind() != unknown,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tells_known_from_unknown_names() {
        let t = Templar::new();
        assert!(t.knows_filter("to_json"));
        assert!(t.knows_filter("ansible.builtin.to_json"));
        assert!(t.knows_filter("lower"));
        assert!(!t.knows_filter("no_such_filter"));
        assert!(t.knows_test("defined"));
        assert!(t.knows_test("version"));
        assert!(!t.knows_test("no_such_test"));
        assert!(t.knows_lookup("env"));
        assert!(t.knows_lookup("ansible.builtin.vars"));
        assert!(!t.knows_lookup("no_such_lookup"));
        assert!(t.knows_function("lookup"));
        assert!(!t.knows_function("no_such_function"));
    }
}
