//! Ansible's argument splitter and k=v parser (ansible.parsing.splitter).
