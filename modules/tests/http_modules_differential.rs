//! Differential test for the native `uri` (and `get_url`) against ansible-core 2.18,
//! with a loopback HTTP/HTTPS server the test starts itself (`http/server.py`; its
//! certificates are made with `openssl` here: a CA, a server certificate for
//! 127.0.0.1, a client certificate; one HTTPS port requires the client certificate).
//!
//! Each case has a directory; its steps (module calls, with `@D@` for the case
//! directory, `@H@`/`@S@`/`@C@` for the plain, HTTPS and client-certificate HTTPS
//! base URLs and `@P@` for the certificate directory) run through the reference in
//! one `ansible-playbook` run (json callback) and through `rsible_modules::run_module`.
//! Compared: every result key except timing, `invocation` included, and each case
//! directory's files (content and mode) at the end.
//!
//! Needs RSIBLE_REF_BIN, python3 and openssl; without RSIBLE_REF_BIN the test fails
//! unless RSIBLE_SKIP_DIFFERENTIAL=1.

mod support;
use serde_json::{json, Map, Value};
use std::fs;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::cases::{case, case_dir, compare, prepare, reference_tasks, run_ours, Case};
use support::reference::{playbook_command, write_localhost_play};
use support::result_view::{backup_made, mark_volatile, remove_keys, CONTROLLER_KEYS};
use support::steps::{checked, step, substituted, Step};
use support::{assert_no_differences, reference_bin};

/// The server and its certificates; killed when dropped.
struct Server {
    child: Child,
    dir: tempfile::TempDir,
    ports: Vec<u16>,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn make_certs(dir: &Path) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec!["req", "-x509"];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
        "-days",
        "2",
        "-subj",
        "/CN=rsible test CA",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl(dir, &ca);
    fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .unwrap();
    fs::write(dir.join("client.ext"), "extendedKeyUsage=clientAuth\n").unwrap();
    for who in ["server", "client"] {
        let key = format!("{who}.key");
        let csr = format!("{who}.csr");
        let crt = format!("{who}.crt");
        let ext = format!("{who}.ext");
        let subj = format!("/CN=rsible test {who}");
        let mut req = vec!["req"];
        req.extend(ec);
        req.extend(["-keyout", &key, "-out", &csr, "-subj", &subj]);
        openssl(dir, &req);
        openssl(
            dir,
            &[
                "x509",
                "-req",
                "-in",
                &csr,
                "-CA",
                "ca.crt",
                "-CAkey",
                "ca.key",
                "-CAcreateserial",
                "-out",
                &crt,
                "-days",
                "2",
                "-extfile",
                &ext,
            ],
        );
    }
}

