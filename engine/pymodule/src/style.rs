//! What kind of module a file holds. Ansible runs several kinds; the fallback
//! runs new-style Python modules (those that use `ansible.module_utils`) and
//! refuses the others by name, never pretending to have run them.

/// The module kinds Ansible tells apart (`_find_module_utils` in ansible-core).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModuleStyle {
    /// Python importing `ansible.module_utils` (or a collection's module_utils).
    NewPython,
    /// Reads a JSON argument file named on its command line (`WANT_JSON`).
    WantJson,
    /// Not text: a compiled program.
    Binary,
    /// Any other script: gets `key=value` arguments in a file.
    OldStyle,
    /// PowerShell, for Windows targets.
    PowerShell,
}

impl ModuleStyle {
    pub fn describe(self) -> &'static str {
        match self {
            ModuleStyle::NewPython => "a Python module",
            ModuleStyle::WantJson => "a WANT_JSON module",
            ModuleStyle::Binary => "a binary module",
            ModuleStyle::OldStyle => "an old-style (key=value arguments) module",
            ModuleStyle::PowerShell => "a PowerShell module",
        }
    }
}

/// Classifies a module file from its name and content.
pub fn detect(file_name: &str, content: &[u8]) -> ModuleStyle {
    if file_name.ends_with(".ps1") {
        return ModuleStyle::PowerShell;
    }
    let Ok(text) = std::str::from_utf8(content) else {
        return ModuleStyle::Binary;
    };
    if text.contains('\0') {
        return ModuleStyle::Binary;
    }
    let markers = [
        "from ansible.module_utils.",
        "from ansible.module_utils ",
        "import ansible.module_utils",
        "from ansible_collections.",
        "import ansible_collections.",
        "<<INCLUDE_ANSIBLE_MODULE_COMMON>>",
    ];
    if markers.iter().any(|m| text.contains(m)) {
        ModuleStyle::NewPython
    } else if text.contains("WANT_JSON") {
        ModuleStyle::WantJson
    } else {
        ModuleStyle::OldStyle
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds() {
        assert_eq!(
            detect(
                "kube.py",
                b"#!/usr/bin/python\nfrom ansible.module_utils.basic import *\n"
            ),
            ModuleStyle::NewPython
        );
        assert_eq!(
            detect("x", b"#!/bin/sh\n# WANT_JSON\ncat $1\n"),
            ModuleStyle::WantJson
        );
        assert_eq!(detect("x", b"\x7fELF\0\0\xff"), ModuleStyle::Binary);
        assert_eq!(
            detect("x.sh", b"#!/bin/sh\necho hi\n"),
            ModuleStyle::OldStyle
        );
        assert_eq!(detect("x.ps1", b"#Requires"), ModuleStyle::PowerShell);
    }
}
