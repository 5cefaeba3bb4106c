//! Stand-alone agent binary for tests: the main `rsible agent` subcommand calls the
//! same function.
fn main() {
    std::process::exit(rsible_modules::run_agent_stdio());
}
