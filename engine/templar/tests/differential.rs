//! Differential test: renders a corpus with rsible's templar and with the
//! reference ansible-core (its `Templar.template`, run through the Python in
//! `$RSIBLE_REF_BIN`), and compares type and Python repr of each result.
//! Fails when RSIBLE_REF_BIN is unset, unless RSIBLE_SKIP_DIFFERENTIAL=1.

use std::io::Write;
use std::process::{Command, Stdio};

use rsible_templar::{python_repr::repr, type_name, MapVars, Templar};

const VARS: &str = r#"{"a": "{{ b }}", "b": 1, "d": {"x": 1, "y": [1, 2]}, "l": [3, 1, 2, 1],
 "s": "Hello World", "n": null, "t": true, "f": 1.5, "ip": "10.0.0.1", "ver": "1.29.3",
 "res": {"changed": true, "failed": false, "rc": 0}, "items": [{"name": "a", "v": 1}, {"name": "b", "v": 2}],
 "multi": "nameserver 1.1.1.1\nnameserver 8.8.8.8\n", "path": "/etc/kubernetes/admin.conf", "u": "é"}"#;

const CORPUS: &[&str] = &[
    "{{ 5 }}",
    "{{ [1,2] }}",
    "{{ true }}",
    "{{ none }}",
    "{{ a }}",
    "{{ b }}",
    "{{ d }}",
    "{{ a }}{{ b }}",
    "{{ 1.0 }}",
    "{{ 1e20 }}",
    "{{ n }}",
    "x{{ u }}",
    "{{ f }}",
    "{{ f * 2 }}",
    "{{ s | lower }}",
    "{{ multi | indent(2) }}",
    "{{ no_such | join(',') }}",
    "{{ d.nope | join(',') }}",
    "{{ multi | indent(4, True) }}",
    "{{ multi | indent(width='> ', first=true, blank=true) }}",
    "{{ d | to_nice_yaml | indent(4, True) }}",
    "{{ s | upper }}",
    "{{ l | length }}",
    "{{ 'yes' | bool }}",
    "{{ 'off' | bool }}",
    "{{ l | join(',') }}",
    "{{ l | unique }}",
    "{{ l | unique | list }}",
    "{{ l | first }}",
    "{{ l | last }}",
    "{{ l | min }}",
    "{{ l | max }}",
    "{{ l | sum }}",
    "{{ l | sort }}",
    "{{ l | sort(reverse=true) }}",
    "{{ d | to_json }}",
    "{{ d | to_nice_json }}",
    "{{ {'u': u} | to_json }}",
    "{{ '{\"a\": [1, 2.5]}' | from_json }}",
    "{{ d | dict2items }}",
    "{{ d | dict2items | items2dict }}",
    "{{ d | combine({'x': 2, 'z': 3}) }}",
    "{{ {'a': {'b': 1}} | combine({'a': {'c': 2}}, recursive=true) }}",
    "{{ {'a': [1]} | combine({'a': [2]}, list_merge='append') }}",
    "{{ s | regex_replace('o', '0') }}",
    "{{ s | regex_replace('(\\\\w+) (\\\\w+)', '\\\\2 \\\\1') }}",
    "{{ ver | regex_search('([0-9]+)[.]([0-9]+)', '\\\\1') }}",
    "{{ ver | regex_search('([0-9]+)[.]([0-9]+)', '\\1', '\\2') }}",
    "{{ ver | regex_search('x') }}",
    "{{ multi | regex_findall('^nameserver\\\\s*(\\\\S*)', multiline=True) }}",
    "{{ t | ternary('yes', 'no') }}",
    "{{ [[1, [2]], 3] | flatten }}",
    "{{ [[1, [2]], 3] | flatten(levels=1) }}",
    "{{ [1, 2] | union([2, 3]) }}",
    "{{ [1, 2] | intersect([2, 3]) }}",
    "{{ [1, 2] | difference([2, 3]) }}",
    "{{ [1, 2] | zip(['a', 'b']) | list }}",
    "{{ [1, 2] | product(['a']) | list }}",
    "{{ 'abc' | b64encode }}",
    "{{ 'YWJj' | b64decode }}",
    "{{ path | basename }}",
    "{{ path | dirname }}",
    "{{ \"it's\" | quote }}",
    "{{ d | type_debug }}",
    "{{ 'a.b.c' | split('.') }}",
    "{{ '3.7' | int }}",
    "{{ 'x' | int }}",
    "{{ '1.5' | float }}",
    "{{ 42 | string }}",
    "{{ [1, 'a'] | string }}",
    "{{ s.split() }}",
    "{{ s.startswith('He') }}",
    "{{ d.keys() | list }}",
    "{{ d.items() | list }}",
    "{{ d.get('zz', 5) }}",
    "{{ s.replace('o', '') }}",
    "{{ s.find('W') }}",
    "{{ ver is version('1.29.0', '>=') }}",
    "{{ ver is version('1.30', '<') }}",
    "{{ res is succeeded }}",
    "{{ res is changed }}",
    "{{ res is failed }}",
    "{{ s is match('Hel') }}",
    "{{ s is search('World') }}",
    "{{ [1] is subset([1, 2]) }}",
    "{{ items | selectattr('v', 'equalto', 2) | map(attribute='name') | list }}",
    "{{ items | map(attribute='v') | list }}",
    "{{ ['a', 'b'] | map('extract', {'a': 1, 'b': 2}) | list }}",
    "{{ items | rejectattr('v', '==', 1) | list }}",
    "{{ l | select('equalto', 1) | list }}",
    "{{ nope | default('dflt') }}",
    "{{ '' | default('e', true) }}",
    "{{ nope | d(false) }}",
    "{{ d.zz.yy is defined }}",
    "{% for i in l %}{{ loop.index }}{% endfor %}",
    "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}",
    "{% if b == 1 %}one{% else %}other{% endif %}",
    "{{ '%s-%d' | format('a', 3) }}",
    "{{ '10' | int + 1 }}",
    "{{ s | replace('World', 'there') }}",
    "{{ '  x ' | trim }}",
    "{{ (l | length) > 3 }}",
    "{{ 'a' ~ 1 }}",
    "{{ d['y'][1] }}",
    "{{ l[1:3] }}",
    "{{ '5' | int is number }}",
    "{{ {'a': 1} | to_nice_json(indent=2) }}",
    "{{ [1, 2] | map('string') | list }}",
    "{% set x = [] %}{% for i in l %}{{ x.append(i * 2) }}{% endfor %}{{ x }}",
    "{{ 'Hello' | regex_escape }}",
    "{{ '1.2.3' is version('1.2.10', '<') }}",
    "{{ [] | flatten }}",
    "{{ '10 GB' | human_to_bytes }}",
    "{{ ip | ansible.utils.ipaddr('address') }}",
    "{{ '10.233.0.0/18' | ansible.utils.ipaddr('net') | ansible.utils.ipaddr(1) | ansible.utils.ipaddr('address') }}",
    "{{ '10.233.0.0/18' | ipaddr('prefix') }}",
    "{{ ['10.0.0.1', 'fd00::1'] | map('ansible.utils.ipaddr') | list }}",
    "{{ 'fd00::1' | ansible.utils.ipwrap }}",
    "{{ ip is ansible.utils.ipv4 }}",
    "{{ ip | ansible.utils.ipmath(5) }}",
    "{{ '10.0.0.0/24' | ansible.utils.nthhost(10) }}",
    "{{ '10.0.0.0/24' | ansible.utils.next_nth_usable(3) }}",
    "{{ d | to_yaml }}",
    "{{ d | to_nice_yaml(indent=2) }}",
    "{{ '- a\\n- b' | from_yaml }}",
    // urlsplit
    "{{ 'http://user:pw@WWW.Acme.com:9000/dir/i.html?q=1#frag' | urlsplit }}",
    "{{ 'https://[fd00::1]:6443/x' | urlsplit('hostname') }}",
    "{{ 'https://[fd00::1]:6443/x' | urlsplit('port') }}",
    "{{ 'https://lb.example:6443' | ansible.builtin.urlsplit('port') }}",
    "{{ 'https://10.0.0.1:2379' | urlsplit('hostname') }}",
    "{{ '10.0.0.1:2379' | urlsplit('path') }}",
    "{{ 'localhost:2379' | urlsplit }}",
    "{{ 'https://h' | urlsplit('port') }}",
    "{{ 'https://h:99999' | urlsplit('scheme') }}",
    "{{ 'https://[::1' | urlsplit }}",
    "{{ 'https://h' | urlsplit('bogus') }}",
    "{{ '//host/p?x#y' | urlsplit }}",
    // json_query (community.general, Python jmespath)
    "{{ {'plugins': [{'bridge': 'kube-bridge', 'ipam': {'subnet': '10.1.0.0/24'}}, {'type': 'x'}]} | json_query('plugins[?bridge==`kube-bridge`].ipam.subnet') }}",
    "{{ [{'results': [1]}, {'results': [2, 3]}] | json_query('[].results') }}",
    "{{ items | community.general.json_query('[?v > `1`].name') }}",
    "{{ items | json_query('[*].{n: name}') }}",
    "{{ items | json_query('length(@)') }}",
    "{{ items | json_query('[0]') }}",
    "{{ d | json_query('y[-1]') }}",
    "{{ d | json_query('nope') }}",
    "{{ items | json_query('sort_by(@, &v)[].name | join(`,`, @)') }}",
    "{{ d | json_query('[') }}",
    "{{ items | json_query(\"[?name=='a'].v | [0]\") }}",
    // password_hash (passlib)
    "{{ 'secret' | password_hash('sha512', 'abcdefgh') }}",
    "{{ 'secret' | password_hash('sha512', 'abcdefgh', rounds=5000) }}",
    "{{ 'secret' | password_hash('sha256', 'saltsalt') }}",
    "{{ 'secret' | password_hash('sha512_crypt', salt='0123456789abcdef', rounds=10000) }}",
    "{{ 'secret' | password_hash('bcrypt', salt='abcdefghijklmnopqrstuu') }}",
    "{{ 'secret' | password_hash('blowfish', 'abcdefghijklmnopqrstuv', rounds=4) }}",
    "{{ 'secret' | password_hash('bcrypt', 'abcdefghijklmnopqrstuu', ident='2a', rounds=5) }}",
    "{{ 'secret' | password_hash('sha512', 'bad$salt') }}",
    "{{ ('secret' | password_hash('sha512'))[:3] }}",
    "{{ ('secret' | password_hash('bcrypt'))[:7] }}",
    // ipaddr private/public
    "{{ '10.0.0.1' | ansible.utils.ipaddr('private') }}",
    "{{ '8.8.8.8' | ansible.utils.ipaddr('private') }}",
    "{{ '8.8.8.8' | ansible.utils.ipaddr('public') }}",
    "{{ '192.168.1.0/24' | ansible.utils.ipaddr('public') }}",
    "{{ '192.168.1.0/24' | ansible.utils.ipaddr('private') }}",
    "{{ 'fd00::1' | ansible.utils.ipaddr('private') }}",
    "{{ '2a00:1450::1' | ansible.utils.ipaddr('public') }}",
    "{{ ['10.0.0.1', '1.1.1.1', '100.64.0.1', '127.0.0.1', '255.255.255.0', '224.0.0.1'] | ansible.utils.ipaddr('public') }}",
    "{{ ['10.0.0.1', '1.1.1.1', '100.64.0.1', '127.0.0.1', '192.0.0.9'] | ansible.utils.ipaddr('private') }}",
    // undef()
    "{{ undef() is defined }}",
    "{{ nope | d(undef()) is defined }}",
    "{{ undef('set me') | default('x') }}",
];

