//! `rsible-inventory`: parse options, load ansible.cfg, hand over to the library.

use rsible::cli::{self, version::version_text, InventoryCliArgs};

fn main() -> std::process::ExitCode {
    let args: InventoryCliArgs = cli::parse_or_exit();
    let config = match rsible::load_config() {
        Ok(config) => config,
        Err(code) => return code.into(),
    };
    if args.version {
        print!("{}", version_text("rsible-inventory", &config));
        return rsible::ExitCode::Ok.into();
    }
    rsible::run_inventory(args, config).into()
}
