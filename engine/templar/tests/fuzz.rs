//! The templar never panics, whatever the template: strings assembled from
//! Jinja fragments, Kubespray-style expressions and random bytes by a seeded
//! generator go through every entry point (task strings, template files,
//! conditionals); each must return Ok or Err.

use std::panic::{catch_unwind, AssertUnwindSafe};

use rsible_templar::{JinjaOptions, MapVars, Templar, Value};

/// xorshift64*: deterministic, so a failure names a reproducible case.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

const FRAGMENTS: &[&str] = &[
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "{{-",
    "-}}",
    "{%-",
    "-%}",
    " ",
    "\n",
    "\\",
    "'",
    "\"",
    "a",
    "b",
    "d",
    "l",
    "s",
    "n",
    "x",
    "r",
    "item",
    "hostvars",
    "groups",
    "omit",
    "vars",
    ".",
    "[",
    "]",
    "(",
    ")",
    "{",
    "}",
    ",",
    ":",
    "|",
    "~",
    "+",
    "-",
    "*",
    "/",
    "//",
    "%",
    "**",
    "==",
    "!=",
    "<",
    ">=",
    " is ",
    " in ",
    " not ",
    " and ",
    " or ",
    " if ",
    " else ",
    "0",
    "1",
    "-1",
    "1.5",
    "1e309",
    "99999999999999999999999",
    "None",
    "True",
    "none",
    "true",
    "for ",
    "endfor",
    "if ",
    "endif",
    "set ",
    "endset",
    "macro ",
    "endmacro",
    "raw",
    "endraw",
    "loop.index",
    "loop.last",
    "range(3)",
    "range(99999999999)",
    "lookup('env', 'HOME')",
    "lookup('nope')",
    "query('items', l)",
    "undef()",
    "l.append(1)",
    "d.update({})",
    "d.pop('x')",
    "s.split()",
    "s.format(1)",
    "'%s' % l",
    "'%d' % 'x'",
    "l[::0]",
    "l[1:-1:2]",
    "|default",
    "|int",
    "|float",
    "|string",
    "|bool",
    "|to_json",
    "|to_nice_yaml",
    "|from_json",
    "|from_yaml",
    "|regex_replace('(', '')",
    "|regex_search('[')",
    "|b64decode",
    "|hash('x')",
    "|ansible.utils.ipaddr('net')",
    "|ansible.utils.ipaddr(-1)",
    "|ipmath(-99999999999)",
    "|json_query('[?')",
    "|json_query('a.b')",
    "|urlsplit('port')",
    "|password_hash('x')",
    "|combine(d, recursive=true)",
    "|dict2items",
    "|items2dict",
    "|flatten(levels=-1)",
    "|indent(-5)",
    "|center(-1)",
    "|truncate(-3)",
    "|wordwrap(0)",
    "|random",
    "|shuffle",
    "|human_to_bytes",
    "|version('1', '>')",
    "|map('extract', hostvars)",
    "|product(l)",
    "#jinja2: trim_blocks: False\n",
    "#jinja2:lstrip_blocks: yes\n",
    "\u{e9}",
    "\u{0}",
    "\u{ffff}",
];

fn random_template(rng: &mut Rng) -> String {
    let mut s = String::new();
    for _ in 0..rng.below(24) + 1 {
        if rng.below(10) == 0 {
            // a random Unicode scalar
            let c = char::from_u32((rng.next() % 0x11_0000) as u32).unwrap_or('\u{fffd}');
            s.push(c);
        } else {
            s.push_str(FRAGMENTS[rng.below(FRAGMENTS.len())]);
        }
    }
    s
}

fn vars() -> MapVars {
    MapVars::from_json(&serde_json::json!({
        "a": "{{ b }}", "b": 1, "d": {"x": 1, "y": [1, 2]}, "l": [3, 1, 2], "s": "a b c",
        "n": null, "x": "{{ x }}", "r": "{{ a }}{{ r }}", "item": {"name": "i"},
    }))
}

#[test]
fn random_templates_never_panic() {
    let templar = Templar::new();
    let vars = vars();
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    for case in 0..4000 {
        let text = random_template(&mut rng);
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            let _ = templar.template_str(&text, &vars);
            let _ = templar.render_file(&text, &vars, JinjaOptions::default());
            let _ = templar.evaluate_conditional(&Value::from(text.as_str()), &vars);
        }));
        assert!(outcome.is_ok(), "case {case} panicked on {text:?}");
    }
}
