//! A plain-HTTP loopback server for playbook tests (`modules/tests/http/server.py`
//! without certificates): fixed Date/Server headers, so that two engines asking it
//! the same questions get byte-identical answers. Killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct TestHttpServer {
    child: Child,
    port: u16,
    // Holds the ports file; removed when the server is dropped.
    _dir: tempfile::TempDir,
}

impl TestHttpServer {
    /// Start the server on a free loopback port (the server binds port 0) with the
    /// reference's Python (`RSIBLE_REF_PYTHON`) or `python3`.
    pub fn start() -> Result<TestHttpServer, String> {
        let dir = tempfile::tempdir().map_err(|e| format!("temporary directory: {e}"))?;
        let python = std::env::var_os("RSIBLE_REF_PYTHON")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("python3"));
        let child = Command::new(&python)
            .arg(script())
            .arg(dir.path())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", python.display()))?;
        let mut server = TestHttpServer {
            child,
            port: 0,
            _dir: dir,
        };
        server.port = server.wait_for_port()?;
        Ok(server)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn wait_for_port(&mut self) -> Result<u16, String> {
        let ports = self._dir.path().join("ports");
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(text) = std::fs::read_to_string(&ports) {
                return text
                    .split_whitespace()
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or_else(|| format!("bad ports file: {text:?}"));
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                return Err(format!("the test HTTP server exited: {status}"));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Err("the test HTTP server did not start within 30 s".into())
    }
}

impl Drop for TestHttpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../modules/tests/http/server.py")
}
