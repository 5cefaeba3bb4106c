//! `hardware`: processors, memory, DMI, uptime, LVM, mounts and block devices.

use super::helper_cache;
use super::util::{file_content, file_lines, Programs};
use super::{timing, Facts, Gather};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

pub fn collect(g: &Gather) -> Facts {
    let mut f = Facts::new();
    let arch = g
        .facts
        .get("architecture")
        .and_then(Value::as_str)
        .unwrap_or("");
    let t = timing::start();
    f.extend(cpu_facts(arch));
    timing::done("hardware.cpu", t);
    let t = timing::start();
    f.extend(memory_facts());
    f.extend(dmi_facts(g.programs));
    timing::done("hardware.memory+dmi", t);
    let t = timing::start();
    f.extend(device_facts());
    timing::done("hardware.devices", t);
    if let Some(up) = file_content("/proc/uptime") {
        if let Some(secs) = up.split(' ').next().and_then(|s| s.parse::<f64>().ok()) {
            f.insert("uptime_seconds".into(), json!(secs as i64));
        }
    }
    let t = timing::start();
    f.extend(lvm_facts(g.programs));
    timing::done("hardware.lvm", t);
    f.insert("mounts".into(), Value::Array(mount_facts(g.programs)));
    f
}

fn cpu_facts(arch: &str) -> Facts {
    let mut f = Facts::new();
    let lines = file_lines("/proc/cpuinfo");
    if lines.is_empty() {
        return f;
    }
    let xen = Path::new("/proc/xen").exists()
        || file_lines("/sys/hypervisor/type")
            .first()
            .is_some_and(|l| l.trim() == "xen");
    let mut xen_paravirt = false;
    let mut processor: Vec<Value> = Vec::new();
    let (mut i, mut vendor_n, mut model_n, mut proc_n) = (0i64, 0, 0, 0i64);
    let mut physid = String::from("0");
    let mut coreid = String::from("0");
    // Insertion-ordered maps, as Python dicts are.
    let mut sockets: Vec<(String, i64)> = Vec::new();
    let mut cores: Vec<(String, i64)> = Vec::new();
    let set = |v: &mut Vec<(String, i64)>, k: &str, n: i64| match v.iter_mut().find(|e| e.0 == k) {
        Some(e) => e.1 = n,
        None => v.push((k.to_string(), n)),
    };
    let (mut zp, mut zmt) = (0i64, 0i64);
    for line in &lines {
        let (key, val) = match line.split_once(':') {
            Some((k, v)) => (k.trim(), v.trim()),
            None => (line.trim(), ""),
        };
        if xen && key == "flags" && !val.contains("vme") {
            xen_paravirt = true;
        }
        if key == "flags" {
            f.insert(
                "flags".into(),
                Value::Array(val.split_whitespace().map(|s| json!(s)).collect()),
            );
        }
        match key {
            "model name" | "Processor" | "vendor_id" | "cpu" | "Vendor" | "processor" => {
                processor.push(json!(val));
                match key {
                    "vendor_id" => vendor_n += 1,
                    "model name" => model_n += 1,
                    "processor" => proc_n += 1,
                    _ => {}
                }
                i += 1;
            }
            "physical id" => {
                physid = val.to_string();
                if !sockets.iter().any(|e| e.0 == physid) {
                    set(&mut sockets, &physid, 1);
                }
            }
            "core id" => {
                coreid = val.to_string();
                if !sockets.iter().any(|e| e.0 == coreid) {
                    set(&mut cores, &coreid, 1);
                }
            }
            "cpu cores" => set(&mut sockets, &physid, val.parse().unwrap_or(0)),
            "siblings" => set(&mut cores, &coreid, val.parse().unwrap_or(0)),
            "# processors" => zp = val.parse().unwrap_or(0),
            "max thread id" => zmt = val.parse::<i64>().unwrap_or(0) + 1,
            "ncpus active" => i = val.parse().unwrap_or(i),
            _ => {}
        }
    }
    f.insert("processor".into(), Value::Array(processor));
    if vendor_n > 0 && vendor_n == model_n {
        i = vendor_n;
    }
    if arch.starts_with("armv") || arch.starts_with("aarch") || arch.starts_with("ppc") {
        i = proc_n;
    }
    let put = |f: &mut Facts, k: &str, v: i64| {
        f.insert(k.into(), json!(v));
    };
    if arch == "s390x" {
        let zmt = zmt.max(1);
        put(&mut f, "processor_count", 1);
        put(
            &mut f,
            "processor_cores",
            (zp as f64 / zmt as f64).round() as i64,
        );
        put(&mut f, "processor_threads_per_core", zmt);
        put(&mut f, "processor_vcpus", zp);
        put(&mut f, "processor_nproc", zp);
    } else if xen_paravirt {
        for k in [
            "processor_count",
            "processor_cores",
            "processor_vcpus",
            "processor_nproc",
        ] {
            put(&mut f, k, i);
        }
        put(&mut f, "processor_threads_per_core", 1);
    } else {
        let count = if sockets.is_empty() {
            i
        } else {
            sockets.len() as i64
        };
        let cores_per = sockets
            .first()
            .map(|s| s.1)
            .filter(|n| *n != 0)
            .unwrap_or(1);
        let threads = match cores.first() {
            Some(c) => py_round(c.1 as f64 / cores_per as f64),
            None => py_round(1.0 / cores_per as f64),
        };
        put(&mut f, "processor_count", count);
        put(&mut f, "processor_cores", cores_per);
        put(&mut f, "processor_threads_per_core", threads);
        put(&mut f, "processor_vcpus", threads * count * cores_per);
        put(&mut f, "processor_nproc", proc_n);
    }
    if let Some(n) = affinity_cpus() {
        put(&mut f, "processor_nproc", n);
    }
    f
}

