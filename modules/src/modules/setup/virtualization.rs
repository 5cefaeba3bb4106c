//! `virtual` on Linux: container and hypervisor detection in Ansible's order;
//! the first finding sets type and role, every finding joins the tech lists.

use super::util::{bin_path, file_content, file_lines, run};
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

fn matches(re: &str, text: &str) -> bool {
    super::util::regex(re).is_some_and(|r| r.is_match(text))
}

pub fn collect(_g: &Gather) -> Facts {
    let mut v = Found {
        kind: None,
        role: None,
        done: false,
        guest: BTreeSet::new(),
        host: BTreeSet::new(),
    };
    for line in file_lines("/proc/1/cgroup") {
        if matches(r"/docker(/|-[0-9a-f]+\.scope)", &line) {
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
        if matches(r"^VxID:\s+\d+", &line) {
            if !v.done {
                v.kind = Some("linux_vserver".into());
            }
            let host = matches(r"^VxID:\s+0", &line);
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
        let tech = if matches("^model name.*QEMU Virtual CPU", &line) {
            "kvm"
        } else if matches("^vendor_id.*User Mode Linux", &line)
            || matches("^model name.*UML", &line)
        {
            "uml"
        } else if matches("^machine.*CHRP IBM pSeries .emulated by qemu.", &line) {
            "kvm"
        } else if matches("^vendor_id.*PowerVM Lx86", &line) {
            "powervm_lx86"
        } else if matches("^vendor_id.*IBM/S390", &line) {
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
    if let Some(bin) = bin_path("dmidecode") {
        if let (0, out, _) = run(&bin, &["-s", "system-product-name"]) {
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
