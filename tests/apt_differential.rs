//! Differential test of the `apt` module (and `package` on apt, `package_facts`,
//! `service_facts` in check mode) against ansible-core 2.18, installing and
//! removing real packages without touching this machine.
//!
//! The test builds its own tiny .deb packages (`dpkg-deb --build`) and a flat apt
//! repository of them (`dpkg-scanpackages`, a Release file the test writes), used
//! as `deb [trusted=yes] file:...`, so no network is needed. Each engine runs the
//! same playbook (with `--diff`) inside its own throwaway root: private mount and
//! PID namespaces where overlayfs mounts (upper and work directories in the test's
//! temp dir, the real directory as the lower layer) cover /etc, /usr and /var, so
//! whatever apt and dpkg write lands in the test's directories. Inside, sources.list
//! names only the local repository and the package lists start empty. (The temp
//! dir must not itself be on overlayfs: point TMPDIR elsewhere in such containers.)
//!
//! Compared: every task's registered result (including `diff`, as `--diff` makes
//! it; timing keys and the cache's timestamp dropped, the temp dir written as
//! `@DIR@`, lock holders' PIDs masked; of package_facts' `packages` the test
//! packages and the count), the play's stats, and at the end each sandbox's dpkg
//! state of the test packages, their manual/auto marks and the files they left;
//! then, in the same sandbox, a second playbook's `--diff` output under the default
//! callback, as text. The machine's /var/lib/dpkg/status is checked to be unchanged.
//! rsible runs every task natively (local `deb` files, clean/autoclean/autoremove
//! and `upgrade` given as a boolean included). Needs
//! root, unshare, overlayfs, dpkg-deb, dpkg-scanpackages (dpkg-dev), python3-apt
//! (the reference module) and RSIBLE_REF_BIN.

use serde_json::Value;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A test package: name, version, extra control fields, a conffile under /etc,
/// whether it goes into the repository (else it is only a .deb file).
struct Deb {
    name: &'static str,
    version: &'static str,
    control: &'static str,
    conffile: bool,
    in_repo: bool,
}

const PACKAGES: &[Deb] = &[
    Deb {
        name: "rsible-t-a",
        version: "1.0",
        control: "",
        conffile: false,
        in_repo: true,
    },
    Deb {
        name: "rsible-t-a",
        version: "2.0",
        control: "",
        conffile: false,
        in_repo: true,
    },
    Deb {
        name: "rsible-t-b",
        version: "1.0",
        control: "Depends: rsible-t-c\n",
        conffile: true,
        in_repo: true,
    },
    Deb {
        name: "rsible-t-c",
        version: "1.0",
        control: "",
        conffile: false,
        in_repo: true,
    },
    Deb {
        name: "rsible-t-r",
        version: "1.0",
        control: "Recommends: rsible-t-s\n",
        conffile: false,
        in_repo: true,
    },
    Deb {
        name: "rsible-t-s",
        version: "1.0",
        control: "",
        conffile: false,
        in_repo: true,
    },
    Deb {
        name: "rsible-t-d",
        version: "1.0",
        control: "",
        conffile: false,
        in_repo: false,
    },
    Deb {
        name: "rsible-t-d",
        version: "2.0",
        control: "",
        conffile: false,
        in_repo: false,
    },
    // A .deb whose dependency apt has to install from the repository.
    Deb {
        name: "rsible-t-e",
        version: "1.0",
        control: "Depends: rsible-t-c\n",
        conffile: false,
        in_repo: false,
    },
    // One whose dependency nothing provides, and one in conflict with e.
    Deb {
        name: "rsible-t-f",
        version: "1.0",
        control: "Depends: rsible-t-nosuch (>= 1.0)\n",
        conffile: false,
        in_repo: false,
    },
    // An alternative dependency satisfied by its second choice, and a Recommends.
    Deb {
        name: "rsible-t-h",
        version: "1.0",
        control: "Depends: rsible-t-nosuch | rsible-t-b\nRecommends: rsible-t-r\n",
        conffile: false,
        in_repo: false,
    },
    Deb {
        name: "rsible-t-g",
        version: "1.0",
        control: "Conflicts: rsible-t-e\n",
        conffile: false,
        in_repo: false,
    },
];

