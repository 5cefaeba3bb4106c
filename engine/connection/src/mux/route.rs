//! Whether a connection may skip the `ssh` process and talk to the ControlMaster
//! itself, and what the `ssh` client would have sent it. Asked of `ssh -G` (the
//! configuration after ~/.ssh/config, /etc/ssh/ssh_config and the command line are
//! applied, ControlPath expanded), once per ssh command line and cached, in the
//! process and between runs while its inputs are unchanged (`ssh_g_memo`): the %C
//! hash and every option below depend on the full configuration, which only ssh
//! knows.
//!
//! Only the plain case goes through the master directly: ControlMaster=auto (with
//! `yes` ssh would not use an existing master; `no`, `ask` and `autoask` keep the
//! process too), no tty, a normal session, stdin used, no port forwards, no
//! LocalCommand, no background fork. Anything else keeps the `ssh` process, which
//! then does whatever those options mean.

use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// How to open sessions on one ssh command line's master.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct MuxRoute {
    pub control_path: PathBuf,
    pub escape_char: u32,
    pub forward_x11: bool,
    pub forward_agent: bool,
    /// `SendEnv` patterns, matched against our environment per session.
    pub send_env: Vec<String>,
    /// `SetEnv` entries, sent as they are.
    pub set_env: Vec<String>,
}

type Routes = HashMap<Vec<String>, Option<Arc<MuxRoute>>>;

/// The route for `program args...` (the last argument, the remote command, is left
/// out: it does not change the configuration). None: use the `ssh` process.
pub(crate) fn route_for(program: &str, args: &[String]) -> Option<Arc<MuxRoute>> {
    static ROUTES: OnceLock<Mutex<Routes>> = OnceLock::new();
    let options = &args[..args.len().saturating_sub(1)];
    let mut key = vec![program.to_string()];
    key.extend(options.iter().cloned());
    let routes = ROUTES.get_or_init(|| Mutex::new(HashMap::new()));
    // Held while ssh -G runs: connections with the same command line wait for one
    // answer instead of each starting its own ssh.
    let mut routes = routes.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(known) = routes.get(&key) {
        return known.clone();
    }
    let route = ask_ssh(program, options).map(Arc::new);
    routes.insert(key, route.clone());
    route
}

fn ask_ssh(program: &str, options: &[String]) -> Option<MuxRoute> {
    let text = super::ssh_g_memo::answer(program, options, || {
        // -v: its debug lines name the configuration files read (ssh_g_memo
        // checks them); the `loglevel` it changes in the output is not used here.
        let out = std::process::Command::new(program)
            .args(["-v", "-G"])
            .args(options)
            .stdin(std::process::Stdio::null())
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| super::ssh_g_memo::SshAnswer::parse(&out.stdout, &out.stderr))
    })?;
    parse_config(&text)
}

/// Reads `ssh -G` output into a route, or None when the connection needs the
/// `ssh` process (see the module comment).
pub(crate) fn parse_config(text: &str) -> Option<MuxRoute> {
    let mut control_path = None;
    let mut master_auto = false;
    let mut escape_char = 0xffff_ffff;
    let mut forward_x11 = false;
    let mut forward_agent = false;
    let mut send_env = Vec::new();
    let mut set_env = Vec::new();
    for line in text.lines() {
        let (key, value) = line.split_once(' ').unwrap_or((line, ""));
        match (key, value) {
            ("controlpath", path) if path != "none" => control_path = Some(PathBuf::from(path)),
            ("controlmaster", v) => master_auto = v == "auto",
            ("requesttty", v) if v != "auto" && v != "false" && v != "no" => return None,
            ("sessiontype", v) if v != "default" => return None,
            ("stdinnull" | "forkafterauthentication", v) if v != "no" => return None,
            ("permitlocalcommand", v) if v != "no" => return None,
            ("localforward" | "remoteforward" | "dynamicforward", _) => return None,
            ("forwardx11", v) => forward_x11 = v == "yes",
            // Any value but "no" forwards an agent (a socket path, $SSH_AUTH_SOCK).
            ("forwardagent", v) => forward_agent = v != "no",
            ("escapechar", v) => escape_char = parse_escape(v)?,
            ("sendenv", v) => send_env.push(v.to_string()),
            ("setenv", v) => set_env.push(v.to_string()),
            _ => {}
        }
    }
    if !master_auto {
        return None;
    }
    Some(MuxRoute {
        control_path: control_path?,
        escape_char,
        forward_x11,
        forward_agent,
        send_env,
        set_env,
    })
}

/// `ssh -G` prints the escape character as `none`, the character, or `\^X`.
fn parse_escape(v: &str) -> Option<u32> {
    let bytes = v.as_bytes();
    match bytes {
        b"none" => Some(0xffff_ffff),
        [c] => Some(u32::from(*c)),
        [b'\\', b'^', c] | [b'^', c] => Some(u32::from(*c & 0x1f)),
        _ => None,
    }
}

