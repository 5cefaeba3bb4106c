//! `rsible-vault`: parse options, load ansible.cfg, hand over to the library.

use rsible::cli::{self, vault::VaultCliArgs, version::version_text};

fn main() -> std::process::ExitCode {
    let args: VaultCliArgs = cli::parse_or_exit();
    let config = match rsible::load_config() {
        Ok(config) => config,
        Err(code) => return code.into(),
    };
    if args.version {
        print!("{}", version_text("rsible-vault", &config));
        return rsible::ExitCode::Ok.into();
    }
    rsible::run_vault(args, config).into()
}
