//! Ansible's templar on minijinja: filters, tests, lookups, native types.