fn start_server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    make_certs(dir.path());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/http/server.py");
    let child = Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .stdin(Stdio::null())
        .spawn()
        .expect("start python3 test server");
    let mut server = Server {
        child,
        dir,
        ports: Vec::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    let ports_file = server.dir.path().join("ports");
    while Instant::now() < deadline {
        if let Ok(text) = fs::read_to_string(&ports_file) {
            server.ports = text
                .split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(server.ports.len(), 3, "the test server did not start");
    server
}

/// A loopback port nothing listens on: bound, then closed.
fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

struct Env<'a> {
    server: &'a Server,
    refused: u16,
}

/// The step's arguments with the case directory, the server's URLs and its
/// certificate directory filled in.
fn args_for(env: &Env, root: &Path, i: usize, s: &Step) -> Map<String, Value> {
    let p = &env.server.ports;
    substituted(
        &s.args,
        &[
            ("@D@", &case_dir(root, i).display().to_string()),
            ("@H@", &format!("http://127.0.0.1:{}", p[0])),
            ("@S@", &format!("https://127.0.0.1:{}", p[1])),
            ("@C@", &format!("https://127.0.0.1:{}", p[2])),
            ("@X@", &format!("http://127.0.0.1:{}", env.refused)),
            ("@P@", &env.server.dir.path().display().to_string()),
        ],
    )
}

fn run_reference(bin: &str, env: &Env, root: &Path, cases: &[Case]) -> Vec<Value> {
    let tasks = reference_tasks(cases, false, |i, s| args_for(env, root, i, s));
    let expected = tasks.len();
    let playbook = write_localhost_play(root, tasks);
    let out = playbook_command(bin, &playbook, &[])
        .env_remove("http_proxy")
        .env_remove("https_proxy")
        .env_remove("HTTP_PROXY")
        .env_remove("HTTPS_PROXY")
        .output()
        .expect("run reference ansible-playbook");
    support::localhost_results(&out, expected)
}

/// What is compared of a result: paths as `@R@`, ports as `@PORT@`, the
/// `(_ssl.c:NNNN)` suffix of OpenSSL messages (a line of the Python build) and
/// controller-added and timing keys dropped.
fn view(result: &Value, root: &Path, env: &Env, volatile: &[&str]) -> Value {
    let mut text = result
        .to_string()
        .replace(&root.display().to_string(), "@R@")
        .replace(&env.server.dir.path().display().to_string(), "@P@");
    for port in env.server.ports.iter().chain(std::iter::once(&env.refused)) {
        text = text.replace(&format!(":{port}"), ":@PORT@");
    }
    let ssl_line = regex::Regex::new(r" \(_ssl\.c:\d+\)").unwrap();
    let text = ssl_line.replace_all(&text, "").into_owned();
    let mut v: Map<String, Value> = serde_json::from_str(&text).unwrap_or_default();
    remove_keys(&mut v, &CONTROLLER_KEYS);
    // Argument errors: the agent's validation reports no `invocation` (a known
    // difference of all native modules); the message is compared.
    let msg = v.get("msg").and_then(Value::as_str).unwrap_or("");
    if msg.starts_with("Unsupported parameters") || msg.starts_with("Elements value") {
        v.remove("invocation");
    }
    backup_made(&mut v, &["backup_file"]);
    // get_url's `src` names a temporary file of each engine.
    if v.contains_key("checksum_src") {
        mark_volatile(&mut v, &["src"]);
    }
    mark_volatile(&mut v, volatile);
    Value::Object(v)
}

fn assert_cases_match(cases: Vec<Case>) {
    let Some(bin) = reference_bin() else { return };
    let server = start_server();
    let env = Env {
        server: &server,
        refused: closed_port(),
    };
    let ref_root = tempfile::tempdir().unwrap();
    let our_root = tempfile::tempdir().unwrap();
    prepare(ref_root.path(), &cases);
    prepare(our_root.path(), &cases);
    let reference = run_reference(&bin, &env, ref_root.path(), &cases);
    let ours = run_ours(&cases, false, |i, s| args_for(&env, our_root.path(), i, s));
    assert_no_differences(&compare(
        &cases,
        ref_root.path(),
        &reference,
        our_root.path(),
        &ours,
        |result, root, s| view(result, root, &env, s.volatile),
    ));
}

fn uri_cases() -> Vec<Case> {
    let uri = "uri";
    vec![
        case(
            &[],
            vec![
                step(uri, json!({"url": "@H@/text"})),
                step(uri, json!({"url": "@H@/text", "return_content": true})),
                step(uri, json!({"url": "@H@/json"})),
                step(uri, json!({"url": "@H@/missing"})),
                step(
                    uri,
                    json!({"url": "@H@/missing", "status_code": [200, "404"], "return_content": true}),
                ),
                step(uri, json!({"url": "@H@/problem", "status_code": 500})),
                step(uri, json!({"url": "@X@/refused"})),
                step(uri, json!({"url": "@H@/redirect"})),
                step(
                    uri,
                    json!({"url": "@H@/redirect", "follow_redirects": "none", "status_code": 302}),
                ),
                step(
                    uri,
                    json!({"url": "@H@/redirect", "method": "POST", "body": "x"}),
                ),
                step(
                    uri,
                    json!({"url": "@H@/echo", "method": "POST", "body_format": "json",
                    "body": {"a": 1, "b": ["é", true]}, "headers": {"X-Custom": 5}}),
                ),
                step(
                    uri,
                    json!({"url": "@H@/echo", "method": "PUT", "body_format": "form-urlencoded",
                    "body": {"name": "a b", "v": ["1", "2"]}}),
                ),
                step(uri, json!({"url": "@H@/echo", "method": "get"})),
                step(
                    uri,
                    json!({"url": "@H@/auth", "url_username": "user", "url_password": "s3cret-pw"}),
                ),
                step(
                    uri,
                    json!({"url": "@H@/echo", "url_username": "user", "url_password": "s3cret-pw",
                    "force_basic_auth": true}),
                ),
                step(
                    uri,
                    json!({"url": "@H@/auth", "url_username": "user", "url_password": "wrong"}),
                ),
                step(uri, json!({"url": "@H@/text", "creates": "@D@"})),
                step(uri, json!({"url": "@H@/text", "removes": "@D@/nothing"})),
                step(uri, json!({"url": "@H@/text", "bogus": 1})),
                step(uri, json!({"url": "@H@/text", "status_code": "abc"})),
                checked(uri, json!({"url": "@H@/text"})),
            ],
        ),
        // dest: a file written (changed each time, as Ansible), a directory.
        case(
            &[("sub/keep", "x")],
            vec![
                step(
                    uri,
                    json!({"url": "@H@/text", "dest": "@D@/out.txt", "mode": "0600"}),
                ),
                step(uri, json!({"url": "@H@/attach", "dest": "@D@/sub"})),
                step(
                    uri,
                    json!({"url": "@H@/files/data.bin", "dest": "@D@/sub/"}),
                ),
            ],
        ),
        // TLS: trusted through ca_path, unknown CA, validate_certs off, client certificates.
        case(
            &[],
            vec![
                step(uri, json!({"url": "@S@/text", "ca_path": "@P@/ca.crt"})),
                step(uri, json!({"url": "@S@/text"})),
                step(uri, json!({"url": "@S@/json", "validate_certs": false})),
                step(
                    uri,
                    json!({"url": "@C@/text", "ca_path": "@P@/ca.crt",
                    "client_cert": "@P@/client.crt", "client_key": "@P@/client.key"}),
                ),
                step(
                    uri,
                    json!({"url": "@C@/text", "validate_certs": "no",
                    "client_cert": "@P@/client.crt", "client_key": "@P@/client.key"}),
                ),
            ],
        ),
    ]
}

fn get_url_cases() -> Vec<Case> {
    let g = "get_url";
    let sum = "sha256:0e5b2b2f4e0bd0dd5d1d9e1d1b0b2a0e7c3bb0b5f4d1d3b5f1f0a9b4b0f5c3a1";
    vec![
        // A new file, then unchanged (If-Modified-Since: 304), then forced.
        case(
            &[],
            vec![
                checked(
                    g,
                    json!({"url": "@H@/files/data.bin", "dest": "@D@/data.bin"}),
                ),
                Step {
                    volatile: &["src"],
                    ..step(
                        g,
                        json!({"url": "@H@/files/data.bin", "dest": "@D@/data.bin", "mode": "0640"}),
                    )
                },
                step(
                    g,
                    json!({"url": "@H@/files/data.bin", "dest": "@D@/data.bin", "mode": "0640"}),
                ),
                Step {
                    volatile: &["src"],
                    ..step(
                        g,
                        json!({"url": "@H@/files/data.bin", "dest": "@D@/data.bin", "force": true}),
                    )
                },
            ],
        ),
        // Checksums: from a checksum file, matching the existing file, wrong.
        case(
            &[("old.bin", "old\n")],
            vec![
                Step {
                    volatile: &["src"],
                    ..step(
                        g,
                        json!({"url": "@H@/files/data.bin", "dest": "@D@/c.bin",
                    "checksum": "sha256:@H@/files/SHA256SUMS"}),
                    )
                },
                step(
                    g,
                    json!({"url": "@H@/files/data.bin", "dest": "@D@/c.bin",
                    "checksum": "sha256:@H@/files/SHA256SUMS"}),
                ),
                Step {
                    volatile: &["src", "msg"],
                    ..step(
                        g,
                        json!({"url": "@H@/files/data.bin", "dest": "@D@/old.bin",
                    "checksum": sum, "backup": true}),
                    )
                },
                step(
                    g,
                    json!({"url": "@H@/files/data.bin", "dest": "@D@/x.bin", "checksum": "sha256"}),
                ),
                step(
                    g,
                    json!({"url": "@H@/files/data.bin", "dest": "@D@/x.bin", "checksum": "sha256:zz"}),
                ),
            ],
        ),
        // A directory as dest (name from Content-Disposition), errors, auth, TLS.
        case(
            &[("sub/keep", "x")],
            vec![
                Step {
                    volatile: &["src"],
                    ..step(g, json!({"url": "@H@/attach", "dest": "@D@/sub"}))
                },
                step(g, json!({"url": "@H@/missing", "dest": "@D@/m"})),
                step(g, json!({"url": "@X@/file", "dest": "@D@/m"})),
                step(
                    g,
                    json!({"url": "@H@/files/data.bin", "dest": "@D@/nodir/f"}),
                ),
                Step {
                    volatile: &["src"],
                    ..step(
                        g,
                        json!({"url": "@H@/auth", "dest": "@D@/a.txt",
                    "url_username": "user", "url_password": "s3cret-pw", "force_basic_auth": true}),
                    )
                },
                step(g, json!({"url": "@S@/text", "dest": "@D@/t.txt"})),
                Step {
                    volatile: &["src"],
                    ..step(
                        g,
                        json!({"url": "@C@/text", "dest": "@D@/t.txt",
                    "ca_path": "@P@/ca.crt", "client_cert": "@P@/client.crt", "client_key": "@P@/client.key"}),
                    )
                },
            ],
        ),
    ]
}

#[test]
fn get_url_matches_the_reference() {
    assert_cases_match(get_url_cases());
}

#[test]
fn uri_matches_the_reference() {
    assert_cases_match(uri_cases());
}
