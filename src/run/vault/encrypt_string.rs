//! `encrypt_string`: strings from the arguments, stdin or a prompt, each
//! printed as a `!vault |` YAML block (named with `--name`/`--stdin-name`).

use std::io::{IsTerminal, Read, Write};

use rsible_vault::Secret;

use super::files::write_data;
use crate::cli::vault::EncryptStringArgs;

const FROM_STDIN: &str = "stdin";
const FROM_ARGS: &str = "the command line args";
const FROM_PROMPT: &str = "the interactive prompt";

/// An options error (exit 5) or another error (exit 1), with Ansible's text.
pub enum Failure {
    Options(String),
    Error(String),
}

/// Whether stdin is read: `-` among the strings, `--stdin-name`, or no strings and no `--prompt`.
pub fn reads_stdin(args: &EncryptStringArgs) -> bool {
    args.strings.iter().any(|s| s == "-")
        || args.stdin_name.is_some()
        || (args.strings.is_empty() && !args.prompt)
}

pub fn run(
    args: &EncryptStringArgs,
    output: &str,
    secret: &Secret,
    vault_id: &str,
) -> Result<(), Failure> {
    let mut items: Vec<(Vec<u8>, &str, Option<String>)> = Vec::new();
    if args.prompt {
        let name = visible_prompt("Variable name (enter for no name): ")?;
        let name = (!name.is_empty()).then_some(name);
        let text = if args.show_input {
            visible_prompt("String to encrypt:")?
        } else {
            rsible_vault::prompt_hidden("String to encrypt (hidden): ")
                .map_err(|e| Failure::Error(e.to_string()))?
                .unwrap_or_default()
        };
        if text.is_empty() {
            return Err(Failure::Options(
                "The plaintext provided from the prompt was empty, not encrypting".into(),
            ));
        }
        items.push((text.into_bytes(), FROM_PROMPT, name));
    }
    if reads_stdin(args) {
        let tty = std::io::stdout().is_terminal();
        if tty {
            eprintln!("Reading plaintext input from stdin. (ctrl-d to end input, twice if your content does not already have a newline)");
        }
        let mut text = Vec::new();
        std::io::stdin()
            .lock()
            .read_to_end(&mut text)
            .map_err(|e| Failure::Error(e.to_string()))?;
        if text.is_empty() {
            return Err(Failure::Options("stdin was empty, not encrypting".into()));
        }
        if tty && !text.ends_with(b"\n") {
            println!("\n");
        }
        items.push((text, FROM_STDIN, args.stdin_name.clone()));
    }
    let strings: Vec<&String> = args.strings.iter().filter(|s| *s != "-").collect();
    if !args.names.is_empty() && strings.len() > args.names.len() {
        eprintln!("The number of --name options do not match the number of args.");
        eprintln!(
            "The last named variable will be \"{}\". The rest will not have names.",
            args.names.last().map(String::as_str).unwrap_or_default()
        );
    }
    for (i, text) in strings.iter().enumerate() {
        if text.is_empty() {
            return Err(Failure::Options(
                "The plaintext provided from the command line args was empty, not encrypting"
                    .into(),
            ));
        }
        items.push((
            text.as_bytes().to_vec(),
            FROM_ARGS,
            args.names.get(i).cloned(),
        ));
    }
    let numbered = items.len() > 1;
    let mut outs = Vec::new();
    for (index, (plaintext, source, name)) in items.iter().enumerate() {
        let vault = rsible_vault::encrypt(plaintext, secret, Some(vault_id))
            .map_err(|e| Failure::Error(e.to_string()))?;
        if numbered {
            let n = index + 1;
            eprint!(
                "{}",
                match name {
                    Some(name) => format!("# The encrypted version of variable (\"{name}\", the string #{n} from {source}).\n"),
                    None => format!("# The encrypted version of the string #{n} from {source}.)\n"),
                }
            );
        }
        outs.push(vault_yaml(&vault, name.as_deref()));
    }
    outs.push(String::new());
    write_data(outs.join("\n").as_bytes(), output, 0o600).map_err(Failure::Error)?;
    if std::io::stdout().is_terminal() {
        eprintln!("Encryption successful");
    }
    Ok(())
}

/// `name: !vault |` and the vault indented by ten spaces.
fn vault_yaml(vault: &str, name: Option<&str>) -> String {
    let mut lines = vec![match name {
        Some(n) => format!("{n}: !vault |"),
        None => "!vault |".to_string(),
    }];
    lines.extend(vault.lines().map(|l| format!("{}{l}", " ".repeat(10))));
    lines.join("\n")
}

/// Python's `input(prompt)`: the prompt on stdout, one line from stdin.
fn visible_prompt(prompt: &str) -> Result<String, Failure> {
    let mut out = std::io::stdout();
    let _ = out.write_all(prompt.as_bytes()).and_then(|_| out.flush());
    let mut line = String::new();
    let n = std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| Failure::Error(e.to_string()))?;
    if n == 0 {
        return Err(Failure::Error("EOF when reading a line".into()));
    }
    Ok(line.trim_end_matches(['\n', '\r']).to_string())
}

#[cfg(test)]
mod tests {
    use super::vault_yaml;

    #[test]
    fn yaml_block() {
        assert_eq!(
            vault_yaml("$ANSIBLE_VAULT;1.1;AES256\nab\n", Some("pw")),
            "pw: !vault |\n          $ANSIBLE_VAULT;1.1;AES256\n          ab"
        );
    }
}
