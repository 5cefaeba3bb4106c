//! The playbook model: plays, roles, blocks, tasks, handlers, and the listing modes.
