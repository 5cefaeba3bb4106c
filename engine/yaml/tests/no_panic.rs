//! A small deterministic fuzz run (the real one is `fuzz/`, needing nightly):
//! mutated YAML must load or fail cleanly, and every error must render.

use rsible_yaml::{load_one, load_str};

const SEEDS: &[&str] = &[
    "- hosts: all\n  vars:\n    a: &x {k: [1, 2], v: \"s\"}\n  tasks:\n    - name: t\n      shell: |\n        echo {{ a }}\n      when: a is defined\n      <<: *x\n",
    "a: !unsafe '{{ x }}'\nb: !vault |\n  $ANSIBLE_VAULT\nc: [yes, 0644, 1.5, ~, 'q', \"d\\n\"]\n? complex\n: value\n",
    "{\"json\": [1, 2.5, true, null, {\"k\": \"\\u00e9\"}]}",
    "--- a\n...\n--- [b, {c: d}]\n%YAML 1.1\n--- >\n  folded\n",
];

/// Characters that steer the parser into its corners.
const ALPHABET: &[u8] = b"-:?[]{},&*!|>'\"#%@`\\\t\n <=.0x1e~\r";

struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) as usize
    }
}

#[test]
fn mutated_inputs_never_panic() {
    let mut rng = Lcg(0x5eed);
    for round in 0..6000 {
        let seed = SEEDS[round % SEEDS.len()];
        let mut bytes = seed.as_bytes().to_vec();
        for _ in 0..1 + rng.next() % 6 {
            let at = rng.next() % (bytes.len() + 1);
            let ch = ALPHABET[rng.next() % ALPHABET.len()];
            match rng.next() % 3 {
                0 => bytes.insert(at, ch),
                1 if at < bytes.len() => {
                    bytes.remove(at);
                }
                _ if at < bytes.len() => bytes[at] = ch,
                _ => bytes.push(ch),
            }
        }
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        if let Err(e) = load_str(&text, Some("fuzz.yml")) {
            assert!(!e.to_string().is_empty());
        }
        let _ = load_one(&text, None);
    }
}