/// Python's round(): halves go to the even neighbour.
fn py_round(x: f64) -> i64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && (r as i64) % 2 != 0 {
        (r - x.signum()) as i64
    } else {
        r as i64
    }
}

/// `len(os.sched_getaffinity(0))`.
fn affinity_cpus() -> Option<i64> {
    // SAFETY: sched_getaffinity fills the zeroed cpu_set_t we own.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return None;
        }
        Some(libc::CPU_COUNT(&set) as i64)
    }
}

fn memory_facts() -> Facts {
    let mut f = Facts::new();
    let lines = file_lines("/proc/meminfo");
    if lines.is_empty() {
        return f;
    }
    let mut stats: BTreeMap<String, i64> = BTreeMap::new();
    for line in &lines {
        let Some((key, rest)) = line.split_once(':') else {
            continue;
        };
        let val = rest
            .trim()
            .split(' ')
            .next()
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0)
            / 1024;
        if matches!(key, "MemTotal" | "SwapTotal" | "MemFree" | "SwapFree") {
            f.insert(format!("{}_mb", key.to_lowercase()), json!(val));
        }
        if matches!(
            key,
            "MemTotal" | "SwapTotal" | "MemFree" | "SwapFree" | "Buffers" | "Cached" | "SwapCached"
        ) {
            stats.insert(key.to_lowercase(), val);
        }
    }
    let g = |k: &str| stats.get(k).copied();
    let sub = |a: Option<i64>, b: Option<i64>| a.zip(b).map(|(a, b)| a - b);
    let nocache_free = match (g("cached"), g("memfree"), g("buffers")) {
        (Some(c), Some(m), Some(b)) => Some(c + m + b),
        _ => None,
    };
    f.insert(
        "memory_mb".into(),
        json!({
            "real": {"total": g("memtotal"), "used": sub(g("memtotal"), g("memfree")), "free": g("memfree")},
            "nocache": {"free": nocache_free, "used": sub(g("memtotal"), nocache_free)},
            "swap": {"total": g("swaptotal"), "free": g("swapfree"),
                     "used": sub(g("swaptotal"), g("swapfree")), "cached": g("swapcached")},
        }),
    );
    f
}