const PLAYBOOK: &str = r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - name: the first update of the cache changes it
      apt: {update_cache: true}
    - name: a fresh cache is left alone
      apt: {update_cache: true, cache_valid_time: 3600}
    - apt: {name: [rsible-t-a=1.0, rsible-t-b], cache_valid_time: 3600}
      check_mode: true
    - apt: {name: [rsible-t-a=1.0, rsible-t-b], cache_valid_time: 3600}
    - name: second run changes nothing
      apt: {name: [rsible-t-a=1.0, rsible-t-b]}
    - apt: {name: rsible-t-a, state: latest}
      check_mode: true
    - apt: {name: rsible-t-a, state: latest}
    - apt: {name: rsible-t-a, state: latest}
    - name: an older version is no downgrade without allow_downgrade
      apt: {name: rsible-t-a=1.0}
      ignore_errors: true
    - apt: {name: rsible-t-a=1.0, allow_downgrade: true}
      check_mode: true
    - apt: {name: rsible-t-a=1.0, allow_downgrade: true, lock_timeout: 30}
    - apt: {name: rsible-t-a=1.0, allow_downgrade: true}
    - name: without recommends
      apt: {name: rsible-t-r, install_recommends: false}
    - apt: {name: rsible-t-r, state: absent}
    - apt: {name: rsible-t-r, install_recommends: true}
      check_mode: true
    - apt: {name: rsible-t-r, install_recommends: true}
    - name: a missing package fails and installs nothing
      apt: {name: [rsible-t-nosuch, rsible-t-c]}
      ignore_errors: true
    - apt: {deb: "{{ debs }}/rsible-t-d_1.0_all.deb"}
      check_mode: true
    - apt: {deb: "{{ debs }}/rsible-t-d_1.0_all.deb"}
    - apt: {deb: "{{ debs }}/rsible-t-d_1.0_all.deb"}
    - apt: {name: [rsible-t-b, rsible-t-nosuch], state: absent}
      check_mode: true
    - apt: {name: [rsible-t-b, rsible-t-nosuch], state: absent}
    - apt: {name: rsible-t-b, state: absent}
    - name: purge takes the configuration a removal left
      apt: {name: rsible-t-b, state: absent, purge: true}
      check_mode: true
    - apt: {name: rsible-t-b, state: absent, purge: true}
    - apt: {name: rsible-t-b, state: absent, purge: true}
    - name: autoremove takes the dependency left behind
      apt: {name: rsible-t-d, state: absent, autoremove: true}
      check_mode: true
    - apt: {name: rsible-t-d, state: absent, autoremove: true}
    - name: package on apt (from the pkg_mgr fact, and named)
      package: {name: [rsible-t-c, rsible-t-s], state: present}
      check_mode: true
    - package: {name: [rsible-t-c, rsible-t-s], state: present}
    - package: {name: rsible-t-s, state: absent, use: apt}
    - package: {name: rsible-t-s, state: absent, use: apt}
    - package_facts: {manager: apt}
    - package_facts: {}
      check_mode: true
    - service_facts:
      check_mode: true
    # Another process holds apt's locks: update_cache waits lock_timeout seconds for
    # the lists lock, an install fails on dpkg's lock as apt-get does.
    - shell: "{{ hold_lock }}"
      vars: {lock: /var/lib/apt/lists/lock}
      changed_when: false
    - apt: {update_cache: true, lock_timeout: 1}
      ignore_errors: true
    - shell: "{{ release_lock }}"
      changed_when: false
    - shell: "{{ hold_lock }}"
      vars: {lock: /var/lib/dpkg/lock-frontend}
      changed_when: false
    - apt: {name: rsible-t-a=2.0, lock_timeout: 1}
      ignore_errors: true
    - shell: "{{ release_lock }}"
      changed_when: false
    - apt: {update_cache: true, lock_timeout: 1}
    # Options Kubespray's roles pass, and the `>=` spec.
    - apt: {name: "rsible-t-a>=1.5"}
      check_mode: true
    - apt: {name: "rsible-t-a>=1.5"}
    - apt: {name: rsible-t-a=1.0, allow_downgrades: true, dpkg_options: "force-confold"}
    - apt: {name: [rsible-t-a, rsible-t-s], state: latest, only_upgrade: true}
    - apt: {name: rsible-t-s, default_release: rsible-test}
    - apt: {name: rsible-t-s, update_cache: true, force: true}
    - apt: {name: rsible-t-s, state: absent, autoremove: true, force: true}
    - apt: {name: "rsible-t-a=1.0=1"}
      ignore_errors: true
    - apt: {update_cache: true}
      check_mode: true
    - name: a version that is not the installed one is not removed
      apt: {name: rsible-t-a=1.0, state: absent}
    - apt: {name: rsible-t-a=2.0, state: absent}
      check_mode: true
    # upgrade (apt-get, as there is no aptitude): the test packages are all the
    # lists know, so only they can be upgraded.
    - apt: {name: rsible-t-a=1.0, allow_downgrade: true}
    - apt: {upgrade: safe}
      check_mode: true
    - apt: {upgrade: dist, update_cache: true, autoremove: true}
      check_mode: true
    - apt: {upgrade: "yes", default_release: rsible-test}
    - apt: {upgrade: full}
    - apt: {name: rsible-t-a=1.0, allow_downgrade: true}
    - apt: {upgrade: dist, autoremove: true}
    - shell: "{{ hold_lock }}"
      vars: {lock: /var/lib/dpkg/lock-frontend}
      changed_when: false
    - apt: {upgrade: "yes"}
      ignore_errors: true
    - shell: "{{ release_lock }}"
      changed_when: false
    # name '*' with state latest: everything installed is upgraded.
    - apt: {name: rsible-t-a=1.0, allow_downgrade: true}
    - apt: {name: "*", state: latest}
      check_mode: true
    - apt: {name: "*", state: latest, update_cache: true}
    - apt: {name: "*", state: latest}
    - apt: {name: ["*", rsible-t-s], state: latest}
      ignore_errors: true
    # A held package changes only with allow_change_held_packages.
    - command: apt-mark hold rsible-t-a
    - apt: {name: rsible-t-a=1.0, allow_downgrade: true}
      ignore_errors: true
    - apt: {name: rsible-t-a=1.0, allow_downgrade: true, allow_change_held_packages: true}
    - name: a held package is removed all the same
      apt: {name: rsible-t-a, state: absent}
    - apt: {name: rsible-t-a, state: absent, allow_change_held_packages: true}
    # autoremove without packages: an automatically installed package that
    # nothing needs any more goes.
    - apt: {name: rsible-t-b}
    - command: apt-mark auto rsible-t-c
    - apt: {name: rsible-t-b, state: absent}
    - apt: {autoremove: true}
      check_mode: true
    - apt: {autoremove: true}
    - apt: {autoremove: "yes", purge: true}
    # autoclean deletes the cached .debs apt can no longer download (d is in no
    # repository); with autoremove too only autoclean runs; with a package it is
    # not run at all.
    - command: cp {{ debs }}/rsible-t-d_1.0_all.deb /var/cache/apt/archives/
    - apt: {autoclean: true}
      check_mode: true
    - apt: {autoclean: true, autoremove: true}
    - apt: {autoclean: true}
    - apt: {autoclean: true, name: rsible-t-s}
    # clean runs even in check mode, first, and alone ends the task (no cache update).
    - apt: {clean: true}
      check_mode: true
    - apt: {clean: true, update_cache: true}
    - apt: {clean: true, name: rsible-t-s}
    # upgrade given as a YAML boolean: true is "yes", false "no".
    - apt: {name: rsible-t-a=1.0}
    - apt: {upgrade: true}
      check_mode: true
    - apt: {upgrade: yes}
    - apt: {upgrade: true}
    - apt: {upgrade: false, autoremove: true}
    # deb files: a newer version, the same again, an older one (refused, then
    # allowed), a state that deb does not support.
    - apt: {deb: "{{ debs }}/rsible-t-d_2.0_all.deb"}
      check_mode: true
    - apt: {deb: "{{ debs }}/rsible-t-d_2.0_all.deb"}
    - apt: {deb: "{{ debs }}/rsible-t-d_2.0_all.deb"}
    - apt: {deb: "{{ debs }}/rsible-t-d_1.0_all.deb"}
      ignore_errors: true
    - apt: {deb: "{{ debs }}/rsible-t-d_1.0_all.deb", allow_downgrade: true}
    - apt: {deb: "{{ debs }}/rsible-t-d_1.0_all.deb", state: absent}
      ignore_errors: true
    # A missing dependency (c, autoremoved above) comes from the repository first.
    - apt: {deb: "{{ debs }}/rsible-t-e_1.0_all.deb"}
      check_mode: true
      ignore_errors: true
    - apt: {deb: "{{ debs }}/rsible-t-e_1.0_all.deb"}
    - apt: {deb: "{{ debs }}/rsible-t-e_1.0_all.deb,{{ debs }}/rsible-t-d_1.0_all.deb"}
    # Broken: a dependency nothing provides, a conflict, no such file, no .deb.
    - apt: {deb: "{{ debs }}/rsible-t-f_1.0_all.deb"}
      ignore_errors: true
    - apt: {deb: "{{ debs }}/rsible-t-g_1.0_all.deb"}
      ignore_errors: true
    - apt: {deb: "{{ debs }}/rsible-t-nosuch_1.0_all.deb"}
      ignore_errors: true
    - apt: {deb: "{{ debs }}/not-a-deb.deb"}
      ignore_errors: true
    # deb URLs: downloaded first (the invocation then shows the downloaded file).
    - apt: {deb: "{{ deb_url }}/rsible-t-d_2.0_all.deb"}
      check_mode: true
    - apt: {deb: "{{ deb_url }}/rsible-t-d_2.0_all.deb"}
    - apt: {deb: "{{ deb_url }}/rsible-t-d_2.0_all.deb"}
    - apt: {deb: "{{ deb_url }}/rsible-t-nosuch_1.0_all.deb"}
      ignore_errors: true
    # Two files, one already installed; the other's dependencies and recommends
    # go through apt-get first.
    - apt:
        deb: "{{ debs }}/rsible-t-h_1.0_all.deb,{{ debs }}/rsible-t-e_1.0_all.deb"
        install_recommends: true
      check_mode: true
      ignore_errors: true
    - apt:
        deb: "{{ debs }}/rsible-t-h_1.0_all.deb,{{ debs }}/rsible-t-e_1.0_all.deb"
        install_recommends: true
    - apt:
        deb: "{{ debs }}/rsible-t-h_1.0_all.deb,{{ debs }}/rsible-t-e_1.0_all.deb"
        install_recommends: true
    # b goes again: the --diff playbook that follows installs it.
    - apt: {name: [rsible-t-h, rsible-t-b], state: absent, purge: true}
