//! ansible.cfg, ANSIBLE_* environment and the settings table.
