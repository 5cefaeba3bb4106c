//! Python type reprs (`<class 'int'>`) as Ansible's inventory messages print them.

use rsible_yaml::{Node, Value};

pub fn class_repr(node: &Node) -> &'static str {
    match &node.value {
        Value::Null => "<class 'NoneType'>",
        Value::Bool(_) => "<class 'bool'>",
        Value::Int(_) | Value::BigInt(_) => "<class 'int'>",
        Value::Float(_) => "<class 'float'>",
        Value::Str(_) => "<class 'ansible.parsing.yaml.objects.AnsibleUnicode'>",
        Value::Unsafe(_) => "<class 'ansible.utils.unsafe_proxy.AnsibleUnsafeText'>",
        Value::Vault(_) => "<class 'ansible.parsing.yaml.objects.AnsibleVaultEncryptedUnicode'>",
        Value::Seq(_) => "<class 'ansible.parsing.yaml.objects.AnsibleSequence'>",
        Value::Map(_) => "<class 'ansible.parsing.yaml.objects.AnsibleMapping'>",
    }
}