const FORM_FACTOR: &[&str] = &[
    "Unknown",
    "Other",
    "Unknown",
    "Desktop",
    "Low Profile Desktop",
    "Pizza Box",
    "Mini Tower",
    "Tower",
    "Portable",
    "Laptop",
    "Notebook",
    "Hand Held",
    "Docking Station",
    "All In One",
    "Sub Notebook",
    "Space-saving",
    "Lunch Box",
    "Main Server Chassis",
    "Expansion Chassis",
    "Sub Chassis",
    "Bus Expansion Chassis",
    "Peripheral Chassis",
    "RAID Chassis",
    "Rack Mount Chassis",
    "Sealed-case PC",
    "Multi-system",
    "CompactPCI",
    "AdvancedTCA",
    "Blade",
    "Blade Enclosure",
    "Tablet",
    "Convertible",
    "Detachable",
    "IoT Gateway",
    "Embedded PC",
    "Mini PC",
    "Stick PC",
];

const DMI: &[(&str, &str, &str)] = &[
    ("bios_date", "bios_date", "bios-release-date"),
    ("bios_vendor", "bios_vendor", "bios-vendor"),
    ("bios_version", "bios_version", "bios-version"),
    ("board_asset_tag", "board_asset_tag", "baseboard-asset-tag"),
    ("board_name", "board_name", "baseboard-product-name"),
    ("board_serial", "board_serial", "baseboard-serial-number"),
    ("board_vendor", "board_vendor", "baseboard-manufacturer"),
    ("board_version", "board_version", "baseboard-version"),
    (
        "chassis_asset_tag",
        "chassis_asset_tag",
        "chassis-asset-tag",
    ),
    ("chassis_serial", "chassis_serial", "chassis-serial-number"),
    ("chassis_vendor", "chassis_vendor", "chassis-manufacturer"),
    ("chassis_version", "chassis_version", "chassis-version"),
    ("form_factor", "chassis_type", "chassis-type"),
    ("product_name", "product_name", "system-product-name"),
    ("product_serial", "product_serial", "system-serial-number"),
    ("product_uuid", "product_uuid", "system-uuid"),
    ("product_version", "product_version", "system-version"),
    ("system_vendor", "sys_vendor", "system-manufacturer"),
];

fn dmi_facts(programs: &Programs) -> Facts {
    let mut f = Facts::new();
    let base = Path::new("/sys/devices/virtual/dmi/id");
    if base.join("product_name").exists() {
        for (key, file, _) in DMI {
            let value = match file_content(base.join(file)) {
                Some(data) if *key == "form_factor" => data
                    .parse::<usize>()
                    .ok()
                    .and_then(|n| FORM_FACTOR.get(n))
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| format!("unknown ({data})")),
                Some(data) => data,
                None => "NA".into(),
            };
            f.insert(key.to_string(), json!(value));
        }
        return f;
    }
    let dmidecode = programs.find("dmidecode");
    for (key, _, keyword) in DMI {
        let value = match &dmidecode {
            Some(bin) => match programs.run(bin, &["-s", keyword]) {
                (0, out, _) => out
                    .lines()
                    .filter(|l| !l.starts_with('#'))
                    .collect::<String>(),
                _ => "NA".into(),
            },
            None => "NA".into(),
        };
        f.insert(key.to_string(), json!(value));
    }
    f
}

