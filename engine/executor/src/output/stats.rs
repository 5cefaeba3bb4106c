//! Per-host counters for the PLAY RECAP (Ansible's AggregateStats).

use std::collections::BTreeMap;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct HostStats {
    pub ok: u32,
    pub changed: u32,
    pub unreachable: u32,
    pub failures: u32,
    pub skipped: u32,
    pub rescued: u32,
    pub ignored: u32,
}

/// Hosts are kept sorted by name, as the recap prints them.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    hosts: BTreeMap<String, HostStats>,
}

impl Stats {
    pub fn host(&mut self, name: &str) -> &mut HostStats {
        self.hosts.entry(name.to_string()).or_default()
    }
    pub fn get(&self, name: &str) -> Option<&HostStats> {
        self.hosts.get(name)
    }
    pub fn sorted(&self) -> impl Iterator<Item = (&String, &HostStats)> {
        self.hosts.iter()
    }
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }
}