"#;

/// A task's shell script that starts a process holding the fcntl lock on `lock` (as
/// apt and dpkg lock) and returns once it holds it; and one that ends it. Files
/// under /var/tmp are the sandbox's own.
const LOCK_VARS: &str = r#"
hold_lock: |
  rm -f /var/tmp/rsible-locked
  /usr/bin/python3 -c 'import fcntl, sys, time
  f = open(sys.argv[1], "w")
  fcntl.lockf(f, fcntl.LOCK_EX)
  open("/var/tmp/rsible-locked", "w").close()
  time.sleep(600)' {{ lock }} > /dev/null 2>&1 &
  echo $! > /var/tmp/rsible-locker.pid
  while [ ! -e /var/tmp/rsible-locked ]; do
    kill -0 $(cat /var/tmp/rsible-locker.pid) || exit 1
    sleep 0.1
  done
release_lock: |
  kill $(cat /var/tmp/rsible-locker.pid)
  while kill -0 $(cat /var/tmp/rsible-locker.pid) 2> /dev/null; do sleep 0.1; done
"#;

const TASKS: usize = 113;

/// Builds the packages; returns (the repository, the directory of .deb files).
fn build_debs(dir: &Path) -> (PathBuf, PathBuf) {
    let repo = dir.join("repo");
    let debs = dir.join("debs");
    for d in [&repo, &debs] {
        fs::create_dir_all(d).expect("deb dirs");
    }
    for deb in PACKAGES {
        let tree = dir.join(format!("build/{}-{}", deb.name, deb.version));
        let share = tree.join(format!("usr/share/{}", deb.name));
        fs::create_dir_all(tree.join("DEBIAN")).expect("DEBIAN");
        fs::create_dir_all(&share).expect("share dir");
        fs::write(share.join("version"), format!("{}\n", deb.version)).expect("version file");
        fs::write(
            tree.join("DEBIAN/control"),
            format!(
                "Package: {}\nVersion: {}\nArchitecture: all\nMaintainer: rsible tests <t@example.invalid>\n\
                 Section: misc\nPriority: optional\n{}Description: rsible test package\n",
                deb.name, deb.version, deb.control
            ),
        )
        .expect("control");
        if deb.conffile {
            fs::create_dir_all(tree.join("etc")).expect("etc");
            fs::write(tree.join(format!("etc/{}.conf", deb.name)), "x = 1\n").expect("conffile");
            fs::write(
                tree.join("DEBIAN/conffiles"),
                format!("/etc/{}.conf\n", deb.name),
            )
            .expect("conffiles");
        }
        let out_dir = if deb.in_repo { &repo } else { &debs };
        let file = out_dir.join(format!("{}_{}_all.deb", deb.name, deb.version));
        let out = Command::new("dpkg-deb")
            .args(["--root-owner-group", "-Zgzip", "--build"])
            .arg(&tree)
            .arg(&file)
            .output()
            .expect("run dpkg-deb");
        assert!(
            out.status.success(),
            "dpkg-deb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let out = Command::new("dpkg-scanpackages")
        .args(["--multiversion", "."])
        .current_dir(&repo)
        .output()
        .expect("run dpkg-scanpackages");
    assert!(
        out.status.success(),
        "dpkg-scanpackages failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    fs::write(repo.join("Packages"), &out.stdout).expect("write Packages");
    // A Release file names the archive (for default_release, and the origin
    // package_facts reports); [trusted=yes] spares a signature, not the checksum.
    let sum = Command::new("sha256sum")
        .arg("Packages")
        .current_dir(&repo)
        .output()
        .expect("run sha256sum");
    let sum = String::from_utf8_lossy(&sum.stdout);
    let sum = sum.split_whitespace().next().expect("a checksum");
    fs::write(
        repo.join("Release"),
        format!(
            "Origin: rsible-tests\nLabel: rsible-tests\nSuite: rsible-test\nCodename: rsible-test\n\
             Architectures: all\nSHA256:\n {sum} {} Packages\n",
            out.stdout.len()
        ),
    )
    .expect("write Release");
    fs::write(debs.join("not-a-deb.deb"), "not a Debian package\n").expect("write not-a-deb");
    (repo, debs)
}

/// Serves the files of `dir` over HTTP on a loopback port (GET /NAME, 404 for
/// anything else), for `deb` URLs. The server thread ends with the test process.
fn serve_files(dir: PathBuf) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let port = listener.local_addr().expect("the bound address").port();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let dir = dir.clone();
            std::thread::spawn(move || serve_one(stream, &dir));
        }
    });
    port
}

