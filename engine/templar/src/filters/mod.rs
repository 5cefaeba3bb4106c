//! Ansible's filters, registered under their short and FQCN names
//! (`to_json`, `ansible.builtin.to_json`, ...).

pub mod core;
pub mod hashing;
pub mod ip_scope;
pub mod ipaddr;
pub mod json;
pub mod json_query;
pub mod password;
pub mod paths;
pub mod random;
pub mod regex;
pub mod strings;
pub mod text;
pub mod url;
pub mod yaml;
pub mod yaml_emit;

use minijinja::value::Value;
use minijinja::Environment;

/// Registers a filter under its short name and its FQCN aliases.
macro_rules! add {
    ($env:expr, $ns:expr, $name:expr, $f:expr) => {{
        $env.add_filter($name, $f);
        $env.add_filter(concat!($ns, ".", $name), $f);
    }};
}

pub fn register(env: &mut Environment<'static>) {
    // Jinja builtins whose Python behaviour differs from minijinja's.
    env.add_filter("string", core::string);
    env.add_filter("join", core::join);
    env.add_filter("int", core::int);
    env.add_filter("float", core::float);
    env.add_filter("list", core::list);
    env.add_filter("sort", core::sort);
    env.add_filter("unique", core::unique);
    env.add_filter("min", |v: Value| core::min_max(v, false));
    env.add_filter("max", |v: Value| core::min_max(v, true));
    env.add_filter("d", minijinja::filters::default);
    env.add_filter("truncate", text::truncate);
    env.add_filter("indent", text::indent);

    add!(env, "ansible.builtin", "bool", core::to_bool);
    add!(env, "ansible.builtin", "random", random::random);
    add!(env, "ansible.builtin", "shuffle", random::shuffle);
    add!(env, "ansible.builtin", "hash", hashing::hash);
    add!(env, "ansible.builtin", "checksum", hashing::checksum);
    add!(env, "ansible.builtin", "ternary", core::ternary);
    add!(env, "ansible.builtin", "combine", core::combine);
    add!(env, "ansible.builtin", "dict2items", core::dict2items);
    add!(env, "ansible.builtin", "items2dict", core::items2dict);
    add!(env, "ansible.builtin", "flatten", core::flatten);
    add!(env, "ansible.builtin", "union", core::union);
    add!(env, "ansible.builtin", "intersect", core::intersect);
    add!(env, "ansible.builtin", "difference", core::difference);
    add!(
        env,
        "ansible.builtin",
        "symmetric_difference",
        core::symmetric_difference
    );
    add!(env, "ansible.builtin", "zip", core::zip);
    add!(env, "ansible.builtin", "product", core::product);
    add!(env, "ansible.builtin", "b64encode", core::b64encode);
    add!(env, "ansible.builtin", "b64decode", core::b64decode);
    add!(env, "ansible.builtin", "basename", core::basename);
    add!(env, "ansible.builtin", "dirname", core::dirname);
    add!(env, "ansible.builtin", "relpath", paths::relpath);
    add!(env, "ansible.builtin", "quote", core::quote);
    add!(env, "ansible.builtin", "mandatory", core::mandatory);
    add!(env, "ansible.builtin", "type_debug", core::type_debug);
    add!(env, "ansible.builtin", "split", core::split);
    add!(env, "ansible.builtin", "extract", core::extract);
    add!(
        env,
        "ansible.builtin",
        "human_to_bytes",
        core::human_to_bytes
    );
    add!(env, "ansible.builtin", "subelements", core::subelements);
    add!(env, "ansible.builtin", "to_json", json::to_json);
    add!(env, "ansible.builtin", "to_nice_json", json::to_nice_json);
    add!(env, "ansible.builtin", "from_json", json::from_json);
    add!(env, "ansible.builtin", "to_yaml", yaml::to_yaml);
    add!(env, "ansible.builtin", "to_nice_yaml", yaml::to_nice_yaml);
    add!(env, "ansible.builtin", "from_yaml", yaml::from_yaml);
    add!(env, "ansible.builtin", "from_yaml_all", yaml::from_yaml_all);
    add!(
        env,
        "ansible.builtin",
        "regex_replace",
        regex::regex_replace
    );
    add!(env, "ansible.builtin", "regex_search", regex::regex_search);
    add!(
        env,
        "ansible.builtin",
        "regex_findall",
        regex::regex_findall
    );
    add!(env, "ansible.builtin", "regex_escape", regex::regex_escape);
    add!(env, "community.general", "dict", core::dict);
    add!(
        env,
        "community.general",
        "json_query",
        json_query::json_query
    );
    add!(
        env,
        "ansible.builtin",
        "password_hash",
        password::password_hash
    );
    add!(env, "ansible.builtin", "urlsplit", url::urlsplit);
    add!(env, "ansible.utils", "ipaddr", ipaddr::ipaddr);
    add!(env, "ansible.utils", "ipv4", ipaddr::ipv4);
    add!(env, "ansible.utils", "ipv6", ipaddr::ipv6);
    add!(env, "ansible.utils", "ipwrap", ipaddr::ipwrap);
    add!(env, "ansible.utils", "ipmath", ipaddr::ipmath);
    add!(env, "ansible.utils", "nthhost", ipaddr::nthhost);
    add!(
        env,
        "ansible.utils",
        "next_nth_usable",
        ipaddr::next_nth_usable
    );
}
