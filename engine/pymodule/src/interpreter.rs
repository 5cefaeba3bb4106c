//! Which Python runs a module: `ansible_python_interpreter` when set, else
//! discovery as ansible-core 2.18's `auto` modes do it. Discovery asks the
//! target's shell for each name of the fallback list (`command -v`), takes
//! the first found (2.18's distribution table has no real entries, so every
//! Linux target ends there) and, unless the mode is `*_silent`, warns that
//! the path was discovered.

/// ansible-core 2.18's INTERPRETER_PYTHON_FALLBACK default.
pub const DEFAULT_FALLBACK: &[&str] = &[
    "python3.13",
    "python3.12",
    "python3.11",
    "python3.10",
    "python3.9",
    "python3.8",
    "/usr/bin/python3",
    "python3",
];

/// The value of `ansible_python_interpreter` that asks for discovery.
pub fn is_discovery_mode(value: &str) -> bool {
    matches!(
        value,
        "auto" | "auto_silent" | "auto_legacy" | "auto_legacy_silent"
    )
}

/// The shell command that lists the platform and the interpreters found.
pub fn discovery_command(candidates: &[String]) -> String {
    let probes: Vec<String> = candidates
        .iter()
        .map(|c| format!("command -v '{}'", c.replace('\'', "")))
        .collect();
    format!(
        "echo PLATFORM; uname; echo FOUND; {}; echo ENDFOUND",
        probes.join("; ")
    )
}

/// The interpreter chosen and the warnings Ansible would add to the result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub interpreter: String,
    pub warnings: Vec<String>,
}

const DOC_LINK: &str =
    "https://docs.ansible.com/ansible-core/2.18/reference_appendices/interpreter_discovery.html";

/// Reads the discovery command's output.
pub fn choose(stdout: &str, mode: &str, host: &str, candidates: &[String]) -> Discovered {
    let silent = mode.ends_with("_silent");
    let mut warnings = Vec::new();
    let parsed = stdout
        .split_once("PLATFORM")
        .and_then(|(_, rest)| rest.split_once("FOUND"))
        .and_then(|(platform, rest)| {
            rest.split_once("ENDFOUND")
                .map(|(found, _)| (platform.trim().to_lowercase(), found))
        });
    let Some((platform, found)) = parsed else {
        if !silent {
            warnings.push(format!(
                "Unhandled error in Python interpreter discovery for host {host}: unexpected output from Python interpreter discovery"
            ));
            warnings.push(platform_warning("unknown", host, "/usr/bin/python3"));
        }
        return Discovered {
            interpreter: "/usr/bin/python3".into(),
            warnings,
        };
    };
    let found: Vec<&str> = found
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('/'))
        .collect();
    let Some(first) = found.first() else {
        if !silent {
            let tried: Vec<String> = candidates.iter().map(|c| format!("'{c}'")).collect();
            warnings.push(format!(
                "No python interpreters found for host {host} (tried [{}])",
                tried.join(", ")
            ));
        }
        return Discovered {
            interpreter: "/usr/bin/python3".into(),
            warnings,
        };
    };
    if !silent {
        warnings.push(platform_warning(&platform, host, first));
    }
    Discovered {
        interpreter: first.to_string(),
        warnings,
    }
}

fn platform_warning(platform: &str, host: &str, path: &str) -> String {
    format!(
        "Platform {platform} on host {host} is using the discovered Python interpreter at {path}, but future installation of another Python interpreter could change the meaning of that path. See {DOC_LINK} for more information."
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list() -> Vec<String> {
        DEFAULT_FALLBACK.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn first_found_wins_with_a_warning() {
        let out = "PLATFORM\nLinux\nFOUND\n/usr/bin/python3.11\n/usr/bin/python3\n/usr/bin/python3\nENDFOUND\n";
        let d = choose(out, "auto", "node1", &list());
        assert_eq!(d.interpreter, "/usr/bin/python3.11");
        assert!(d.warnings[0].starts_with(
            "Platform linux on host node1 is using the discovered Python interpreter at /usr/bin/python3.11"
        ));
        assert!(choose(out, "auto_silent", "node1", &list())
            .warnings
            .is_empty());
    }

    #[test]
    fn nothing_found() {
        let d = choose("PLATFORM\nLinux\nFOUND\nENDFOUND\n", "auto", "h", &list());
        assert_eq!(d.interpreter, "/usr/bin/python3");
        assert!(d.warnings[0]
            .starts_with("No python interpreters found for host h (tried ['python3.13'"));
    }

    #[test]
    fn command_probes_each_name() {
        let cmd = discovery_command(&["python3".into(), "/opt/bin/python".into()]);
        assert_eq!(
            cmd,
            "echo PLATFORM; uname; echo FOUND; command -v 'python3'; command -v '/opt/bin/python'; echo ENDFOUND"
        );
    }
}
