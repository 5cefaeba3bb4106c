//! Run the listing on a playbook from the command line, for comparing with
//! the reference by hand: `list_playbook <mode> <playbook> [roles_path] [library]`
//! where mode is list-tasks, list-tags, list-hosts or syntax-check.

use std::path::PathBuf;
use std::time::Instant;

use rsible_playbook::{list_with_warnings, ListOptions};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: list_playbook <mode> <playbook> [roles_path] [library]");
        std::process::exit(2);
    }
    let mut opts = ListOptions {
        playbooks: vec![PathBuf::from(&args[2])],
        ..Default::default()
    };
    match args[1].as_str() {
        "list-tasks" => opts.list_tasks = true,
        "list-tags" => opts.list_tags = true,
        "list-hosts" => opts.list_hosts = true,
        _ => opts.syntax_check = true,
    }
    if let Some(rp) = args.get(3) {
        opts.roles_path = rp.split(':').map(PathBuf::from).collect();
    }
    if let Some(lib) = args.get(4) {
        opts.library = vec![PathBuf::from(lib)];
    }
    let start = Instant::now();
    match list_with_warnings(&opts) {
        Ok(listing) => {
            print!("{}", listing.stdout);
            eprintln!("elapsed: {:?}", start.elapsed());
        }
        Err(e) => {
            eprintln!("{}", e.render());
            std::process::exit(e.exit_code);
        }
    }
}
