//! What dpkg and apt know of the packages one apt task names, asked once for
//! all of them. Ansible's module opens python-apt's cache once per run; asking
//! `dpkg-query` and `apt-cache policy` per package instead cost two process
//! starts (and a read of apt's 40 MB binary cache) for each of Kubespray's
//! twenty-odd packages, seconds per host.

use std::collections::HashMap;

use super::ModuleFail;
use crate::util::run::Output;

/// dpkg's record of one package.
pub struct DpkgRecord {
    /// `${db:Status-Status}`: "installed", "config-files", "not-installed", ...
    pub status: String,
    pub version: String,
}

/// The answers for a set of package names.
#[derive(Default)]
pub struct PackageQuery {
    dpkg: HashMap<String, DpkgRecord>,
    /// `apt-cache policy` output per package, header line included.
    policy: HashMap<String, String>,
}

impl PackageQuery {
    /// Asks dpkg-query about `names` (literal names, no globs), one process;
    /// `run` executes an argv. apt's side is asked by `load_policy`, only when
    /// some answer needs it: `apt-cache` opens apt's binary cache, which it
    /// first rebuilds (seconds) when the package lists are newer than it.
    pub fn load_dpkg(
        names: &[String],
        dpkg_query: String,
        run: impl Fn(Vec<String>) -> Result<Output, ModuleFail>,
    ) -> Result<Self, ModuleFail> {
        if names.is_empty() {
            return Ok(Self::default());
        }
        let mut argv = vec![
            dpkg_query,
            "-W".into(),
            "-f".into(),
            "${Package}\t${db:Status-Status}\t${Version}\n".into(),
        ];
        argv.extend(names.iter().cloned());
        // rc 1 only says that some name is unknown to dpkg; the known ones are listed.
        let dpkg = parse_dpkg(&run(argv)?.out);
        Ok(Self {
            dpkg,
            policy: HashMap::new(),
        })
    }

    /// Adds `apt-cache policy`'s answers for `names`, one process.
    pub fn load_policy(
        &mut self,
        names: &[String],
        apt_cache: String,
        run: impl Fn(Vec<String>) -> Result<Output, ModuleFail>,
    ) -> Result<(), ModuleFail> {
        if names.is_empty() {
            return Ok(());
        }
        let mut argv = vec![apt_cache, "policy".into()];
        argv.extend(names.iter().cloned());
        self.policy = parse_policy(&run(argv)?.out);
        Ok(())
    }

    /// Whether dpkg has `name` fully installed (python-apt's CURSTATE_INSTALLED).
    pub fn installed(&self, name: &str) -> bool {
        self.dpkg(name).is_some_and(|r| r.status == "installed")
    }

    /// dpkg's record, None when dpkg has never heard of the package.
    pub fn dpkg(&self, name: &str) -> Option<&DpkgRecord> {
        self.dpkg.get(name)
    }

    /// `apt-cache policy NAME`'s output, None when apt does not know the name.
    pub fn policy(&self, name: &str) -> Option<&str> {
        self.policy.get(name).map(String::as_str)
    }
}

/// One line per package instance; the first instance of a name wins (as a
/// single-name query read only its first line).
fn parse_dpkg(out: &str) -> HashMap<String, DpkgRecord> {
    let mut records = HashMap::new();
    for line in out.lines() {
        let mut fields = line.split('\t');
        let (Some(name), Some(status), Some(version)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        records
            .entry(name.to_string())
            .or_insert_with(|| DpkgRecord {
                status: status.to_string(),
                version: version.to_string(),
            });
    }
    records
}

/// Sections start with an unindented `name:` line; the indented lines that
/// follow belong to it.
fn parse_policy(out: &str) -> HashMap<String, String> {
    let mut sections: HashMap<String, String> = HashMap::new();
    let mut current: Option<String> = None;
    for line in out.lines() {
        if !line.starts_with(char::is_whitespace) && line.ends_with(':') {
            let name = line.trim_end_matches(':').to_string();
            current = (!sections.contains_key(&name)).then_some(name.clone());
            if let Some(name) = &current {
                sections.insert(name.clone(), String::new());
            }
        }
        if let Some(section) = current.as_ref().and_then(|n| sections.get_mut(n)) {
            section.push_str(line);
            section.push('\n');
        }
    }
    sections
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_records_by_name() {
        let r =
            parse_dpkg("curl\tinstalled\t7.88\nlibc6\tinstalled\t2.36\nlibc6\tnot-installed\t\n");
        assert_eq!(r["curl"].version, "7.88");
        assert_eq!(r["libc6"].status, "installed");
        assert!(!r.contains_key("tar"));
    }

    #[test]
    fn policy_sections_by_name() {
        let out = "curl:\n  Installed: 7.88\n  Candidate: 7.88\n  Version table:\n *** 7.88 500\n\
                   tar:\n  Installed: (none)\n  Candidate: 1.34\n";
        let p = parse_policy(out);
        assert!(p["curl"].starts_with("curl:\n  Installed: 7.88\n"));
        assert!(p["curl"].contains("*** 7.88 500"));
        assert!(!p["curl"].contains("tar"));
        assert_eq!(p["tar"], "tar:\n  Installed: (none)\n  Candidate: 1.34\n");
    }
}
