//! `distribution`: name, version, release and os_family, decided as Ansible
//! does on Linux: a first guess from os-release (the `distro` library's view),
//! then the distribution files in Ansible's order, the first that parses winning.

use super::{Facts, Gather};
use regex::Regex;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub fn collect(_g: &Gather) -> Facts {
    distribution_facts(Path::new("/"))
}

/// Ansible's `get_distribution()` (the `distro` id, capitalized) for modules that pick
/// a platform subclass by it (hostname, user, ...).
pub(crate) fn distribution_name(root: &Path) -> String {
    DistFiles { root }.guess().distribution
}

/// Everything below reads files under `root` (tests use a fixture tree).
pub fn distribution_facts(root: &Path) -> Facts {
    let files = DistFiles { root };
    let mut facts: BTreeMap<&'static str, Value> = BTreeMap::new();
    let t = super::timing::start();
    let guess = files.guess();
    super::timing::done("distribution.guess", t);
    let s = |v: &str| Value::String(v.to_string());
    facts.insert("distribution", s(&guess.distribution));
    facts.insert("distribution_version", s(&guess.version));
    facts.insert("distribution_release", s(&guess.release));
    facts.insert("distribution_major_version", s(&guess.major));
    for (name, path, allow_empty) in OSDIST_LIST {
        let full = files.path(path);
        let Ok(meta) = std::fs::metadata(&full) else {
            continue;
        };
        if !meta.is_file() || (!allow_empty && meta.len() == 0) {
            continue;
        }
        if *allow_empty {
            facts.insert("distribution", s(name));
            facts.insert("distribution_file_path", s(path));
            facts.insert("distribution_file_variety", s(name));
            break;
        }
        let content = std::fs::read(&full)
            .map(|b| String::from_utf8_lossy(&b).trim().to_string())
            .unwrap_or_default();
        let current_release = facts
            .get("distribution_release")
            .and_then(Value::as_str)
            .unwrap_or("NA")
            .to_string();
        let current_version = facts
            .get("distribution_version")
            .and_then(Value::as_str)
            .unwrap_or("NA")
            .to_string();
        let ctx = ParseCtx {
            name,
            path,
            data: content.trim_matches(|c| c == '\'' || c == '"' || c == '\\'),
            guess_id: &guess.id,
            release: &current_release,
            version: &current_version,
            files: &files,
        };
        if let Some(parsed) = parse_dist_file(&ctx) {
            facts.insert("distribution", s(name));
            facts.insert("distribution_file_path", s(path));
            facts.insert("distribution_file_variety", s(name));
            facts.insert("distribution_file_parsed", Value::Bool(true));
            for (k, v) in parsed {
                facts.insert(k, s(&v));
            }
            break;
        }
    }
    let distro = facts
        .get("distribution")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let family = os_family(&distro).unwrap_or(&distro).to_string();
    facts.insert("os_family", Value::String(family));
    facts.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// Ansible's OSDIST_LIST: (name, path, allow empty).
const OSDIST_LIST: &[(&str, &str, bool)] = &[
    ("Altlinux", "/etc/altlinux-release", false),
    ("OracleLinux", "/etc/oracle-release", false),
    ("Slackware", "/etc/slackware-version", false),
    ("CentOS", "/etc/centos-release", false),
    ("RedHat", "/etc/redhat-release", false),
    ("VMwareESX", "/etc/vmware-release", true),
    ("OpenWrt", "/etc/openwrt_release", false),
    ("Amazon", "/etc/os-release", false),
    ("Amazon", "/etc/system-release", false),
    ("Alpine", "/etc/alpine-release", false),
    ("Archlinux", "/etc/arch-release", true),
    ("Archlinux", "/etc/os-release", false),
    ("SUSE", "/etc/os-release", false),
    ("SUSE", "/etc/SuSE-release", false),
    ("Gentoo", "/etc/gentoo-release", false),
    ("Debian", "/etc/os-release", false),
    ("Debian", "/etc/lsb-release", false),
    ("Mandriva", "/etc/lsb-release", false),
    ("SMGL", "/etc/sourcemage-release", false),
    ("ClearLinux", "/usr/lib/os-release", false),
    ("Coreos", "/etc/coreos/update.conf", false),
    ("Flatcar", "/etc/os-release", false),
    ("NA", "/etc/os-release", false),
];

const OS_FAMILY_MAP: &[(&str, &[&str])] = &[
    (
        "RedHat",
        &[
            "RedHat",
            "RHEL",
            "Fedora",
            "CentOS",
            "Scientific",
            "SLC",
            "Ascendos",
            "CloudLinux",
            "PSBM",
            "OracleLinux",
            "OVS",
            "OEL",
            "Amazon",
            "Amzn",
            "Virtuozzo",
            "XenServer",
            "Alibaba",
            "EulerOS",
            "openEuler",
            "AlmaLinux",
            "Rocky",
            "TencentOS",
            "EuroLinux",
            "Kylin Linux Advanced Server",
            "MIRACLE",
        ],
    ),
    (
        "Debian",
        &[
            "Debian",
            "Ubuntu",
            "Raspbian",
            "Neon",
            "KDE neon",
            "Linux Mint",
            "SteamOS",
            "Devuan",
            "Kali",
            "Cumulus Linux",
            "Pop!_OS",
            "Parrot",
            "Pardus GNU/Linux",
            "Uos",
            "Deepin",
            "OSMC",
        ],
    ),
    (
        "Suse",
        &[
            "SuSE",
            "SLES",
            "SLED",
            "openSUSE",
            "openSUSE Tumbleweed",
            "SLES_SAP",
            "SUSE_LINUX",
            "openSUSE Leap",
            "ALP-Dolomite",
            "SL-Micro",
        ],
    ),
    ("Archlinux", &["Archlinux", "Antergos", "Manjaro"]),
    ("Mandrake", &["Mandrake", "Mandriva"]),
    ("Slackware", &["Slackware"]),
    ("Altlinux", &["Altlinux"]),
    ("SMGL", &["SMGL"]),
    ("Gentoo", &["Gentoo", "Funtoo"]),
    ("Alpine", &["Alpine"]),
    ("ClearLinux", &["Clear Linux OS", "Clear Linux Mix"]),
];

fn os_family(distribution: &str) -> Option<&'static str> {
    OS_FAMILY_MAP
        .iter()
        .find(|(_, names)| names.contains(&distribution))
        .map(|(family, _)| *family)
}

