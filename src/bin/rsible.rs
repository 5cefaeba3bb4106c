//! `rsible`: parse options, load ansible.cfg, hand over to the library.

use rsible::cli::{self, version::version_text, AdhocArgs};

fn main() -> std::process::ExitCode {
    // `rsible agent`: this binary is also the agent the controller starts on
    // each target (see DESIGN.md); it speaks the framed protocol on stdio.
    if std::env::args_os().nth(1).is_some_and(|a| a == "agent") {
        return std::process::ExitCode::from(rsible_modules::run_agent_stdio().clamp(0, 255) as u8);
    }
    let args: AdhocArgs = cli::parse_or_exit();
    let config = match rsible::load_config() {
        Ok(config) => config,
        Err(code) => return code.into(),
    };
    if args.version {
        print!("{}", version_text("rsible", &config));
        return rsible::ExitCode::Ok.into();
    }
    rsible::run_adhoc(args, config).into()
}
