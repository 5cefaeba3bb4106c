//! What `rsible-playbook` and `rsible` (ad hoc) both hand the executor:
//! connection defaults from options and ansible.cfg, the become password
//! (`-K`, `--become-password-file`) and become defaults, the module registry,
//! stdout, exit codes.

use std::path::{Path, PathBuf};

use rsible_config::Config;
use rsible_connection::Secret;
use rsible_executor::connection_pool::{ConnectionDefaults, ConnectionPool};
use rsible_executor::output::default_callback::Sink;
use rsible_executor::{RunOptions, SshCommandDefaults};
use rsible_playbook::ModuleRegistry;

use crate::cli::common::{BecomeArgs, ConnectionArgs};
use crate::{print_error, ExitCode};

/// Modules as Ansible finds them: collections, ansible.cfg `library`, `-M`.
pub fn module_registry(config: &Config, module_path: &[String], cwd: &Path) -> ModuleRegistry {
    let registry = ModuleRegistry::discover(&config.collections_path);
    for dir in config
        .library
        .iter()
        .cloned()
        .chain(module_path.iter().map(|p| cwd.join(p)))
    {
        registry.add_library_dir(&dir);
    }
    registry
}

pub fn exit_from(code: i32) -> ExitCode {
    match code {
        0 => ExitCode::Ok,
        2 => ExitCode::HostFailed,
        4 => ExitCode::Parse,
        5 => ExitCode::BadOption,
        99 => ExitCode::Interrupted,
        250 => ExitCode::Unexpected,
        _ => ExitCode::Error,
    }
}

/// The run's output stream: one line per call.
pub struct Stdout;

impl Sink for Stdout {
    fn out(&mut self, text: &str) {
        use std::io::Write;
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{text}");
    }
    fn err(&mut self, text: &str) {
        eprint!("{text}");
    }
}

/// Run options holding only the play-wide become defaults, the command line's
/// `-b`/`--become-user`/`--become-method` over ansible.cfg's: the same for
/// `ansible` and `ansible-playbook`, so both start their options from here.
pub fn become_defaults(args: &BecomeArgs, config: &Config) -> RunOptions {
    RunOptions {
        become_default: args.become_ || config.become_,
        become_user: Some(
            args.become_user
                .clone()
                .unwrap_or_else(|| config.become_user.clone()),
        ),
        become_method: Some(
            args.become_method
                .clone()
                .unwrap_or_else(|| config.become_method.clone()),
        ),
        ..RunOptions::default()
    }
}

/// `-K` (or ansible.cfg `become_ask_pass`) prompts `BECOME password: ` as
/// Ansible does, on the terminal, else on stderr reading stdin (Python's
/// getpass); `--become-password-file` reads a file, or runs it when it is
/// executable. An empty answer means "no password", as in Ansible.
pub fn become_password(args: &BecomeArgs, config: &Config) -> Result<Option<Secret>, ExitCode> {
    let text = if let Some(file) = &args.become_password_file {
        Some(read_password_file(Path::new(file))?)
    } else if args.ask_become_pass || config.become_ask_pass {
        match rsible_vault::prompt_hidden("BECOME password: ") {
            Ok(answer) => answer,
            Err(e) => {
                print_error(&format!("Unable to read the become password: {e}"));
                return Err(ExitCode::Error);
            }
        }
    } else {
        None
    };
    Ok(text.filter(|t| !t.is_empty()).map(Secret))
}

/// Ansible's `CLI.get_password_from_file`: an executable file is run and its
/// stdout used; any other file is read; surrounding whitespace is stripped.
fn read_password_file(path: &Path) -> Result<String, ExitCode> {
    use std::os::unix::fs::PermissionsExt;
    let fail = |msg: String| {
        print_error(&msg);
        ExitCode::Error
    };
    let meta = std::fs::metadata(path).map_err(|_| {
        fail(format!(
            "The password file {} was not found",
            path.display()
        ))
    })?;
    let bytes = if meta.permissions().mode() & 0o111 != 0 {
        let out = std::process::Command::new(path)
            .stdin(std::process::Stdio::inherit())
            .stderr(std::process::Stdio::inherit())
            .output()
            .map_err(|e| fail(format!("Problem occurred when trying to run the password script {} ({e}). If this is not a script, remove the executable bit from the file.", path.display())))?;
        if !out.status.success() {
            return Err(fail(format!(
                "The password script {} returned an error (rc={})",
                path.display(),
                out.status.code().unwrap_or(-1)
            )));
        }
        out.stdout
    } else {
        std::fs::read(path).map_err(|e| {
            fail(format!(
                "Could not read password file {}: {e}",
                path.display()
            ))
        })?
    };
    Ok(String::from_utf8_lossy(&bytes).trim().to_string())
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// Connection settings from the command line over ansible.cfg.
pub fn connection_defaults(
    config: &Config,
    conn: &ConnectionArgs,
    become_password: Option<Secret>,
) -> Result<ConnectionDefaults, ExitCode> {
    let agent_binary = match std::env::current_exe() {
        Ok(p) => p.with_file_name("rsible-agent"),
        Err(e) => {
            print_error(&format!(
                "cannot find the rsible-agent binary to ship to the hosts: {e}"
            ));
            return Err(ExitCode::Error);
        }
    };
    let ssh = ssh_command_defaults(config, conn);
    Ok(ConnectionDefaults {
        agent_binary,
        remote_user: ssh.remote_user,
        private_key_file: ssh.private_key_file.map(PathBuf::from),
        ssh_args: ssh.ssh_args,
        ssh_common_args: ssh.ssh_common_args,
        ssh_extra_args: ssh.ssh_extra_args,
        host_key_checking: config.ssh_host_key_checking,
        timeout: std::time::Duration::from_secs(
            conn.timeout.unwrap_or(config.ssh_timeout).max(1) as u64
        ),
        retries: config.ssh_retries.max(0) as u32,
        become_password,
        become_flags: non_empty(&config.become_flags),
        max_open: rsible_connection::fd_limit::connection_budget(
            rsible_connection::fd_limit::raise_open_files_limit(),
        ),
    })
}

/// The ssh settings action plugins read from the connection (synchronize
/// hands them to rsync), from the same sources as the pool's.
pub fn ssh_command_defaults(config: &Config, conn: &ConnectionArgs) -> SshCommandDefaults {
    SshCommandDefaults {
        ssh_args: Some(config.ssh_args.clone()),
        ssh_common_args: conn
            .ssh_common_args
            .clone()
            .or_else(|| non_empty(&config.ssh_common_args)),
        ssh_extra_args: conn
            .ssh_extra_args
            .clone()
            .or_else(|| non_empty(&config.ssh_extra_args)),
        private_key_file: conn.private_key_file.clone().or_else(|| {
            config
                .private_key_file
                .as_ref()
                .map(|p| p.display().to_string())
        }),
        remote_user: conn
            .remote_user
            .clone()
            .or_else(|| config.remote_user.clone()),
    }
}

pub fn connection_pool(
    config: &Config,
    conn: &ConnectionArgs,
    become_password: Option<Secret>,
) -> Result<ConnectionPool, ExitCode> {
    connection_defaults(config, conn, become_password).map(ConnectionPool::new)
}