fn lvm_facts(programs: &Programs) -> Facts {
    let mut f = Facts::new();
    f.insert("lvm".into(), json!("N/A"));
    let Some(vgs_bin) = programs.find("vgs") else {
        return f;
    };
    // SAFETY: getuid only reads the process credentials.
    if unsafe { libc::getuid() } != 0 {
        return f;
    }
    let opts = [
        "--noheadings",
        "--nosuffix",
        "--units",
        "g",
        "--separator",
        ",",
    ];
    let rows = |bin: &Path| -> Vec<Vec<String>> {
        let (_, out, _) = programs.run(bin, &opts);
        out.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| l.trim().split(',').map(str::to_string).collect())
            .collect()
    };
    let mut vgs = Map::new();
    for r in rows(&vgs_bin) {
        if r.len() >= 3 {
            let n = r.len();
            vgs.insert(
                r[0].clone(),
                json!({"size_g": r[n - 2], "free_g": r[n - 1], "num_lvs": r[2], "num_pvs": r[1]}),
            );
        }
    }
    let mut lvs = Map::new();
    if let Some(bin) = programs.find("lvs") {
        for r in rows(&bin) {
            if r.len() >= 4 {
                lvs.insert(r[0].clone(), json!({"size_g": r[3], "vg": r[1]}));
            }
        }
    }
    let mut pvs = Map::new();
    if let Some(bin) = programs.find("pvs") {
        for r in rows(&bin) {
            if r.len() >= 6 {
                pvs.insert(
                    r[0].clone(),
                    json!({"size_g": r[4], "free_g": r[5], "vg": r[1]}),
                );
            }
        }
    }
    f.insert("lvm".into(), json!({"lvs": lvs, "vgs": vgs, "pvs": pvs}));
    f
}