struct DistFiles<'a> {
    root: &'a Path,
}

struct Guess {
    id: String,
    distribution: String,
    version: String,
    release: String,
    major: String,
}

impl DistFiles<'_> {
    fn path(&self, abs: &str) -> PathBuf {
        self.root.join(abs.trim_start_matches('/'))
    }

    fn read(&self, abs: &str) -> Option<String> {
        std::fs::read(self.path(abs))
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }

    /// KEY=value pairs of an os-release or lsb-release style file, unquoted.
    fn key_values(&self, abs: &str) -> BTreeMap<String, String> {
        let mut out = BTreeMap::new();
        for line in self.read(abs).unwrap_or_default().lines() {
            let line = line.trim();
            if line.starts_with('#') {
                continue;
            }
            if let Some((k, v)) = line.split_once('=') {
                let v = v.trim();
                let v = v
                    .strip_prefix('"')
                    .and_then(|v| v.strip_suffix('"'))
                    .or_else(|| v.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')))
                    .unwrap_or(v);
                out.insert(k.trim().to_string(), v.replace("\\\"", "\""));
            }
        }
        out
    }

    fn os_release(&self) -> BTreeMap<String, String> {
        let etc = self.key_values("/etc/os-release");
        if etc.is_empty() {
            self.key_values("/usr/lib/os-release")
        } else {
            etc
        }
    }

    /// The version and codename written in a `*-release` file such as
    /// "CentOS Linux release 7.9.2009 (Core)".
    fn release_file_version(&self) -> (String, String) {
        // Compiled only once a release file is found: with its Unicode classes
        // the pattern costs ~0.7 ms to build, a tenth of a gathering, on every
        // Debian or Ubuntu host, which has none of these files.
        let texts: Vec<String> = [
            "/etc/centos-release",
            "/etc/redhat-release",
            "/etc/system-release",
        ]
        .iter()
        .filter_map(|f| self.read(f))
        .collect();
        if texts.is_empty() {
            return (String::new(), String::new());
        }
        let Ok(re) = Regex::new(r"release\s+([\w.]+)(?:\s*\(([^)]+)\))?") else {
            return (String::new(), String::new());
        };
        for text in texts {
            if let Some(c) = re.captures(text.trim()) {
                let v = c.get(1).map(|m| m.as_str().to_string()).unwrap_or_default();
                let n = c.get(2).map(|m| m.as_str().to_string()).unwrap_or_default();
                return (v, n);
            }
        }
        (String::new(), String::new())
    }

    /// What ansible's `get_distribution()`, `get_distribution_version()` and
    /// `get_distribution_codename()` return (through the `distro` library).
    fn guess(&self) -> Guess {
        let os = self.os_release();
        let lsb = self.key_values("/etc/lsb-release");
        let id = os
            .get("ID")
            .cloned()
            .unwrap_or_else(|| lsb.get("DISTRIB_ID").cloned().unwrap_or_default())
            .to_lowercase()
            .replace(' ', "_");
        let id = match id.as_str() {
            "ol" => "oracle".to_string(),
            "opensuse-leap" => "opensuse".to_string(),
            "redhatenterpriseworkstation" | "redhatenterpriseserver" | "redhatenterprise" => {
                "rhel".to_string()
            }
            _ => id,
        };
        let mut distribution = capitalize(&id);
        distribution = match distribution.as_str() {
            "Amzn" => "Amazon".to_string(),
            "Rhel" => "Redhat".to_string(),
            "" => "OtherLinux".to_string(),
            _ => distribution,
        };
        let (file_version, file_codename) = self.release_file_version();
        let lsb_release = lsb.get("DISTRIB_RELEASE").cloned().unwrap_or_default();
        let os_version = os.get("VERSION_ID").cloned().unwrap_or_default();
        let mut version = [&os_version, &lsb_release, &file_version]
            .into_iter()
            .find(|v| !v.is_empty())
            .cloned()
            .unwrap_or_default();
        let best = |candidates: &[&String]| {
            let mut best = String::new();
            for v in candidates {
                if best.is_empty() || v.matches('.').count() > best.matches('.').count() {
                    best = (*v).clone();
                }
            }
            best
        };
        if id == "debian" {
            let debian_version = self
                .read("/etc/debian_version")
                .map(|s| s.trim().to_string())
                .unwrap_or_default();
            version = best(&[&os_version, &lsb_release, &file_version, &debian_version]);
        } else if id == "centos" {
            let b = best(&[&os_version, &lsb_release, &file_version]);
            version = b.split('.').take(2).collect::<Vec<_>>().join(".");
        }
        let codename = os
            .get("VERSION_CODENAME")
            .or_else(|| os.get("UBUNTU_CODENAME"))
            .cloned()
            .or_else(|| {
                (id == "ubuntu")
                    .then(|| lsb.get("DISTRIB_CODENAME").cloned())
                    .flatten()
            })
            .or_else(|| {
                let from_version = os.get("VERSION").and_then(|v| codename_in_version(v));
                from_version
                    .or_else(|| lsb.get("DISTRIB_CODENAME").cloned())
                    .or_else(|| (!file_codename.is_empty()).then(|| file_codename.clone()))
            })
            .filter(|c| !c.is_empty());
        let distribution_version = if version.is_empty() {
            "NA".to_string()
        } else {
            version
        };
        let major = distribution_version
            .split('.')
            .next()
            .filter(|m| !m.is_empty())
            .unwrap_or("NA")
            .to_string();
        Guess {
            id,
            distribution,
            version: distribution_version,
            release: codename.unwrap_or_else(|| "NA".to_string()),
            major,
        }
    }
}

