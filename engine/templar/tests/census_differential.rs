//! Census filters and tests that had no differential case (issue 3): the
//! same value as the reference ansible-core, or both failing. `random` is
//! compared where it is deterministic (seeded) and by range where not.

mod reference;

const VARS: &str = r#"{"d": {"x": 1}, "l": [1, 2, 3], "s": "abc", "retry_stagger": 5,
 "ok": {"rc": 0, "failed": false, "changed": false}, "bad": {"rc": 1, "failed": true}}"#;

const CORPUS: &[&str] = &[
    // random: seeded picks and ranges (Python's random.Random(seed))
    "{{ l | random(seed='abc') }}",
    "{{ 100 | random(seed='x') }}",
    "{{ 100 | random(start=10, step=5, seed='x') }}",
    "{{ 10 | random(1, seed='abc') }}",
    "{{ ['a', 'b', 'c', 'd'] | random(seed=42) }}",
    "{{ 'abcdef' | random(seed='kube1') }}",
    "{{ range(10) | random(seed='kube1') }}",
    "{{ 60 | random(seed=inventory_hostname | default('kube2')) }}",
    "{{ 2 ** 40 | random(seed='kube2') }}",
    // unseeded: only the range is fixed (Kubespray's retry delays)
    "{{ (retry_stagger | random + 3) in range(3, 8) }}",
    "{{ (retry_stagger | random + 3) is number }}",
    "{{ l | random in l }}",
    "{{ [] | random }}",
    "{{ 0 | random }}",
    // reject
    "{{ l | reject('equalto', 1) | list }}",
    "{{ [0, 1, '', 'x', none] | reject | list }}",
    "{{ l | reject('odd') | list }}",
    "{{ l | reject('in', [2, 3]) | list }}",
    "{{ ['a', 'bb'] | reject('match', 'b') | list }}",
    // checksum (sha1 of the text), capitalize
    "{{ 'hello' | checksum }}",
    "{{ '' | checksum }}",
    "{{ 'é' | checksum }}",
    "{{ 'hello world' | capitalize }}",
    "{{ 'hELLO wORLD' | capitalize }}",
    "{{ '' | capitalize }}",
    "{{ ['docker', 'containerd'] | map('capitalize') | list }}",
    // tests
    "{{ ok is success }}",
    "{{ bad is success }}",
    "{{ ok is successful }}",
    "{{ d is mapping }}",
    "{{ l is mapping }}",
    "{{ s is mapping }}",
    "{{ d is sameas d }}",
    "{{ 1 is sameas 1 }}",
    "{{ true is sameas true }}",
    "{{ none is sameas none }}",
    "{{ true is true }}",
    "{{ 1 is true }}",
    "{{ 'yes' is true }}",
    "{{ false is false }}",
    "{{ 0 is false }}",
    "{{ true is boolean }}",
    "{{ 'true' is boolean }}",
    "{{ 0 is boolean }}",
    "{{ 10 is divisibleby 5 }}",
    "{{ 10 is divisibleby(3) }}",
    "{{ l is iterable }}",
    "{{ s is iterable }}",
    "{{ d is iterable }}",
    "{{ 5 is iterable }}",
    "{{ 1 is ne 2 }}",
    "{{ 1 is ne(1) }}",
    "{{ l | select('ne', 1) | list }}",
    "{{ l | reject('ne', 2) | list }}",
];

#[test]
fn census_filters_and_tests_match_reference() {
    reference::assert_same(CORPUS, VARS, reference::same_value_or_both_failed);
}
