//! Settings and play keywords rsible accepts in Ansible's syntax but does not
//! implement yet. Running on as if they were absent would change what the run
//! does or prints without saying so: they stop the run before it starts,
//! naming themselves and where they were set.

use rsible_config::Config;
use rsible_playbook::Playbook;
use rsible_yaml::Value;

/// The first unimplemented setting or play keyword, as an error message.
pub fn refuse(config: &Config, playbook: &Playbook) -> Result<(), String> {
    if super::callbacks::stdout_callback(&config.stdout_callback).is_none() {
        return Err(format!(
            "rsible implements only the 'default' and 'json' stdout callbacks; stdout_callback = \
             {} is not supported yet",
            config.stdout_callback
        ));
    }
    if !is_one_of(&config.strategy, "linear") && !is_one_of(&config.strategy, "free") {
        return Err(format!(
            "rsible implements only the 'linear' and 'free' strategies; strategy = {} is not \
             supported yet",
            config.strategy
        ));
    }
    for play in &playbook.plays {
        if let Some(node) = play.keywords.get("strategy") {
            let name = match &node.value {
                Value::Str(s) => s.as_str(),
                _ => "",
            };
            if !is_one_of(name, "linear") && !is_one_of(name, "free") {
                return Err(format!(
                    "rsible implements only the 'linear' and 'free' strategies; the play at {} \
                     asks for strategy: {name}",
                    play.mark
                ));
            }
        }
        if let Some(node) = play.keywords.get("vars_prompt") {
            if !matches!(node.value, Value::Null) {
                return Err(format!(
                    "rsible does not implement vars_prompt yet (the play at {}); give the \
                     variables with -e instead",
                    play.mark
                ));
            }
        }
    }
    Ok(())
}

/// `name` or its `ansible.builtin.` spelling.
fn is_one_of(value: &str, name: &str) -> bool {
    let value = value.trim();
    value == name || value.strip_prefix("ansible.builtin.") == Some(name)
}