/// The `distro` library's codename from a VERSION like "9.3 (Blue Onyx)" or "15, Leap".
fn codename_in_version(v: &str) -> Option<String> {
    let re = Regex::new(r"\((\D+)\)|,\s*(\D+)").ok()?;
    let c = re.captures(v)?;
    c.get(1)
        .or_else(|| c.get(2))
        .map(|m| m.as_str().trim().to_string())
}

/// Python's `str.capitalize()`.
fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

struct ParseCtx<'a> {
    name: &'a str,
    path: &'a str,
    data: &'a str,
    guess_id: &'a str,
    release: &'a str,
    version: &'a str,
    files: &'a DistFiles<'a>,
}

type Parsed = Vec<(&'static str, String)>;

fn first_capture(re: &str, text: &str) -> Option<String> {
    first_group(re, text, 1)
}

/// Group `n` of the pattern's first match in `text`.
fn first_group(re: &str, text: &str, n: usize) -> Option<String> {
    super::util::regex(re)?
        .captures(text)?
        .get(n)
        .map(|m| m.as_str().to_string())
}

/// One distribution file's parser; None when it does not apply (the next file is tried).
fn parse_dist_file(c: &ParseCtx) -> Option<Parsed> {
    let search = match c.name {
        "OracleLinux" => Some("Oracle Linux"),
        "RedHat" => Some("Red Hat"),
        "Altlinux" => Some("ALT"),
        "SMGL" => Some("Source Mage GNU/Linux"),
        _ => None,
    };
    if let Some(needle) = search {
        let mut out: Parsed = Vec::new();
        if c.data.contains(needle) {
            out.push(("distribution", c.name.to_string()));
            out.push(("distribution_file_search_string", needle.to_string()));
        } else {
            let first = c.data.split_whitespace().next().unwrap_or("").to_string();
            out.push(("distribution", first));
        }
        return Some(out);
    }
    match c.name {
        "Archlinux" => c
            .data
            .contains("Arch Linux")
            .then(|| vec![("distribution", "Archlinux".to_string())]),
        "CentOS" => {
            if c.data.contains("CentOS Stream") {
                Some(vec![("distribution_release", "Stream".to_string())])
            } else if c.data.contains("TencentOS Server") {
                Some(vec![("distribution", "TencentOS".to_string())])
            } else {
                None
            }
        }
        "Amazon" => parse_amazon(c),
        "Alpine" => Some(vec![
            ("distribution", "Alpine".to_string()),
            ("distribution_version", c.data.to_string()),
        ]),
        "SUSE" => parse_suse(c),
        "Debian" => parse_debian(c),
        "Flatcar" => {
            if c.guess_id != "flatcar" || c.data.is_empty() {
                return None;
            }
            let v = first_capture("VERSION=(.*)", c.data)?;
            let v = v.trim_matches('"').to_string();
            Some(vec![
                (
                    "distribution_major_version",
                    v.split('.').next().unwrap_or("").to_string(),
                ),
                ("distribution_version", v),
            ])
        }
        "Coreos" => {
            if c.guess_id != "coreos" || c.data.is_empty() {
                return None;
            }
            let mut out = Vec::new();
            if let Some(r) = first_capture("(?m)^GROUP=(.*)", c.data) {
                out.push(("distribution_release", r.trim_matches('"').to_string()));
            }
            Some(out)
        }
        "NA" => {
            let mut out = Vec::new();
            for line in c.data.lines() {
                if let Some(n) = line.strip_prefix("NAME=") {
                    out.push(("distribution", n.trim_matches('"').to_string()));
                }
                if let Some(v) = line.strip_prefix("VERSION=") {
                    if c.version == "NA" {
                        out.push(("distribution_version", v.trim_matches('"').to_string()));
                    }
                }
            }
            Some(out)
        }
        // Other files (Slackware, OpenWrt, Gentoo, Mandriva, ClearLinux, ...)
        // are not parsed by rsible: the os-release guess stands for them.
        _ => None,
    }
}

fn parse_amazon(c: &ParseCtx) -> Option<Parsed> {
    if !c.data.contains("Amazon") {
        return None;
    }
    let mut out = vec![("distribution", "Amazon".to_string())];
    if c.path == "/etc/os-release" {
        if let Some(v) = first_capture(r#"VERSION_ID="(.*)""#, c.data) {
            let parts: Vec<&str> = v.split('.').collect();
            let (major, minor) = if parts.len() > 1 {
                (parts[0].to_string(), parts[1].to_string())
            } else {
                (parts[0].to_string(), "NA".to_string())
            };
            out.push(("distribution_version", v.clone()));
            out.push(("distribution_major_version", major));
            out.push(("distribution_minor_version", minor));
        }
    } else {
        let v = c
            .data
            .split_whitespace()
            .find(|w| !w.is_empty() && w.chars().all(|ch| ch.is_ascii_digit()))
            .unwrap_or("NA");
        out.push(("distribution_version", v.to_string()));
    }
    Some(out)
}

fn parse_suse(c: &ParseCtx) -> Option<Parsed> {
    if !c.data.to_lowercase().contains("suse") {
        return None;
    }
    let mut out = Vec::new();
    if c.path != "/etc/os-release" {
        return Some(out);
    }
    let lower = c.data.to_lowercase();
    let version_re = Regex::new(r#"^VERSION_ID="?([0-9]+\.?[0-9]*)"?"#).ok()?;
    let release_re = Regex::new(r#"^VERSION_ID="?[0-9]+\.?([0-9]*)"?"#).ok()?;
    for line in c.data.lines() {
        if let Some(n) = line.strip_prefix("NAME=") {
            out.push(("distribution", n.trim_matches('"').to_string()));
        }
        if let Some(v) = version_re.captures(line).and_then(|m| m.get(1)) {
            out.push(("distribution_version", v.as_str().to_string()));
            out.push((
                "distribution_major_version",
                v.as_str().split('.').next().unwrap_or("").to_string(),
            ));
        }
        if lower.contains("open") {
            if let Some(r) = release_re.captures(line).and_then(|m| m.get(1)) {
                out.push(("distribution_release", r.as_str().to_string()));
            }
        } else if lower.contains("enterprise") && line.contains("VERSION_ID") {
            let r = release_re
                .captures(line)
                .and_then(|m| m.get(1))
                .map(|m| m.as_str().to_string())
                .filter(|s| !s.is_empty())
                .unwrap_or_else(|| "0".to_string());
            out.push(("distribution_release", r));
        }
    }
    Some(out)
}

fn parse_debian(c: &ParseCtx) -> Option<Parsed> {
    let d = c.data;
    let mut out: Parsed = Vec::new();
    if d.contains("Debian") || d.contains("Raspbian") {
        out.push(("distribution", "Debian".to_string()));
        if let Some(r) = super::debian_patterns::pretty_name_codename(d) {
            out.push(("distribution_release", r.to_string()));
        }
        let _ = c.release;
        let debian_version = c.files.read("/etc/debian_version").unwrap_or_default();
        for line in debian_version.trim().lines() {
            let line = line.trim();
            let minor = match super::debian_patterns::ascii_minor_version(line) {
                Some(minor) => minor.map(str::to_string),
                None => first_group(r"(\d+)\.(\d+)", line, 2),
            };
            if let Some(minor) = minor {
                out.push(("distribution_minor_version", minor));
            }
        }
    } else if d.contains("Ubuntu") {
        out.push(("distribution", "Ubuntu".to_string()));
    } else if d.contains("SteamOS") {
        out.push(("distribution", "SteamOS".to_string()));
    } else if (c.path == "/etc/lsb-release" || c.path == "/etc/os-release")
        && (d.contains("Kali") || d.contains("Parrot"))
    {
        let name = if d.contains("Kali") { "Kali" } else { "Parrot" };
        out.push(("distribution", name.to_string()));
        if let Some(r) = first_capture("DISTRIB_RELEASE=(.*)", d) {
            out.push(("distribution_release", r));
        }
    } else if d.contains("Devuan") {
        out.push(("distribution", "Devuan".to_string()));
        if let Some(r) = first_capture(r#"PRETTY_NAME="?[^("]+ \(?([^) "]+)\)?"#, d) {
            out.push(("distribution_release", r));
        }
        if let Some(v) = first_capture(r#"VERSION_ID="(.*)""#, d) {
            out.push(("distribution_version", v.clone()));
            out.push(("distribution_major_version", v));
        }
    } else if d.contains("Mint") {
        out.push(("distribution", "Linux Mint".to_string()));
        if let Some(v) = first_capture(r#"VERSION_ID="(.*)""#, d) {
            out.push(("distribution_version", v.clone()));
            out.push((
                "distribution_major_version",
                v.split('.').next().unwrap_or("").to_string(),
            ));
        }
    } else {
        return None;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        for (path, content) in files {
            let p = dir.path().join(path.trim_start_matches('/'));
            std::fs::create_dir_all(p.parent().expect("parent")).expect("mkdir");
            std::fs::write(p, content).expect("write");
        }
        dir
    }

    fn get(f: &Facts, k: &str) -> String {
        f.get(k)
            .and_then(Value::as_str)
            .unwrap_or("<absent>")
            .to_string()
    }

    #[test]
    fn ubuntu() {
        let t = tree(&[(
            "/etc/os-release",
            "PRETTY_NAME=\"Ubuntu 22.04.4 LTS\"\nNAME=\"Ubuntu\"\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\nVERSION_CODENAME=jammy\nID=ubuntu\nID_LIKE=debian\nUBUNTU_CODENAME=jammy\n",
        )]);
        let f = distribution_facts(t.path());
        assert_eq!(get(&f, "distribution"), "Ubuntu");
        assert_eq!(get(&f, "distribution_version"), "22.04");
        assert_eq!(get(&f, "distribution_major_version"), "22");
        assert_eq!(get(&f, "distribution_release"), "jammy");
        assert_eq!(get(&f, "os_family"), "Debian");
        assert_eq!(get(&f, "distribution_file_variety"), "Debian");
    }

    #[test]
    fn rocky() {
        let t = tree(&[
            ("/etc/os-release", "NAME=\"Rocky Linux\"\nVERSION=\"9.3 (Blue Onyx)\"\nID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\nPRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n"),
            ("/etc/redhat-release", "Rocky Linux release 9.3 (Blue Onyx)\n"),
        ]);
        let f = distribution_facts(t.path());
        assert_eq!(get(&f, "distribution"), "Rocky");
        assert_eq!(get(&f, "distribution_version"), "9.3");
        assert_eq!(get(&f, "distribution_major_version"), "9");
        assert_eq!(get(&f, "distribution_release"), "Blue Onyx");
        assert_eq!(get(&f, "os_family"), "RedHat");
        assert_eq!(get(&f, "distribution_file_path"), "/etc/redhat-release");
    }

    #[test]
    fn debian_minor_from_debian_version() {
        let t = tree(&[
            ("/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\nVERSION_CODENAME=bookworm\nID=debian\n"),
            ("/etc/debian_version", "12.11\n"),
        ]);
        let f = distribution_facts(t.path());
        assert_eq!(get(&f, "distribution"), "Debian");
        assert_eq!(get(&f, "distribution_version"), "12.11");
        assert_eq!(get(&f, "distribution_minor_version"), "11");
        assert_eq!(get(&f, "distribution_release"), "bookworm");
    }
}
