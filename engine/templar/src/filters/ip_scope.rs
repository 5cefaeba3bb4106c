//! Address scopes for `ipaddr('private')`/`ipaddr('public')`: netaddr 1.x's
//! `is_global()` (IANA's special-purpose registries) and the unicast,
//! loopback, netmask and hostmask checks ansible.utils combines with it.

/// (network, prefix length) as u32 for IPv4.
const V4_NOT_GLOBAL: &[(u32, u32)] = &[
    (0x0000_0000, 8),  // 0.0.0.0/8
    (0x0a00_0000, 8),  // 10.0.0.0/8
    (0x6440_0000, 10), // 100.64.0.0/10
    (0x7f00_0000, 8),  // 127.0.0.0/8
    (0xa9fe_0000, 16), // 169.254.0.0/16
    (0xac10_0000, 12), // 172.16.0.0/12
    (0xc000_0000, 24), // 192.0.0.0/24
    (0xc000_00aa, 31), // 192.0.0.170/31
    (0xc000_0200, 24), // 192.0.2.0/24
    (0xc0a8_0000, 16), // 192.168.0.0/16
    (0xc612_0000, 15), // 198.18.0.0/15
    (0xc633_6400, 24), // 198.51.100.0/24
    (0xcb00_7100, 24), // 203.0.113.0/24
    (0xf000_0000, 4),  // 240.0.0.0/4
    (0xffff_ffff, 32), // 255.255.255.255/32
];
const V4_GLOBAL_EXCEPTIONS: &[(u32, u32)] = &[(0xc000_0009, 32), (0xc000_000a, 32)];

const V6_NOT_GLOBAL: &[(u128, u32)] = &[
    (1, 128),                     // ::1/128
    (0, 128),                     // ::/128
    (0xffff_0000_0000, 96),       // ::ffff:0:0/96
    (0x0064_ff9b_0001 << 80, 48), // 64:ff9b:1::/48
    (0x0100 << 112, 64),          // 100::/64
    (0x2001 << 112, 23),          // 2001::/23
    (0x2001_0db8 << 96, 32),      // 2001:db8::/32
    (0x2002 << 112, 16),          // 2002::/16
    (0xfc00 << 112, 7),           // fc00::/7
    (0xfe80 << 112, 10),          // fe80::/10
];
const V6_GLOBAL_EXCEPTIONS: &[(u128, u32)] = &[
    ((0x2001_0001 << 96) | 1, 128), // 2001:1::1/128
    ((0x2001_0001 << 96) | 2, 128), // 2001:1::2/128
    (0x2001_0003 << 96, 32),        // 2001:3::/32
    (0x2001_0004_0112 << 80, 48),   // 2001:4:112::/48
    (0x2001_0020 << 96, 28),        // 2001:20::/28
    (0x2001_0030 << 96, 28),        // 2001:30::/28
];

fn in_net(ip: u128, bits: u32, net: u128, prefix: u32) -> bool {
    let host = bits - prefix;
    if host >= 128 {
        return true;
    }
    (ip >> host) == (net >> host)
}

/// netaddr's `IPAddress.is_global()`.
pub fn is_global(v6: bool, ip: u128) -> bool {
    if v6 {
        let hit = |list: &[(u128, u32)]| list.iter().any(|(n, p)| in_net(ip, 128, *n, *p));
        !hit(V6_NOT_GLOBAL) || hit(V6_GLOBAL_EXCEPTIONS)
    } else {
        let hit = |list: &[(u32, u32)]| list.iter().any(|(n, p)| in_net(ip, 32, *n as u128, *p));
        !hit(V4_NOT_GLOBAL) || hit(V4_GLOBAL_EXCEPTIONS)
    }
}

/// Is `n` a power of two, with `None` standing for 2^128 (an overflow)?
fn power_of_two(n: Option<u128>) -> bool {
    n.is_none_or(|n| n & n.wrapping_sub(1) == 0)
}

/// ansible.utils' `public` query: unicast, global, not loopback, and not a
/// netmask- or hostmask-shaped address.
pub fn is_public(v6: bool, ip: u128) -> bool {
    let max = if v6 { u128::MAX } else { u32::MAX as u128 };
    let multicast = if v6 {
        ip >> 120 == 0xff
    } else {
        ip >> 28 == 0xe
    };
    let loopback = if v6 { ip == 1 } else { ip >> 24 == 127 };
    let netmask = power_of_two((ip ^ max).checked_add(1));
    let hostmask = power_of_two(ip.checked_add(1));
    !multicast && is_global(v6, ip) && !loopback && !netmask && !hostmask
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes() {
        assert!(!is_global(false, 0x0a00_0001)); // 10.0.0.1
        assert!(is_global(false, 0x0808_0808)); // 8.8.8.8
        assert!(is_public(false, 0x0808_0808));
        assert!(!is_public(false, 0xffff_ff00)); // 255.255.255.0 is a netmask
        assert!(is_global(false, 0xc000_0009)); // 192.0.0.9 is an exception
        assert!(!is_global(true, 0xfd00 << 112));
        assert!(is_public(true, 0x2a00_1450 << 96));
    }
}
