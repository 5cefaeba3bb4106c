//! `virtual` on Linux: container and hypervisor detection in Ansible's order;
//! the first finding sets type and role, every finding joins the tech lists.

use super::util::{file_content, file_lines};
use super::{Facts, Gather};

use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::path::Path;

struct Found {
    kind: Option<String>,
    role: Option<String>,
    done: bool,
    guest: BTreeSet<String>,
    host: BTreeSet<String>,
}

impl Found {
    /// Records a guest technology; the first finding names type and role.
    fn guest(&mut self, tech: &str, kind: &str, role: Option<&str>) {
        self.guest.insert(tech.to_string());
        if !self.done {
            self.kind = Some(kind.to_string());
            if let Some(r) = role {
                self.role = Some(r.to_string());
            }
            self.done = true;
        }
    }
}

// Ansible's patterns here are all "a prefix, then anything, then a fixed
// text" or close to it; they are matched by hand because compiling a
// Unicode-aware regex costs more than the whole rest of this collector, and
// every gathering pays it again in a fresh agent process.

/// `^{prefix}.*{needle}` on one line (`.` never meets a newline in a line).
fn prefix_then(line: &str, prefix: &str, needle: &str) -> bool {
    line.strip_prefix(prefix)
        .is_some_and(|rest| rest.contains(needle))
}

/// `/docker(/|-[0-9a-f]+\.scope)` anywhere in the line.
fn docker_cgroup(line: &str) -> bool {
    line.match_indices("/docker").any(|(i, m)| {
        let rest = &line[i + m.len()..];
        if rest.starts_with('/') {
            return true;
        }
        let Some(hex) = rest.strip_prefix('-') else {
            return false;
        };
        let digits = hex
            .bytes()
            .take_while(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b))
            .count();
        digits > 0 && hex[digits..].starts_with(".scope")
    })
}

/// `^VxID:\s+(\d)`: the first digit of the id, when the line is one.
fn vxid_first_digit(line: &str) -> Option<char> {
    let rest = line.strip_prefix("VxID:")?;
    let value = rest.trim_start_matches(python_space);
    if value.len() == rest.len() {
        return None;
    }
    value.chars().next().filter(char::is_ascii_digit)
}

/// Python's `\s` for str patterns: Unicode whitespace plus the separators
/// \x1c-\x1f that Rust's `char::is_whitespace` leaves out.
fn python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// `^machine.*CHRP IBM pSeries .emulated by qemu.`: any one character
/// (not a newline) stands where the pattern has a dot.
fn pseries_qemu(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("machine") else {
        return false;
    };
    rest.match_indices("CHRP IBM pSeries ").any(|(i, m)| {
        let mut after = rest[i + m.len()..].chars();
        if after.next().is_none_or(|c| c == '\n') {
            return false;
        }
        let tail = after.as_str();
        tail.strip_prefix("emulated by qemu")
            .and_then(|t| t.chars().next())
            .is_some_and(|c| c != '\n')
    })
}

