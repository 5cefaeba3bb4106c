//! Python's `repr()` of strings and lists, for messages and config dumps that
//! must read exactly as Ansible prints them (one home: rsible-pytext).

pub use rsible_pytext::{list_repr as py_list_repr, str_repr as py_repr};