const REF_SCRIPT: &str = r#"
import sys, json
from ansible.plugins.loader import init_plugin_loader
init_plugin_loader()
from ansible.template import Templar
from ansible.parsing.dataloader import DataLoader
data = json.load(sys.stdin)
out = []
for expr in data["corpus"]:
    t = Templar(loader=DataLoader(), variables=json.loads(data["vars"]))
    try:
        r = t.template(expr)
        name = type(r).__name__
        if isinstance(r, str): name = "str"; r = str(r)
        elif isinstance(r, dict): name = "dict"
        elif isinstance(r, list): name = "list"
        out.append(name + " " + repr(r))
    except Exception as e:
        out.append("ERR")
print(json.dumps(out))
"#;

fn ours(expr: &str, vars: &MapVars) -> String {
    match Templar::new().template_str(expr, vars) {
        Ok(v) => format!("{} {}", type_name(&v), repr(&v)),
        Err(_) => "ERR".into(),
    }
}

#[test]
fn corpus_matches_reference() {
    let Ok(bin) = std::env::var("RSIBLE_REF_BIN") else {
        if std::env::var("RSIBLE_SKIP_DIFFERENTIAL").as_deref() == Ok("1") {
            return;
        }
        panic!("RSIBLE_REF_BIN is not set (point it at the reference venv's bin/, or set RSIBLE_SKIP_DIFFERENTIAL=1)");
    };
    let input = serde_json::json!({"corpus": CORPUS, "vars": VARS}).to_string();
    let mut child = Command::new(format!("{}/python", bin))
        .arg("-c")
        .arg(REF_SCRIPT)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run the reference python");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write corpus");
    let output = child.wait_with_output().expect("reference output");
    let reference: Vec<String> = serde_json::from_slice(&output.stdout).expect("reference JSON");
    let vars = MapVars::from_json(&serde_json::from_str(VARS).expect("vars JSON"));
    let mut failures = Vec::new();
    for (expr, want) in CORPUS.iter().zip(reference.iter()) {
        let got = ours(expr, &vars);
        if &got != want {
            failures.push(format!("{}\n   ref: {}\n  ours: {}", expr, want, got));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} differ:\n{}",
        failures.len(),
        CORPUS.len(),
        failures.join("\n")
    );
}