/// `\040`-style escapes in /etc/mtab fields.
fn unescape_octal(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\'
            && i + 3 < bytes.len()
            && bytes[i + 1..i + 4].iter().all(u8::is_ascii_digit)
        {
            let v = (bytes[i + 1] - b'0') as u32 * 64
                + (bytes[i + 2] - b'0') as u32 * 8
                + (bytes[i + 3] - b'0') as u32;
            out.extend(char::from_u32(v).unwrap_or('?').to_string().bytes());
            i += 4;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// `findmnt --list`: a function of the mount table (and of the kernel command
/// line, which libmount reads to name /dev/root), cached keyed by both.
fn findmnt_cached(programs: &Programs, bin: &Path) -> (i32, String, String) {
    let mut extra = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    extra.push_str(&std::fs::read_to_string("/proc/cmdline").unwrap_or_default());
    let inputs = helper_cache::Inputs {
        files: &[],
        touched_by_reads: &[],
        extra: &extra,
    };
    let args = ["--list", "--noheadings", "--notruncate"];
    helper_cache::run_cached(bin, &args, programs.env(), &inputs)
}

/// `lsblk ... NAME,UUID`: the block devices (their names, in extra) and the
/// filesystem UUIDs udev recorded (lsblk reads udev's database): a new or re-made filesystem renames entries
/// in /dev/disk/by-uuid and rewrites its udev database file (both directories'
/// mtimes move).
fn lsblk_cached(programs: &Programs, bin: &Path, args: &[&str]) -> (i32, String, String) {
    // Without udev lsblk probes the devices itself: nothing to key on.
    if !Path::new("/run/udev/data").is_dir() {
        return programs.run(bin, args);
    }
    let mut names: Vec<String> = std::fs::read_dir("/sys/class/block")
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let extra = names.join(" ");
    let inputs = helper_cache::Inputs {
        files: &["/dev/disk/by-uuid", "/run/udev/data"],
        touched_by_reads: &[],
        extra: &extra,
    };
    helper_cache::run_cached(bin, args, programs.env(), &inputs)
}

/// Whether `lsblk` could report a UUID for a device that a mount fact looks up.
/// lsblk takes a UUID from udev's database or, without one, by probing the
/// device (reading its superblock). With no udev database (/run/udev/data), a
/// mounted device this process cannot open for reading cannot be probed by an
/// lsblk we start either: when that holds for every device the mounts name, the
/// answer is known to hold no UUID for them and the child (~4 ms of CPU per
/// gathering, the largest single cost of `hardware` in containers) is skipped.
fn lsblk_could_name_a_uuid(mtab: &str) -> bool {
    if Path::new("/run/udev/data").is_dir() {
        return true;
    }
    mtab.lines().any(|line| {
        let mut fields = line.split_whitespace();
        let device = unescape_octal(fields.next().unwrap_or_default());
        // The devices mount_facts looks up: absolute paths (lsblk prints only
        // /dev paths, so a remote `host:/path` or `\\server` never matches).
        device.starts_with('/') && can_open_for_reading(&device)
    })
}

/// A block device (through symlinks: /dev/mapper names are links) that opens for
/// reading. Anything else lsblk never lists or cannot read either; other device
/// kinds are not opened at all (opening some has effects).
fn can_open_for_reading(device: &str) -> bool {
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let is_block = std::fs::metadata(device).is_ok_and(|m| m.file_type().is_block_device());
    // Non-blocking, as blkid opens: a removable drive's open does not wait for media.
    is_block
        && std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(device)
            .is_ok()
}

fn mount_facts(programs: &Programs) -> Vec<Value> {
    let t = timing::start();
    let bind_mounts: BTreeSet<String> = match programs.find("findmnt") {
        Some(bin) => match findmnt_cached(programs, &bin) {
            (0, out, _) => out
                .lines()
                .filter_map(|l| {
                    let fields: Vec<&str> = l.split_whitespace().collect();
                    (fields.len() >= 2 && fields[1].ends_with(']')).then(|| fields[0].to_string())
                })
                .collect(),
            _ => BTreeSet::new(),
        },
        None => BTreeSet::new(),
    };
    timing::done("hardware.findmnt", t);
    let t = timing::start();
    let mtab = if Path::new("/etc/mtab").exists() {
        "/etc/mtab"
    } else {
        "/proc/mounts"
    };
    let mtab_text = file_content(mtab).unwrap_or_default();
    let uuids: BTreeMap<String, String> = match programs
        .find("lsblk")
        .filter(|_| lsblk_could_name_a_uuid(&mtab_text))
    {
        Some(bin) => match lsblk_cached(
            programs,
            &bin,
            &[
                "--list",
                "--noheadings",
                "--paths",
                "--output",
                "NAME,UUID",
                "--exclude",
                "2",
            ],
        ) {
            (0, out, _) => {
                let mut m = BTreeMap::new();
                for line in out.lines() {
                    let line = line.trim();
                    if let Some((dev, uuid)) = line.rsplit_once(char::is_whitespace) {
                        m.entry(dev.trim().to_string())
                            .or_insert_with(|| uuid.trim().to_string());
                    }
                }
                m
            }
            _ => BTreeMap::new(),
        },
        None => BTreeMap::new(),
    };
    timing::done("hardware.lsblk", t);
    let t = timing::start();
    let mut mounts = Vec::new();
    for line in mtab_text.lines() {
        let fields: Vec<String> = line.split_whitespace().map(unescape_octal).collect();
        if fields.len() < 6 {
            continue;
        }
        let (device, mount, fstype, options) = (&fields[0], &fields[1], &fields[2], &fields[3]);
        if (!device.starts_with('/') && !device.starts_with('\\') && !device.contains(":/"))
            || fstype == "none"
        {
            continue;
        }
        let mut info = Map::new();
        info.insert("mount".into(), json!(mount));
        info.insert("device".into(), json!(device));
        info.insert("fstype".into(), json!(fstype));
        let mut options = options.clone();
        if bind_mounts.contains(mount) && !options.contains("bind") {
            options.push_str(",bind");
        }
        info.insert("options".into(), json!(options));
        info.insert("dump".into(), json!(fields[4].parse::<i64>().unwrap_or(0)));
        info.insert(
            "passno".into(),
            json!(fields[5].parse::<i64>().unwrap_or(0)),
        );
        info.extend(mount_size(mount));
        let uuid = uuids
            .get(device)
            .cloned()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| udevadm_uuid(programs, device));
        info.insert("uuid".into(), json!(uuid));
        mounts.push(Value::Object(info));
    }
    timing::done("hardware.mounts", t);
    mounts
}

fn udevadm_uuid(programs: &Programs, device: &str) -> String {
    let Some(bin) = programs.find("udevadm") else {
        return "N/A".into();
    };
    match programs.run(&bin, &["info", "--query", "property", "--name", device]) {
        (0, out, _) => out
            .lines()
            .find_map(|l| l.strip_prefix("ID_FS_UUID=").map(str::to_string))
            .unwrap_or_else(|| "N/A".into()),
        _ => "N/A".into(),
    }
}

fn mount_size(mount: &str) -> Map<String, Value> {
    let mut m = Map::new();
    let Ok(c) = std::ffi::CString::new(mount) else {
        return m;
    };
    // SAFETY: statvfs fills the zeroed struct we own.
    let st = unsafe {
        let mut st: libc::statvfs = std::mem::zeroed();
        if libc::statvfs(c.as_ptr(), &mut st) != 0 {
            return m;
        }
        st
    };
    let (frsize, blocks, bavail) = (st.f_frsize as u64, st.f_blocks as u64, st.f_bavail as u64);
    m.insert("size_total".into(), json!(frsize * blocks));
    m.insert("size_available".into(), json!(frsize * bavail));
    m.insert("block_size".into(), json!(st.f_bsize as u64));
    m.insert("block_total".into(), json!(blocks));
    m.insert("block_available".into(), json!(bavail));
    m.insert("block_used".into(), json!(blocks as i64 - bavail as i64));
    m.insert("inode_total".into(), json!(st.f_files as u64));
    m.insert("inode_available".into(), json!(st.f_favail as u64));
    m.insert(
        "inode_used".into(),
        json!(st.f_files as i64 - st.f_favail as i64),
    );
    m
}

/// Python's `bytes_to_human`: "0.00 Bytes", "1.50 KB", "20.00 GB".
fn bytes_to_human(size: f64) -> String {
    let units = [
        ("Y", 1u128 << 80),
        ("Z", 1 << 70),
        ("E", 1 << 60),
        ("P", 1 << 50),
        ("T", 1 << 40),
        ("G", 1 << 30),
        ("M", 1 << 20),
        ("K", 1 << 10),
    ];
    for (suffix, limit) in units {
        if size >= limit as f64 {
            return format!("{:.2} {suffix}B", size / limit as f64);
        }
    }
    format!("{size:.2} Bytes")
}

fn dir_names(path: &Path) -> Vec<String> {
    std::fs::read_dir(path)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// target name -> sorted link names of a /dev/disk/by-* directory.
fn device_links(dir: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in dir_names(Path::new(dir)) {
        if let Ok(target) = std::fs::read_link(Path::new(dir).join(&entry)) {
            if let Some(name) = target.file_name() {
                out.entry(name.to_string_lossy().into_owned())
                    .or_default()
                    .insert(entry);
            }
        }
    }
    out.into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect()
}

fn device_facts() -> Facts {
    let mut f = Facts::new();
    let block_devs = match std::fs::read_dir("/sys/block") {
        Ok(rd) => rd
            .filter_map(Result::ok)
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect::<Vec<_>>(),
        Err(_) => {
            f.insert("devices".into(), json!({}));
            return f;
        }
    };
    let mut masters: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for dev in &block_devs {
        for slave in dir_names(&Path::new("/sys/block").join(dev).join("slaves")) {
            masters.entry(slave).or_default().insert(dev.clone());
        }
    }
    let masters: BTreeMap<String, Vec<String>> = masters
        .into_iter()
        .map(|(k, v)| (k, v.into_iter().collect()))
        .collect();
    let links: Vec<(&str, BTreeMap<String, Vec<String>>)> = vec![
        ("ids", device_links("/dev/disk/by-id")),
        ("uuids", device_links("/dev/disk/by-uuid")),
        ("labels", device_links("/dev/disk/by-label")),
        ("masters", masters),
    ];
    let links_of = |name: &str| -> Value {
        let mut m = Map::new();
        for (kind, map) in &links {
            m.insert(
                kind.to_string(),
                json!(map.get(name).cloned().unwrap_or_default()),
            );
        }
        Value::Object(m)
    };
    let mut link_facts = Map::new();
    for (kind, map) in &links {
        link_facts.insert(kind.to_string(), json!(map));
    }
    f.insert("device_links".into(), Value::Object(link_facts));
    let mut devices = Map::new();
    for block in block_devs {
        let link = Path::new("/sys/block").join(&block);
        let resolved = super::util::sysfs_link_target(&link);
        let is_link = resolved.is_some();
        let sysdir = match resolved {
            Some(dir) => dir,
            None => std::fs::canonicalize(&link).unwrap_or(link.clone()),
        };
        // Listed once: the partitions are found in it, and without a `device`
        // entry (loop, zram, dm devices) the device/* files are not there to
        // open (ten opens fewer per such device).
        let entries = dir_names(&sysdir);
        let has_device = entries.iter().any(|n| n == "device");
        let device_file = |key: &str| {
            if has_device {
                file_content(sysdir.join("device").join(key))
            } else {
                None
            }
        };
        let mut d = Map::new();
        // A /sys/block entry is a link; a plain directory means no sysfs links.
        let virtual_dev = if !is_link {
            if entries.iter().any(|n| n.contains("device")) {
                0
            } else {
                1
            }
        } else {
            1
        };
        d.insert("virtual".into(), json!(virtual_dev));
        d.insert("links".into(), links_of(&block));
        for key in ["vendor", "model", "sas_address", "sas_device_handle"] {
            d.insert(key.into(), json!(device_file(key)));
        }
        if let Some(serial) = device_file("serial").filter(|s| !s.is_empty()) {
            d.insert("serial".into(), json!(serial));
        }
        d.insert(
            "removable".into(),
            json!(file_content(sysdir.join("removable"))),
        );
        let discard =
            if file_content(sysdir.join("queue/discard_max_hw_bytes")).as_deref() == Some("0") {
                Some("0".to_string())
            } else {
                file_content(sysdir.join("queue/discard_granularity"))
            };
        d.insert("support_discard".into(), json!(discard));
        let mut partitions = Map::new();
        for folder in &entries {
            let Some(name) = partition_name(&block, folder) else {
                continue;
            };
            let pdir = sysdir.join(&name);
            let mut part = Map::new();
            part.insert("links".into(), links_of(&name));
            part.insert(
                "start".into(),
                json!(file_content(pdir.join("start")).unwrap_or_else(|| "0".into())),
            );
            let sectorsize = sector_size(&pdir);
            let size = file_content(pdir.join("size"))
                .and_then(|s| s.parse::<i64>().ok())
                .unwrap_or(0);
            let sectors = size * 512 / sectorsize.parse::<i64>().unwrap_or(512).max(1);
            part.insert("sectorsize".into(), json!(sectorsize));
            part.insert("sectors".into(), json!(sectors));
            let bytes = sectors as f64 * sectorsize.parse::<f64>().unwrap_or(512.0);
            part.insert("size".into(), json!(bytes_to_human(bytes)));
            let uuid = links
                .iter()
                .find(|(k, _)| *k == "uuids")
                .and_then(|(_, m)| m.get(&name))
                .and_then(|v| v.first().cloned());
            part.insert("uuid".into(), json!(uuid));
            part.insert("holders".into(), json!(holders(&pdir)));
            partitions.insert(name, Value::Object(part));
        }
        d.insert("partitions".into(), Value::Object(partitions));
        d.insert(
            "rotational".into(),
            json!(file_content(sysdir.join("queue/rotational"))),
        );
        let scheduler = file_content(sysdir.join("queue/scheduler"))
            .and_then(|s| {
                let start = s.find('[')?;
                let end = s[start..].find(']')? + start;
                Some(s[start + 1..end].to_string())
            })
            .unwrap_or_default();
        d.insert("scheduler_mode".into(), json!(scheduler));
        let sectorsize = sector_size(&sysdir);
        let size = file_content(sysdir.join("size"))
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or(0);
        let sectors = size * 512 / sectorsize.parse::<i64>().unwrap_or(512).max(1);
        d.insert("sectorsize".into(), json!(sectorsize));
        d.insert("sectors".into(), json!(sectors));
        let bytes = sectors as f64 * sectorsize.parse::<f64>().unwrap_or(512.0);
        d.insert("size".into(), json!(bytes_to_human(bytes)));
        // `host` names the PCI controller through lspci; rsible leaves it empty.
        d.insert("host".into(), json!(""));
        d.insert("holders".into(), json!(holders(&sysdir)));
        devices.insert(block, Value::Object(d));
    }
    f.insert("devices".into(), Value::Object(devices));
    f
}

/// Ansible's `re.search(block + r'[p]?\d+', folder)`: the partition name
/// inside a sysfs folder name (`vda1`, `nvme0n1p2`), found by hand because a
/// regex compiled per block device cost more than the rest of the collector.
fn partition_name(block: &str, folder: &str) -> Option<String> {
    if block.is_empty() {
        return None;
    }
    folder.match_indices(block).find_map(|(i, _)| {
        let rest = &folder[i + block.len()..];
        let digits_after = |s: &str| s.chars().take_while(char::is_ascii_digit).count();
        let with_p = rest
            .strip_prefix('p')
            .map(digits_after)
            .filter(|n| *n > 0)
            .map(|n| 1 + n);
        let end = with_p.or_else(|| Some(digits_after(rest)).filter(|n| *n > 0))?;
        Some(folder[i..i + block.len() + end].to_string())
    })
}

fn sector_size(dir: &Path) -> String {
    file_content(dir.join("queue/logical_block_size"))
        .filter(|s| !s.is_empty())
        .or_else(|| file_content(dir.join("queue/hw_sector_size")).filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "512".into())
}

fn holders(dir: &Path) -> Vec<String> {
    dir_names(&dir.join("holders"))
        .into_iter()
        .filter(|f| f.starts_with("dm-"))
        .map(|f| {
            file_content(dir.join("holders").join(&f).join("dm/name"))
                .filter(|n| !n.is_empty())
                .unwrap_or(f)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lsblk_runs_unless_no_mounted_device_could_get_a_uuid() {
        let readable_file = std::env::current_exe().expect("test binary");
        let not_devices = format!(
            "/nonexistent/vdz / ext4 rw 0 0\n{} /x ext4 rw 0 0\n/dev/null /y ext4 rw 0 0\n\
             server:/export /nfs nfs rw 0 0\noverlay / overlay rw 0 0\n",
            readable_file.display()
        );
        if Path::new("/run/udev/data").is_dir() {
            // udev may know a UUID for any device: lsblk always runs.
            assert!(lsblk_could_name_a_uuid(&not_devices));
        } else {
            // No block device among them: lsblk's answer cannot matter.
            assert!(!lsblk_could_name_a_uuid(&not_devices));
        }
    }

    #[test]
    fn human_sizes_as_python_prints_them() {
        assert_eq!(bytes_to_human(0.0), "0.00 Bytes");
        assert_eq!(bytes_to_human(1536.0), "1.50 KB");
        assert_eq!(bytes_to_human(270553174016.0), "251.97 GB");
    }

    #[test]
    fn python_rounding() {
        assert_eq!(py_round(0.5), 0);
        assert_eq!(py_round(1.5), 2);
        assert_eq!(py_round(2.0), 2);
    }

    #[test]
    fn partition_names_as_the_regex_finds_them() {
        let cases = [
            ("vda", "vda1"),
            ("vda", "vda12"),
            ("vda", "vdap3"),
            ("vda", "vdap"),
            ("vda", "vda"),
            ("vda", "queue"),
            ("nvme0n1", "nvme0n1p2"),
            ("loop0", "loop0p1"),
            ("sda", "xsda2y"),
            ("sda", "sdasda3"),
            ("md", "md127"),
            ("sr0", "power"),
        ];
        for (block, folder) in cases {
            let re =
                regex::Regex::new(&format!("({}[p]?\\d+)", regex::escape(block))).expect("pattern");
            let want = re
                .captures(folder)
                .and_then(|c| c.get(1))
                .map(|m| m.as_str().to_string());
            assert_eq!(partition_name(block, folder), want, "{block} {folder}");
        }
    }

    #[test]
    fn octal_escapes() {
        assert_eq!(unescape_octal("/mnt/a\\040b"), "/mnt/a b");
    }
}
