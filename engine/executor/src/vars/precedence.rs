//! The order of Ansible's variable levels (ansible-core 2.18, lowest first),
//! as `VariableManager.get_vars` applies them. The executor pushes layers in
//! exactly this order; the names are what `VarLayers::origin` reports.

pub const ROLE_DEFAULTS: &str = "role defaults";
/// `all`'s vars from inventory files (`[all:vars]`).
pub const INVENTORY_ALL: &str = "inventory file vars of group all";
/// Other groups' vars from inventory files, parent groups before children.
pub const INVENTORY_GROUPS: &str = "inventory file group vars";
pub const INVENTORY_GROUP_VARS_ALL: &str = "inventory group_vars/all";
pub const PLAYBOOK_GROUP_VARS_ALL: &str = "playbook group_vars/all";
pub const INVENTORY_GROUP_VARS: &str = "inventory group_vars/*";
pub const PLAYBOOK_GROUP_VARS: &str = "playbook group_vars/*";
pub const INVENTORY_HOST: &str = "inventory file host vars";
pub const INVENTORY_HOST_VARS: &str = "inventory host_vars/*";
pub const PLAYBOOK_HOST_VARS: &str = "playbook host_vars/*";
pub const FACTS: &str = "host facts";
pub const PLAY_VARS: &str = "play vars";
pub const PLAY_VARS_PROMPT: &str = "play vars_prompt";
pub const PLAY_VARS_FILES: &str = "play vars_files";
pub const ROLE_VARS: &str = "role vars";
pub const BLOCK_VARS: &str = "block vars";
pub const TASK_VARS: &str = "task vars";
pub const INCLUDE_VARS: &str = "include_vars";
pub const SET_FACT: &str = "set_fact / register";
pub const ROLE_PARAMS: &str = "role params";
pub const INCLUDE_PARAMS: &str = "include params";
pub const EXTRA_VARS: &str = "extra vars";
pub const MAGIC: &str = "magic variables";