pub fn collect(g: &Gather) -> Facts {
    let mut v = Found {
        kind: None,
        role: None,
        done: false,
        guest: BTreeSet::new(),
        host: BTreeSet::new(),
    };
    for line in file_lines("/proc/1/cgroup") {
        if docker_cgroup(&line) {
            v.guest("docker", "docker", Some("guest"));
        }
        if line.contains("/lxc/") || line.contains("/machine.slice/machine-lxc") {
            v.guest("lxc", "lxc", Some("guest"));
        }
        if line.contains("/system.slice/containerd.service") {
            v.guest("containerd", "containerd", Some("guest"));
        }
    }
    if let Ok(environ) = std::fs::read("/proc/1/environ") {
        for var in String::from_utf8_lossy(&environ).split('\0') {
            if var.contains("container=lxc") {
                v.guest("lxc", "lxc", Some("guest"));
            }
            if var.contains("container=podman") {
                v.guest("podman", "podman", Some("guest"));
            }
            if var.starts_with("container=") && var.len() > "container=".len() {
                v.guest("container", "container", Some("guest"));
            }
        }
    }
    if Path::new("/proc/vz").exists() && !Path::new("/proc/lve").exists() {
        v.kind = Some("openvz".into());
        if Path::new("/proc/bc").exists() {
            v.host.insert("openvz".into());
            if !v.done {
                v.role = Some("host".into());
            }
        } else {
            v.guest.insert("openvz".into());
            if !v.done {
                v.role = Some("guest".into());
            }
        }
        v.done = true;
    }
    let systemd_container = file_content("/run/systemd/container").filter(|c| !c.is_empty());
    if let Some(c) = &systemd_container {
        v.guest(c, c, Some("guest"));
    }
    if Path::new("/.dockerenv").exists() || Path::new("/.dockerinit").exists() {
        v.guest("docker", "docker", Some("guest"));
    }
    let containers = ["docker", "lxc", "podman", "openvz", "containerd"];
    if containers.iter().any(|c| v.guest.contains(*c)) || systemd_container.is_some() {
        v.guest.insert("container".into());
    }
    if Path::new("/proc/xen").exists() {
        let is_host = file_lines("/proc/xen/capabilities")
            .iter()
            .any(|l| l.contains("control_d"));
        if is_host {
            v.host.insert("xen".into());
        }
        if !v.done {
            v.kind = Some("xen".into());
            v.role = Some(if is_host { "host" } else { "guest" }.into());
        }
        v.done = true;
    }
    if !v.done {
        v.role = Some("guest".into());
    }
    let dmi = |f: &str| file_content(format!("/sys/devices/virtual/dmi/id/{f}"));
    let product_name = dmi("product_name");
    let sys_vendor = dmi("sys_vendor");
    let product_family = dmi("product_family");
    let bios_vendor = dmi("bios_vendor");
    let pn = product_name.as_deref().unwrap_or("\u{0}");
    let sv = sys_vendor.as_deref().unwrap_or("\u{0}");
    let bv = bios_vendor.as_deref().unwrap_or("\u{0}");
    let hyper = |tech: &str, v: &mut Found| {
        v.guest.insert(tech.to_string());
        if !v.done {
            v.kind = Some(tech.to_string());
            v.done = true;
        }
    };
    if ["KVM", "KVM Server", "Bochs", "AHV"].contains(&pn) {
        hyper("kvm", &mut v);
    }
    if sv == "oVirt" {
        hyper("oVirt", &mut v);
    }
    if sv == "Red Hat" {
        if product_family.as_deref() == Some("RHV") {
            hyper("RHV", &mut v);
        } else if pn == "RHEV Hypervisor" {
            hyper("RHEV", &mut v);
        }
    }
    if pn.starts_with("VMware") {
        hyper("VMware", &mut v);
    }
    if ["OpenStack Compute", "OpenStack Nova"].contains(&pn) {
        hyper("openstack", &mut v);
    }
    if bv == "Xen" {
        hyper("xen", &mut v);
    }
    if bv == "innotek GmbH" {
        hyper("virtualbox", &mut v);
    }
    if ["Amazon EC2", "DigitalOcean", "Hetzner"].contains(&bv) {
        hyper("kvm", &mut v);
    }
    if [
        "QEMU",
        "Amazon EC2",
        "DigitalOcean",
        "Google",
        "Scaleway",
        "Nutanix",
    ]
    .contains(&sv)
    {
        hyper("kvm", &mut v);
    }
    if sv == "KubeVirt" {
        hyper("KubeVirt", &mut v);
    }
    if sv == "Microsoft Corporation" {
        hyper("VirtualPC", &mut v);
    }
    if sv == "Parallels Software International Inc." {
        hyper("parallels", &mut v);
    }
    if sv == "OpenStack Foundation" {
        hyper("openstack", &mut v);
    }
    if !v.done {
        v.role = None;
    }
    for line in file_lines("/proc/self/status") {
        if let Some(first) = vxid_first_digit(&line) {
            if !v.done {
                v.kind = Some("linux_vserver".into());
            }
            let host = first == '0';
            if host {
                v.host.insert("linux_vserver".into());
            } else {
                v.guest.insert("linux_vserver".into());
            }
            if !v.done {
                v.role = Some(if host { "host" } else { "guest" }.into());
            }
            v.done = true;
        }
    }
    for line in file_lines("/proc/cpuinfo") {
        let tech = if prefix_then(&line, "model name", "QEMU Virtual CPU") {
            "kvm"
        } else if prefix_then(&line, "vendor_id", "User Mode Linux")
            || prefix_then(&line, "model name", "UML")
        {
            "uml"
        } else if pseries_qemu(&line) {
            "kvm"
        } else if prefix_then(&line, "vendor_id", "PowerVM Lx86") {
            "powervm_lx86"
        } else if prefix_then(&line, "vendor_id", "IBM/S390") {
            "PR/SM"
        } else {
            continue;
        };
        v.guest.insert(tech.into());
        if !v.done {
            v.kind = Some(tech.into());
            v.role = Some(if tech == "PR/SM" { "LPAR" } else { "guest" }.into());
            v.done = true;
        }
    }
    let modules: Vec<String> = file_lines("/proc/modules")
        .iter()
        .filter_map(|l| l.split(' ').next().map(str::to_string))
        .collect();
    if modules.iter().any(|m| m == "kvm") {
        v.host.insert("kvm".into());
        if !v.done {
            v.kind = Some("kvm".into());
            v.role = Some("host".into());
        }
        v.done = true;
    }
    if modules.iter().any(|m| m == "vboxdrv") {
        v.host.insert("virtualbox".into());
        if !v.done {
            v.kind = Some("virtualbox".into());
            v.role = Some("host".into());
            v.done = true;
        }
    }
    if modules.iter().any(|m| m == "virtio") {
        v.host.insert("kvm".into());
        if !v.done {
            v.kind = Some("kvm".into());
            v.role = Some("guest".into());
            v.done = true;
        }
    }
    if let Some(bin) = g.programs.find("dmidecode") {
        if let (0, out, _) = g.programs.run(&bin, &["-s", "system-product-name"]) {
            let name: String = out
                .lines()
                .filter(|l| !l.starts_with('#'))
                .map(str::trim)
                .collect();
            if name.starts_with("VMware") {
                v.guest("VMware", "VMware", Some("guest"));
            }
            if out.contains("BHYVE") {
                v.guest("bhyve", "bhyve", Some("guest"));
            }
        }
    }
    if Path::new("/dev/kvm").exists() {
        v.host.insert("kvm".into());
        if !v.done {
            v.kind = Some("kvm".into());
            v.role = Some("host".into());
            v.done = true;
        }
    }
    if !v.done {
        v.kind = Some("NA".into());
        v.role = Some("NA".into());
    }
    let mut f = Facts::new();
    if let Some(k) = v.kind {
        f.insert("virtualization_type".into(), json!(k));
    }
    if let Some(r) = v.role {
        f.insert("virtualization_role".into(), json!(r));
    }
    // Python sets have no order; rsible lists them sorted.
    f.insert(
        "virtualization_tech_guest".into(),
        Value::Array(v.guest.into_iter().map(Value::String).collect()),
    );
    f.insert(
        "virtualization_tech_host".into(),
        Value::Array(v.host.into_iter().map(Value::String).collect()),
    );
    f
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand matchers agree with the regexes they replace.
    #[test]
    fn hand_matchers_agree_with_ansibles_patterns() {
        let lines = [
            "0::/docker/0123abcd",
            "12:cpu:/system.slice/docker-4f2a9c.scope",
            "12:cpu:/system.slice/docker-4f2a9c.scop",
            "12:cpu:/system.slice/docker-.scope",
            "12:cpu:/system.slice/docker-XYZ.scope",
            "12:cpu:/dockerd",
            "1:name=/docker-9/docker/",
            "VxID:\t0",
            "VxID:   42",
            "VxID:42",
            "VxID: x",
            "model name\t: QEMU Virtual CPU version 2.5+",
            "model name\t: Intel(R) Xeon(R)",
            "vendor_id\t: User Mode Linux",
            "model name\t: UML",
            "machine\t\t: CHRP IBM pSeries (emulated by qemu)",
            "machine\t\t: CHRP IBM pSeries (emulated by qemu",
            "machine: CHRP IBM pSeries émulated by qemu!",
            "vendor_id\t: PowerVM Lx86",
            "vendor_id\t: IBM/S390",
            "xvendor_id\t: IBM/S390",
            "",
        ];
        let re = |p: &str| regex::Regex::new(p).expect("pattern");
        let docker = re(r"/docker(/|-[0-9a-f]+\.scope)");
        let vx = re(r"^VxID:\s+\d+");
        let vx0 = re(r"^VxID:\s+0");
        let pseries = re("^machine.*CHRP IBM pSeries .emulated by qemu.");
        let prefixed = [
            ("model name", "QEMU Virtual CPU"),
            ("vendor_id", "User Mode Linux"),
            ("model name", "UML"),
            ("vendor_id", "PowerVM Lx86"),
            ("vendor_id", "IBM/S390"),
        ];
        for line in lines {
            assert_eq!(docker_cgroup(line), docker.is_match(line), "{line:?}");
            assert_eq!(
                vxid_first_digit(line).is_some(),
                vx.is_match(line),
                "{line:?}"
            );
            assert_eq!(
                vxid_first_digit(line) == Some('0'),
                vx0.is_match(line),
                "{line:?}"
            );
            assert_eq!(pseries_qemu(line), pseries.is_match(line), "{line:?}");
            for (prefix, needle) in prefixed {
                let r = re(&format!("^{prefix}.*{}", regex::escape(needle)));
                assert_eq!(
                    prefix_then(line, prefix, needle),
                    r.is_match(line),
                    "{line:?}"
                );
            }
        }
    }
}
