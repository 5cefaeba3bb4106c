//! `rsible-playbook`: parse options, load ansible.cfg, hand over to the library.

use rsible::cli::{self, version::version_text, PlaybookArgs};

fn main() -> std::process::ExitCode {
    let args: PlaybookArgs = cli::parse_or_exit();
    let config = match rsible::load_config() {
        Ok(config) => config,
        Err(code) => return code.into(),
    };
    if args.version {
        print!("{}", version_text("rsible-playbook", &config));
        return rsible::ExitCode::Ok.into();
    }
    // The process ends right after the run: the agents' sessions end with it
    // rather than just before it (connection_pool::ended_by_exit).
    rsible_executor::connection_pool::end_sessions_at_process_exit();
    rsible::run_playbook(args, config).into()
}