/// The environment strings the ssh client would send: variables of ours whose
/// name matches a `SendEnv` pattern, in environment order, then `SetEnv`.
pub(crate) fn session_env(route: &MuxRoute) -> Vec<Vec<u8>> {
    let mut env = Vec::new();
    if !route.send_env.is_empty() {
        for (name, value) in std::env::vars_os() {
            let name = name.as_bytes();
            if route
                .send_env
                .iter()
                .any(|p| glob_match(p.as_bytes(), name))
            {
                let mut entry = name.to_vec();
                entry.push(b'=');
                entry.extend_from_slice(OsStr::as_bytes(&value));
                env.push(entry);
            }
        }
    }
    env.extend(route.set_env.iter().map(|s| s.as_bytes().to_vec()));
    env
}

/// ssh's patterns: `*` any run, `?` one character, everything else literal.
fn glob_match(pattern: &[u8], text: &[u8]) -> bool {
    match (pattern.first(), text.first()) {
        (None, None) => true,
        (Some(b'*'), _) => {
            glob_match(&pattern[1..], text) || (!text.is_empty() && glob_match(pattern, &text[1..]))
        }
        (Some(b'?'), Some(_)) => glob_match(&pattern[1..], &text[1..]),
        (Some(p), Some(t)) if p == t => glob_match(&pattern[1..], &text[1..]),
        _ => false,
    }
}

/// `TERM` as the ssh client takes it: a `SetEnv TERM=` first, then ours, else empty.
pub(crate) fn term(route: &MuxRoute) -> String {
    route
        .set_env
        .iter()
        .find_map(|e| e.strip_prefix("TERM="))
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .or_else(|| std::env::var("TERM").ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PLAIN: &str = "user root\nhostname 127.0.0.1\ncontrolmaster auto\n\
        controlpath /tmp/cp/b8be7703\nrequesttty auto\nsessiontype default\nstdinnull no\n\
        forkafterauthentication no\npermitlocalcommand no\nforwardx11 no\nforwardagent no\n\
        escapechar ~\nsendenv LANG\nsendenv LC_*\n";

    #[test]
    fn the_plain_case_goes_through_the_master() {
        let r = parse_config(PLAIN).expect("a route");
        assert_eq!(r.control_path, PathBuf::from("/tmp/cp/b8be7703"));
        assert_eq!(r.escape_char, u32::from(b'~'));
        assert_eq!(r.send_env, ["LANG", "LC_*"]);
        assert!(!r.forward_agent && !r.forward_x11);
    }

    #[test]
    fn options_only_the_ssh_process_honours_keep_it() {
        for (from, to) in [
            ("controlmaster auto", "controlmaster false"),
            ("controlmaster auto", "controlmaster true"),
            ("controlmaster auto", "controlmaster autoask"),
            ("controlpath /tmp/cp/b8be7703\n", ""),
            ("requesttty auto", "requesttty true"),
            ("requesttty auto", "requesttty force"),
            ("sessiontype default", "sessiontype subsystem"),
            ("stdinnull no", "stdinnull yes"),
            ("forkafterauthentication no", "forkafterauthentication yes"),
            ("permitlocalcommand no", "permitlocalcommand yes"),
            (
                "escapechar ~",
                "escapechar ~\nlocalforward 8080 [localhost]:80",
            ),
            ("escapechar ~", "escapechar ~\ndynamicforward 1080"),
        ] {
            let text = PLAIN.replace(from, to);
            assert_ne!(text, PLAIN, "{to}");
            assert_eq!(parse_config(&text), None, "{to}");
        }
    }

    #[test]
    fn forwarding_and_set_env_are_passed_on() {
        let text = PLAIN
            .replace("forwardagent no", "forwardagent yes")
            .replace(
                "escapechar ~",
                "escapechar none\nsetenv TERM=vt100\nsetenv A=x y",
            );
        let r = parse_config(&text).expect("a route");
        assert!(r.forward_agent);
        assert_eq!(r.escape_char, 0xffff_ffff);
        assert_eq!(r.set_env, ["TERM=vt100", "A=x y"]);
        assert_eq!(term(&r), "vt100");
        let env = session_env(&r);
        assert!(env.ends_with(&[b"TERM=vt100".to_vec(), b"A=x y".to_vec()]));
    }

    #[test]
    fn escape_spellings() {
        assert_eq!(parse_escape("\\^A"), Some(1));
        assert_eq!(parse_escape("~"), Some(0x7e));
        assert_eq!(parse_escape("none"), Some(0xffff_ffff));
        assert_eq!(parse_escape("what"), None);
    }

    #[test]
    fn send_env_patterns() {
        assert!(glob_match(b"LC_*", b"LC_ALL"));
        assert!(glob_match(b"LC_*", b"LC_"));
        assert!(!glob_match(b"LC_*", b"LANG"));
        assert!(glob_match(b"LANG", b"LANG"));
        assert!(!glob_match(b"LANG", b"LANGUAGE"));
        assert!(glob_match(b"L?NG", b"LANG"));
        assert!(glob_match(b"*", b""));
    }
}
