//! `gather_subset` resolution: which collectors run, as Ansible's
//! `get_collector_names` decides, then the collectors they depend on.

use super::{date_time, distribution, hardware, local, network, platform, python, system};
use super::{virtualization, Facts, Gather};
use std::collections::BTreeSet;

pub(crate) struct Collector {
    pub name: &'static str,
    /// Fact names that also select this collector in `gather_subset`.
    pub fact_ids: &'static [&'static str],
    /// Collectors whose facts this one reads; they run first.
    pub requires: &'static [&'static str],
    pub collect: fn(&Gather) -> Facts,
}

/// Every collector, in the order they run (dependencies first).
const COLLECTORS: &[Collector] = &[
    Collector {
        name: "platform",
        fact_ids: &[
            "system",
            "kernel",
            "kernel_version",
            "machine",
            "python_version",
            "architecture",
            "machine_id",
        ],
        requires: &[],
        collect: platform::collect,
    },
    Collector {
        name: "distribution",
        fact_ids: &[
            "distribution_version",
            "distribution_release",
            "distribution_major_version",
            "os_family",
        ],
        requires: &[],
        collect: distribution::collect,
    },
    Collector {
        name: "apparmor",
        fact_ids: &[],
        requires: &[],
        collect: system::apparmor,
    },
    Collector {
        name: "caps",
        fact_ids: &["system_capabilities", "system_capabilities_enforced"],
        requires: &[],
        collect: system::caps,
    },
    Collector {
        name: "chroot",
        fact_ids: &["is_chroot"],
        requires: &[],
        collect: system::chroot,
    },
    Collector {
        name: "cmdline",
        fact_ids: &[],
        requires: &[],
        collect: system::cmdline,
    },
    Collector {
        name: "date_time",
        fact_ids: &[],
        requires: &[],
        collect: date_time::collect,
    },
    Collector {
        name: "dns",
        fact_ids: &[],
        requires: &[],
        collect: system::dns,
    },
    Collector {
        name: "env",
        fact_ids: &[],
        requires: &[],
        collect: system::env,
    },
    Collector {
        name: "fips",
        fact_ids: &[],
        requires: &[],
        collect: system::fips,
    },
    Collector {
        name: "loadavg",
        fact_ids: &[],
        requires: &[],
        collect: system::loadavg,
    },
    Collector {
        name: "local",
        fact_ids: &[],
        requires: &[],
        collect: local::collect,
    },
    Collector {
        name: "lsb",
        fact_ids: &[],
        requires: &[],
        collect: system::lsb,
    },
    Collector {
        name: "pkg_mgr",
        fact_ids: &[],
        requires: &["distribution"],
        collect: system::pkg_mgr,
    },
    Collector {
        name: "python",
        fact_ids: &[],
        requires: &[],
        collect: python::collect,
    },
    Collector {
        name: "selinux",
        fact_ids: &[],
        requires: &[],
        collect: system::selinux,
    },
    Collector {
        name: "service_mgr",
        fact_ids: &[],
        requires: &["platform", "distribution"],
        collect: system::service_mgr,
    },
    Collector {
        name: "ssh_pub_keys",
        fact_ids: &[
            "ssh_host_pub_keys",
            "ssh_host_key_dsa_public",
            "ssh_host_key_rsa_public",
            "ssh_host_key_ecdsa_public",
            "ssh_host_key_ed25519_public",
        ],
        requires: &[],
        collect: system::ssh_pub_keys,
    },
    Collector {
        name: "user",
        fact_ids: &[
            "user_id",
            "user_uid",
            "user_gid",
            "user_gecos",
            "user_dir",
            "user_shell",
            "real_user_id",
            "effective_user_id",
            "effective_group_ids",
        ],
        requires: &[],
        collect: system::user,
    },
    Collector {
        name: "systemd",
        fact_ids: &[],
        requires: &["service_mgr"],
        collect: system::systemd,
    },
    Collector {
        name: "hardware",
        fact_ids: &[
            "processor",
            "processor_cores",
            "processor_count",
            "mounts",
            "devices",
        ],
        requires: &["platform"],
        collect: hardware::collect,
    },
    Collector {
        name: "network",
        fact_ids: &[
            "interfaces",
            "default_ipv4",
            "default_ipv6",
            "all_ipv4_addresses",
            "all_ipv6_addresses",
        ],
        requires: &["distribution", "platform"],
        collect: network::collect,
    },
    Collector {
        name: "virtual",
        fact_ids: &[
            "virtualization_role",
            "virtualization_type",
            "virtualization_tech_guest",
            "virtualization_tech_host",
        ],
        requires: &[],
        collect: virtualization::collect,
    },
    Collector {
        name: "fibre_channel_wwn",
        fact_ids: &[],
        requires: &[],
        collect: network::fibre_channel_wwn,
    },
    Collector {
        name: "iscsi",
        fact_ids: &[],
        requires: &[],
        collect: network::iscsi,
    },
    Collector {
        name: "nvme",
        fact_ids: &[],
        requires: &[],
        collect: network::nvme,
    },
    Collector {
        name: "facter",
        fact_ids: &[],
        requires: &[],
        collect: no_facts,
    },
    Collector {
        name: "ohai",
        fact_ids: &[],
        requires: &[],
        collect: no_facts,
    },
];