fn serve_one(mut stream: TcpStream, dir: &Path) {
    let Ok(clone) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(clone);
    let mut request = String::new();
    if reader.read_line(&mut request).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            Ok(_) if line.trim().is_empty() => break,
            Ok(_) => {}
        }
    }
    let name = request
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .trim_start_matches('/');
    let file = (!name.is_empty() && !name.contains('/'))
        .then(|| fs::read(dir.join(name)).ok())
        .flatten();
    let (status, body) = match file {
        Some(bytes) => ("200 OK", bytes),
        None => ("404 Not Found", b"not found\n".to_vec()),
    };
    let head = format!(
        "HTTP/1.0 {status}\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

/// A downloaded .deb's temporary path (NAME_all + eight random characters +
/// .deb, in the engine's own temporary directory; dpkg shortens it to ".../...")
/// written as @FETCHED@, in every string of a result.
fn mask_fetched(v: &mut Value) {
    match v {
        Value::String(s) => *s = mask_fetched_text(s),
        Value::Array(items) => items.iter_mut().for_each(mask_fetched),
        Value::Object(map) => map.values_mut().for_each(mask_fetched),
        _ => {}
    }
}

fn mask_fetched_text(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find("_all") {
        let tail = &rest[i + 4..];
        let random = tail.get(..8).is_some_and(|r| {
            r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        });
        if random && tail[8..].starts_with(".deb") {
            let start = rest[..i].rfind([' ', '\n', '\'', '"']).map_or(0, |j| j + 1);
            out.push_str(&rest[..start]);
            out.push_str("@FETCHED@");
            rest = &tail[12..];
        } else {
            out.push_str(&rest[..i + 4]);
            rest = tail;
        }
    }
    out.push_str(rest);
    out
}

/// Mounts the throwaway root: overlays over /etc, /usr and /var, sources.list
/// naming only the local repository, no package lists yet.
const SETUP: &str = r#"
for d in etc usr var; do
  mkdir -p "$ROOT/upper/$d" "$ROOT/work/$d"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$ROOT/upper/$d,workdir=$ROOT/work/$d" "/$d"
done
rm -rf /etc/apt/sources.list.d /var/lib/apt/lists /var/lib/apt/periodic
mkdir -p /etc/apt/sources.list.d /var/lib/apt/lists/partial
printf 'deb [trusted=yes] file:%s ./\n' "$REPO" > /etc/apt/sources.list
# An old cache, so that the first update changes its time in both engines.
touch -d @1000000000 /var/lib/apt/lists
"#;

/// What the playbook left in the sandbox, written to $ROOT/end-state.
const AFTER: &str = r#"
{
  dpkg-query -W -f '${Package} ${Version} ${db:Status-Abbrev}\n' 'rsible-t-*'
  echo manual:; apt-mark showmanual 'rsible-t-*'
  echo auto:; apt-mark showauto 'rsible-t-*'
  echo files:; find /usr/share/rsible-t-* /etc/rsible-t-* 2>/dev/null | sort
} > "$ROOT/end-state" 2>&1
# apt's plans as the default callback prints them with --diff ("$1" is the engine).
ANSIBLE_STDOUT_CALLBACK=default "$1" -i inventory diff.yml --diff > "$ROOT/diff-output" 2>&1
"#;

/// Run after the main playbook, in the same sandbox, with the default callback:
/// `--diff` output of an install (check mode and real), a removal and a no-op.
const DIFF_PLAYBOOK: &str = r#"
- hosts: localhost
  gather_facts: false
  tasks:
    - apt: {name: [rsible-t-b, rsible-t-a], state: latest}
      check_mode: true
    - apt: {name: [rsible-t-b, rsible-t-a], state: latest}
    - apt: {name: rsible-t-b, state: absent, purge: true}
    - apt: {name: rsible-t-b, state: absent}
"#;

/// Runs one engine in its sandbox; returns each task's localhost result and the
/// play's stats (the recap's counts).
fn run_engine(
    program: &Path,
    ref_bin: &Path,
    dir: &Path,
    root: &Path,
    repo: &Path,
) -> (Vec<Value>, Value) {
    fs::create_dir_all(root).expect("sandbox dir");
    // As a user runs it: the reference's ansible-core on PATH, where rsible would
    // find the Python modules it falls back to.
    let path = format!(
        "{}:{}",
        ref_bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = rsible_testsupport::sandboxed(Path::new("/bin/sh"), SETUP, AFTER)
        .arg(program)
        .args([
            "-i",
            "inventory",
            "playbook.yml",
            "--diff",
            "-e",
            "@locks.yml",
            "-e",
        ])
        .arg(format!("debs={}", dir.join("debs").display()))
        .env("ROOT", root)
        .env("REPO", repo)
        .env("PATH", path)
        .current_dir(dir)
        .envs(rsible_testsupport::JSON_RESULTS_ENV.iter().copied())
        .output()
        .expect("run the playbook in its sandbox");
    let results = rsible_testsupport::json_task_results(program, &out, "localhost", TASKS);
    let report: Value = serde_json::from_slice(&out.stdout).expect("the json document");
    (results, report["stats"].clone())
}

/// A result as `register` keeps it: no internal keys, no timing, the cache's
/// timestamp only as present or not, the temp dir masked; of package_facts' (large)
/// package map only the test packages and the number of packages.
fn normalized(result: &Value, dir: &Path) -> String {
    let mut r = result.clone();
    mask_fetched(&mut r);
    if let Some(map) = r.as_object_mut() {
        map.retain(|k, _| !k.starts_with("_ansible_"));
        for timing in ["start", "end", "delta"] {
            map.remove(timing);
        }
        if let Some(t) = map.get_mut("cache_update_time") {
            *t = Value::String(format!("@TIME({})@", t.is_number()));
        }
    }
    if let Some(Value::Object(packages)) = r.pointer_mut("/ansible_facts/packages") {
        let count = packages.len();
        packages.retain(|k, _| k.starts_with("rsible-t-"));
        packages.insert("@count".into(), Value::from(count));
    }
    let text = serde_json::to_string_pretty(&r)
        .expect("json")
        .replace(&dir.display().to_string(), "@DIR@");
    mask_lock_holders(&text)
}

/// "held by process N" with the lock holder's PID (its sandbox's own) masked.
fn mask_lock_holders(text: &str) -> String {
    const HELD: &str = "held by process ";
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find(HELD) {
        out.push_str(&rest[..i + HELD.len()]);
        rest = rest[i + HELD.len()..].trim_start_matches(|c: char| c.is_ascii_digit());
        out.push_str("@PID@");
    }
    out.push_str(rest);
    out
}

fn sha256(path: &str) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("run sha256sum");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn apt_matches_ansible_in_a_throwaway_root() {
    let Some(ref_bin) = rsible_testsupport::reference_bin_dir() else {
        eprintln!("RSIBLE_SKIP_DIFFERENTIAL set: skipping the apt differential test");
        return;
    };
    rsible_testsupport::require_root("the apt differential test (namespaces, overlay mounts)");
    rsible_testsupport::require_tools(&[
        "unshare",
        "dpkg-deb",
        "dpkg-scanpackages",
        "apt-get",
        "sha256sum",
    ]);
    let python_apt = Command::new("/usr/bin/python3")
        .args(["-c", "import apt"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        python_apt,
        "python3-apt is missing: scripts/setup-test-env.sh installs it"
    );
    let status_before = sha256("/var/lib/dpkg/status");

    let dir = tempfile::tempdir().expect("tempdir");
    // apt reads file: repositories as its unprivileged _apt user when it can.
    fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let (repo, _) = build_debs(dir.path());
    fs::write(dir.path().join("playbook.yml"), PLAYBOOK).expect("write playbook");
    let port = serve_files(dir.path().join("debs"));
    fs::write(
        dir.path().join("locks.yml"),
        format!("{LOCK_VARS}deb_url: http://127.0.0.1:{port}\n"),
    )
    .expect("write lock vars");
    fs::write(dir.path().join("diff.yml"), DIFF_PLAYBOOK).expect("write diff playbook");
    fs::write(
        dir.path().join("inventory"),
        "localhost ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n",
    )
    .expect("write inventory");
    let ref_root = dir.path().join("ref-root");
    let our_root = dir.path().join("our-root");
    let reference = ref_bin.join("ansible-playbook");
    let ours = PathBuf::from(env!("CARGO_BIN_EXE_rsible-playbook"));
    let ((theirs, their_stats), (mine, my_stats)) = std::thread::scope(|s| {
        let t = s.spawn(|| run_engine(&reference, &ref_bin, dir.path(), &ref_root, &repo));
        let m = s.spawn(|| run_engine(&ours, &ref_bin, dir.path(), &our_root, &repo));
        (
            t.join().expect("reference run"),
            m.join().expect("rsible run"),
        )
    });
    if std::env::var_os("RSIBLE_TEST_SHOW").is_some() {
        for (i, t) in theirs.iter().enumerate() {
            eprintln!("task {} reference: {}", i + 1, normalized(t, dir.path()));
        }
    }
    let mut differences = Vec::new();
    for (i, (t, m)) in theirs.iter().zip(&mine).enumerate() {
        let (t, m) = (normalized(t, dir.path()), normalized(m, dir.path()));
        if t != m {
            differences.push(format!("task {}:\nansible: {t}\nrsible:  {m}", i + 1));
        }
    }
    if their_stats != my_stats {
        differences.push(format!(
            "stats:\nansible: {their_stats}\nrsible:  {my_stats}"
        ));
    }
    let end_state = |root: &Path| {
        fs::read_to_string(root.join("end-state")).unwrap_or_else(|e| format!("no end state: {e}"))
    };
    let (want, got) = (end_state(&ref_root), end_state(&our_root));
    if want != got {
        differences.push(format!("end state:\nansible:\n{want}\nrsible:\n{got}"));
    }
    let diff_output = |root: &Path| {
        fs::read_to_string(root.join("diff-output")).unwrap_or_else(|e| format!("no output: {e}"))
    };
    let (want_text, got_text) = (diff_output(&ref_root), diff_output(&our_root));
    if want_text != got_text {
        differences.push(format!(
            "--diff output (default callback):\nansible:\n{want_text}\nrsible:\n{got_text}"
        ));
    }
    assert!(differences.is_empty(), "{}", differences.join("\n\n"));
    assert!(
        want_text.contains("The following NEW packages will be installed:")
            && want_text.contains("The following packages will be REMOVED:")
            && want_text.contains("changed=3"),
        "the reference's --diff run did not show apt's plans:\n{want_text}"
    );

    // The playbook did what it says (1-based task numbers), so the comparison
    // above compared real installs and removals.
    let changed = |task: usize| theirs[task - 1]["changed"].clone();
    for task in [
        1, 4, 7, 11, 13, 16, 19, 22, 25, 28, 30, 31, 44, 45, 46, 47, 49, 51, 53, 54, 55, 56, 57,
        59, 60, 64, 65, 66, 69, 71, 72, 74, 76, 77, 78, 81, 82, 85, 86, 88, 89, 90, 93, 94, 97,
        100, 106, 107, 111, 113,
    ] {
        assert_eq!(
            changed(task),
            Value::Bool(true),
            "task {task} should change"
        );
    }
    for task in [
        2, 5, 8, 12, 20, 23, 26, 32, 52, 58, 67, 73, 79, 83, 87, 91, 92, 95, 101, 108, 112,
    ] {
        assert_eq!(
            changed(task),
            Value::Bool(false),
            "task {task} should not change"
        );
    }
    assert!(
        want.contains("rsible-t-c 1.0 ii") && want.contains("rsible-t-r 1.0 ii"),
        "the reference's end state lacks the installed test packages:\n{want}"
    );
    for (task, wanted) in [
        (37, "Failed to lock apt for exclusive operation: Failed to lock directory /var/lib/apt/lists/"),
        (40, "Could not get lock /var/lib/dpkg/lock-frontend"),
        (62, "'/usr/bin/apt-get upgrade --with-new-pkgs ' failed: E: Could not get lock"),
        (70, "E: Held packages were changed"),
        (96, "A later version is already installed"),
        (98, "deb only supports state=present"),
        (102, "Dependency is not satisfiable: rsible-t-nosuch (>= 1.0)"),
        (103, "Conflicts with the installed package 'rsible-t-e'"),
        (104, "Unable to install package: E:Could not open file"),
        (105, "Unable to install package: E:Invalid archive signature"),
        (109, "Failure downloading http://127.0.0.1:"),
    ] {
        let msg = theirs[task - 1]["msg"].as_str().unwrap_or_default();
        assert!(msg.contains(wanted), "task {task} should fail with {wanted:?}: {msg}");
    }
    let prepared = theirs[6]["diff"]["prepared"].as_str().unwrap_or_default();
    assert!(
        prepared.contains("rsible-t-a"),
        "--diff should show apt's plan: {}",
        theirs[6]
    );
    assert_eq!(
        sha256("/var/lib/dpkg/status"),
        status_before,
        "the machine's dpkg status changed: the sandbox leaked"
    );
    assert!(
        !Path::new("/usr/share/rsible-t-a").exists(),
        "a test package's files reached the machine"
    );
}
