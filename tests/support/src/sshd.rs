//! A throwaway `sshd` bound to loopback, killed when dropped.

use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread::sleep;
use std::time::{Duration, Instant};

/// Where the system sshd lives; CI installs openssh-server at this path too.
const SSHD_CANDIDATES: &[&str] = &["/usr/sbin/sshd", "/usr/bin/sshd", "/sbin/sshd"];

/// Extra knobs for [`TestSshd::start_with`].
#[derive(Debug, Clone, Default)]
pub struct SshdOptions {
    /// Further loopback addresses to listen on (e.g. "127.0.0.2"), so that tests can
    /// address several "hosts" served by the same daemon.
    pub extra_addresses: Vec<String>,
    /// Extra lines appended verbatim to sshd_config.
    pub extra_config: Vec<String>,
    /// A command sshd is started through, its argv appended: e.g. `unshare`
    /// and a shell that mounts something in a private namespace first. It
    /// must end by exec-ing that argv, so [`TestSshd::pid`] stays the daemon's.
    pub wrapper: Vec<String>,
}

/// A running sshd. Dropping it kills the daemon and removes its directory.
pub struct TestSshd {
    /// TCP port sshd listens on, on every configured address.
    pub port: u16,
    /// Private key accepted by this sshd for [`TestSshd::user`].
    pub client_key_path: PathBuf,
    /// The user to log in as (the user running the tests).
    pub user: String,
    /// The primary address, always "127.0.0.1".
    pub host: String,
    child: Child,
    dir: tempfile::TempDir,
}

impl TestSshd {
    /// Start an sshd on 127.0.0.1 with default options.
    pub fn start() -> Result<TestSshd, String> {
        Self::start_with(&SshdOptions::default())
    }

    /// Start an sshd with extra listen addresses / config lines.
    ///
    /// Errors name the missing prerequisite (no sshd binary, ssh-keygen failing, ...)
    /// so a test that cannot run fails loudly instead of being skipped.
    pub fn start_with(opts: &SshdOptions) -> Result<TestSshd, String> {
        let sshd = find_sshd()?;
        let dir = tempfile::Builder::new()
            .prefix("rsible-sshd-")
            .tempdir()
            .map_err(|e| format!("cannot create temp dir for sshd: {e}"))?;
        let host_key = dir.path().join("host_ed25519");
        let client_key = dir.path().join("client_ed25519");
        keygen(&host_key)?;
        keygen(&client_key)?;
        let pubkey = fs::read_to_string(client_key.with_extension("pub"))
            .map_err(|e| format!("cannot read generated client public key: {e}"))?;
        let authorized = dir.path().join("authorized_keys");
        fs::write(&authorized, pubkey).map_err(|e| format!("cannot write authorized_keys: {e}"))?;
        ensure_privsep_dir();

        // The port is picked by binding to :0 and releasing it; another process could
        // grab it in between, so retry a few times on a failed start.
        let mut last_err = String::new();
        for _ in 0..5 {
            let port = crate::loopback::try_free_port()?;
            let cfg = write_config(dir.path(), port, &host_key, &authorized, opts)?;
            let log = dir.path().join("sshd.log");
            let log_file =
                fs::File::create(&log).map_err(|e| format!("cannot create sshd log: {e}"))?;
            let (program, wrapped_args): (PathBuf, Vec<String>) = match opts.wrapper.split_first() {
                Some((first, rest)) => (
                    PathBuf::from(first),
                    rest.iter()
                        .cloned()
                        .chain([sshd.display().to_string()])
                        .collect(),
                ),
                None => (sshd.clone(), Vec::new()),
            };
            let child = Command::new(&program)
                .args(&wrapped_args)
                .arg("-D")
                .arg("-e")
                .arg("-f")
                .arg(&cfg)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(log_file)
                .spawn()
                .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
            let mut child = child;
            match wait_until_accepting(&mut child, port, &opts.extra_addresses) {
                Ok(()) => {
                    return Ok(TestSshd {
                        port,
                        client_key_path: client_key,
                        user: current_user(),
                        host: "127.0.0.1".to_string(),
                        child,
                        dir,
                    });
                }
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    let text = fs::read_to_string(&log).unwrap_or_default();
                    last_err = format!("{e}; sshd log: {}", text.trim());
                }
            }
        }
        Err(format!("sshd did not start: {last_err}"))
    }

    /// The daemon's process id: every session, agent and command started
    /// through this server is its descendant.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The directory holding keys, config and the sshd log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The sshd log written so far (sshd runs with `-e`), for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    /// Arguments for the system `ssh` client to reach this server (before the
    /// destination): key, port and no host key checking.
    pub fn ssh_args(&self) -> Vec<String> {
        vec![
            "-i".into(),
            self.client_key_path.display().to_string(),
            "-p".into(),
            self.port.to_string(),
            "-o".into(),
            "StrictHostKeyChecking=no".into(),
            "-o".into(),
            "UserKnownHostsFile=/dev/null".into(),
            "-o".into(),
            "BatchMode=yes".into(),
        ]
    }
}

impl TestSshd {
    /// Inventory variable lines (for a `[group:vars]` section) that log in to
    /// this server as [`TestSshd::user`] with its key, host keys unchecked;
    /// each host still names its own `ansible_host` and `ansible_port`.
    pub fn inventory_login_vars(&self) -> String {
        format!(
            "ansible_user={}\n\
             ansible_ssh_private_key_file={}\n\
             ansible_ssh_common_args='-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null'\n",
            self.user,
            self.client_key_path.display()
        )
    }
}