/// `facter` and `ohai` report only when those tools are installed; rsible
/// does not run them (see COMPATIBILITY.md).
fn no_facts(_: &Gather) -> Facts {
    Facts::new()
}

/// What `min` (and `!all`) keeps.
const MINIMAL: &[&str] = &[
    "apparmor",
    "caps",
    "cmdline",
    "date_time",
    "distribution",
    "dns",
    "env",
    "fips",
    "local",
    "lsb",
    "pkg_mgr",
    "platform",
    "python",
    "selinux",
    "service_mgr",
    "ssh_pub_keys",
    "user",
];

fn valid_subsets() -> BTreeSet<&'static str> {
    COLLECTORS
        .iter()
        .flat_map(|c| std::iter::once(c.name).chain(c.fact_ids.iter().copied()))
        .collect()
}

fn minimal_subsets() -> BTreeSet<&'static str> {
    COLLECTORS
        .iter()
        .filter(|c| MINIMAL.contains(&c.name))
        .flat_map(|c| std::iter::once(c.name).chain(c.fact_ids.iter().copied()))
        .collect()
}

/// The collector a subset name stands for (its own name or one of its fact ids).
fn collector_of(name: &str) -> Option<&'static Collector> {
    COLLECTORS
        .iter()
        .find(|c| c.name == name || c.fact_ids.contains(&name))
}

/// The collectors to run, in run order, or Ansible's "Bad subset" message.
pub(crate) fn resolve(gather_subset: &[String]) -> Result<Vec<&'static Collector>, String> {
    let valid = valid_subsets();
    let minimal = minimal_subsets();
    let mut additional: BTreeSet<String> = BTreeSet::new();
    let mut exclude: BTreeSet<String> = BTreeSet::new();
    let mut explicit: BTreeSet<String> = BTreeSet::new();
    let with_min = std::iter::once("min").chain(gather_subset.iter().map(String::as_str));
    for subset in with_min {
        let subset = subset.trim();
        match subset {
            "min" => additional.extend(minimal.iter().map(|s| s.to_string())),
            "all" => additional.extend(valid.iter().map(|s| s.to_string())),
            "!min" => exclude.extend(minimal.iter().map(|s| s.to_string())),
            "!all" => exclude.extend(valid.difference(&minimal).map(|s| s.to_string())),
            _ => {
                if let Some(name) = subset.strip_prefix('!') {
                    if let Some(c) = COLLECTORS.iter().find(|c| c.name == name) {
                        exclude.extend(c.fact_ids.iter().map(|s| s.to_string()));
                    }
                    exclude.insert(name.to_string());
                } else {
                    if !valid.contains(subset) {
                        let mut names: Vec<&str> = valid.iter().copied().collect();
                        names.sort_unstable();
                        return Err(format!(
                            "Bad subset '{subset}' given to Ansible. gather_subset options allowed: all, {}",
                            names.join(", ")
                        ));
                    }
                    explicit.insert(subset.to_string());
                    additional.insert(subset.to_string());
                }
            }
        }
    }
    if additional.is_empty() {
        additional.extend(valid.iter().map(|s| s.to_string()));
    }
    for name in exclude.difference(&explicit) {
        additional.remove(name);
    }
    let mut wanted: BTreeSet<&'static str> = additional
        .iter()
        .filter_map(|n| collector_of(n))
        .map(|c| c.name)
        .collect();
    // Dependencies are gathered even when not asked for, as Ansible does.
    loop {
        let more: Vec<&'static str> = wanted
            .iter()
            .filter_map(|n| collector_of(n))
            .flat_map(|c| c.requires.iter().copied())
            .filter(|r| !wanted.contains(r))
            .collect();
        if more.is_empty() {
            break;
        }
        wanted.extend(more);
    }
    Ok(COLLECTORS
        .iter()
        .filter(|c| wanted.contains(c.name))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(spec: &[&str]) -> Vec<&'static str> {
        let spec: Vec<String> = spec.iter().map(|s| s.to_string()).collect();
        resolve(&spec)
            .expect("valid subset")
            .into_iter()
            .map(|c| c.name)
            .collect()
    }

    #[test]
    fn not_all_keeps_the_minimal_set() {
        let n = names(&["!all"]);
        assert!(n.contains(&"distribution") && n.contains(&"env"));
        assert!(!n.contains(&"hardware") && !n.contains(&"network"));
        assert!(!n.contains(&"loadavg"));
    }

    #[test]
    fn network_only_brings_its_dependencies() {
        assert_eq!(
            names(&["!all", "!min", "network"]),
            ["platform", "distribution", "network"]
        );
        assert_eq!(
            names(&["!all", "!min", "hardware"]),
            ["platform", "hardware"]
        );
        assert_eq!(names(&["!all", "!min", "virtual"]), ["virtual"]);
    }

    #[test]
    fn a_fact_name_selects_its_collector() {
        assert_eq!(
            names(&["!all", "!min", "default_ipv4"]),
            ["platform", "distribution", "network"]
        );
    }

    #[test]
    fn exclusion_alone_keeps_only_the_minimal_set() {
        // `min` is always prepended, so `!hardware` alone means the minimal set,
        // and `!min` alone means nothing at all (as ansible-core 2.18 does).
        let n = names(&["!hardware"]);
        assert!(n.contains(&"distribution") && !n.contains(&"network"));
        assert!(names(&["!min"]).is_empty());
    }
}