impl TestSshd {
    /// Writes `inventory.ini` (one host, `node` in group `target`, logging in to
    /// this server, modules run by the system `/usr/bin/python3`, which a
    /// become user can read where a virtualenv may not be) and an `ansible.cfg`
    /// with pipelining (so the reference can become an unprivileged user without
    /// sharing temporary files), host keys unchecked and no retry files.
    pub fn write_single_node_bed(&self, dir: &Path) {
        let python = Path::new("/usr/bin/python3");
        assert!(python.exists(), "prerequisite missing: /usr/bin/python3");
        fs::write(
            dir.join("inventory.ini"),
            format!(
                "[target]\nnode ansible_host=127.0.0.1 ansible_port={} ansible_user={} \
                 ansible_ssh_private_key_file={} ansible_python_interpreter={}\n",
                self.port,
                self.user,
                self.client_key_path.display(),
                python.display()
            ),
        )
        .expect("write inventory.ini");
        fs::write(
            dir.join("ansible.cfg"),
            "[defaults]\nhost_key_checking = False\nretry_files_enabled = False\n\
             [ssh_connection]\npipelining = True\n\
             ssh_args = -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null\n",
        )
        .expect("write ansible.cfg");
    }
}

impl Drop for TestSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn find_sshd() -> Result<PathBuf, String> {
    SSHD_CANDIDATES
        .iter()
        .map(PathBuf::from)
        .find(|p| p.exists())
        .ok_or_else(|| {
            format!(
                "prerequisite missing: no sshd binary at {} (install openssh-server)",
                SSHD_CANDIDATES.join(", ")
            )
        })
}

fn keygen(path: &Path) -> Result<(), String> {
    let out = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "rsible-test", "-f"])
        .arg(path)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("prerequisite missing: cannot run ssh-keygen: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "ssh-keygen failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    Ok(())
}

/// sshd refuses to start without its privilege separation directory; packages create
/// it at boot via tmpfiles, which does not happen in containers.
fn ensure_privsep_dir() {
    let dir = Path::new("/run/sshd");
    if !dir.exists() {
        let _ = fs::create_dir_all(dir);
    }
}

fn write_config(
    dir: &Path,
    port: u16,
    host_key: &Path,
    authorized: &Path,
    opts: &SshdOptions,
) -> Result<PathBuf, String> {
    let mut lines = vec![
        format!("Port {port}"),
        "ListenAddress 127.0.0.1".to_string(),
    ];
    for addr in &opts.extra_addresses {
        lines.push(format!("ListenAddress {addr}"));
    }
    lines.extend([
        format!("HostKey {}", host_key.display()),
        format!("PidFile {}", dir.join("sshd.pid").display()),
        format!("AuthorizedKeysFile {}", authorized.display()),
        "StrictModes no".to_string(),
        "UsePAM no".to_string(),
        "PermitRootLogin yes".to_string(),
        "PasswordAuthentication no".to_string(),
        "KbdInteractiveAuthentication no".to_string(),
        "PubkeyAuthentication yes".to_string(),
        // Tests open many sessions in parallel through one daemon.
        "MaxStartups 100".to_string(),
        "MaxSessions 100".to_string(),
        "LogLevel ERROR".to_string(),
        "Subsystem sftp internal-sftp".to_string(),
    ]);
    lines.extend(opts.extra_config.iter().cloned());
    let cfg = dir.join("sshd_config");
    fs::write(&cfg, lines.join("\n") + "\n")
        .map_err(|e| format!("cannot write sshd_config: {e}"))?;
    Ok(cfg)
}

fn wait_until_accepting(child: &mut Child, port: u16, extra: &[String]) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut addrs = vec!["127.0.0.1".to_string()];
    addrs.extend(extra.iter().cloned());
    for addr in addrs {
        let sock: SocketAddr = format!("{addr}:{port}")
            .parse()
            .map_err(|e| format!("bad listen address {addr}: {e}"))?;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(format!("sshd exited early with {status}"));
            }
            if TcpStream::connect_timeout(&sock, Duration::from_millis(200)).is_ok() {
                break;
            }
            if Instant::now() > deadline {
                return Err(format!("sshd not accepting on {sock} after 10s"));
            }
            sleep(Duration::from_millis(50));
        }
    }
    Ok(())
}

fn current_user() -> String {
    std::env::var("USER")
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            let out = Command::new("id").arg("-un").output().ok()?;
            Some(String::from_utf8_lossy(&out.stdout).trim().to_string())
        })
        .unwrap_or_else(|| "root".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssh_reaches_the_test_sshd_on_each_address() {
        let opts = SshdOptions {
            extra_addresses: vec!["127.0.0.2".into()],
            ..Default::default()
        };
        let sshd = TestSshd::start_with(&opts).expect("sshd starts");
        for addr in ["127.0.0.1", "127.0.0.2"] {
            let out = Command::new("ssh")
                .args(sshd.ssh_args())
                .arg(format!("{}@{addr}", sshd.user))
                .arg("echo rsible-$((40+2))")
                .stdin(Stdio::null())
                .output()
                .expect("ssh runs");
            assert!(
                out.status.success(),
                "ssh to {addr} failed: {} / sshd log: {}",
                String::from_utf8_lossy(&out.stderr),
                sshd.log()
            );
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "rsible-42");
        }
    }

    /// The daemon's process is gone once the value is dropped. (Not checked
    /// through its port: the other test of this binary starts an sshd at the
    /// same time, on a free port the kernel may hand out again at once.)
    #[test]
    fn drop_stops_the_daemon() {
        let sshd = TestSshd::start().expect("sshd starts");
        let pid = sshd.pid();
        let proc_dir = std::path::PathBuf::from(format!("/proc/{pid}"));
        assert!(proc_dir.exists(), "the daemon runs before the drop");
        drop(sshd);
        assert!(
            !proc_dir.exists(),
            "sshd (pid {pid}) still exists after the drop"
        );
    }
}
