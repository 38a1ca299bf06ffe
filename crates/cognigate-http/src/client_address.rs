//! Which client a request came from, for per-address rate limits.
//!
//! Behind a TLS proxy every request arrives from the proxy, so keying limits on the TCP peer turns them into one
//! global limit an attacker can exhaust for everyone. The forwarding headers name the real client, but anyone can
//! write them, so they are believed only as far as they were written by configured proxies: the standard
//! right-to-left walk, stopping at the first hop no trusted proxy vouches for.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use cognigate_config::ForwardedHeader;
use ipnet::IpNet;

/// Hops considered from the right; deeper proxy chains do not exist in practice, and the walk stays bounded.
const MAX_HOPS: usize = 32;
/// Longer header values are treated as unparseable rather than scanned.
const MAX_HEADER_VALUE_LEN: usize = 8 * 1024;

/// One entry of the forwarding chain, as read from a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Hop {
    Address(IpAddr),
    /// Garbage, `unknown`, an obfuscated identifier or a missing `for=`: nothing left of it can be believed.
    Unparseable,
}

/// Who the client is: the TCP peer, or — when the peer is a trusted proxy — the address the proxies say they
/// received the request from.
///
/// `values` are every value of the one header the proxies write (`header`), in the order received; the
/// other header is never read, since a proxy that passes it through untouched would let the client choose
/// its own address. IPv4-mapped IPv6 addresses are treated (and returned) as IPv4, so a dual-stack listener
/// matches IPv4 trusted ranges.
pub fn client_address(peer: IpAddr, header: ForwardedHeader, values: &[&str], trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let is_trusted = |address: &IpAddr| trusted.iter().any(|net| net.contains(address));
    if !is_trusted(&peer) {
        return peer;
    }
    let hops = match header {
        ForwardedHeader::XForwardedFor => hops_from_right(values, parse_x_forwarded_for),
        ForwardedHeader::Forwarded => hops_from_right(values, parse_forwarded),
    };
    let mut last_trusted = peer;
    for hop in hops {
        match hop {
            Hop::Unparseable => return last_trusted,
            Hop::Address(address) => {
                let address = address.to_canonical();
                if !is_trusted(&address) {
                    return address;
                }
                last_trusted = address;
            }
        }
    }
    last_trusted
}

/// Up to [`MAX_HOPS`] hops, rightmost first, across all header values.
fn hops_from_right(values: &[&str], parse: fn(&str) -> Vec<Hop>) -> Vec<Hop> {
    let mut hops = Vec::new();
    for value in values.iter().rev() {
        if value.len() > MAX_HEADER_VALUE_LEN {
            hops.push(Hop::Unparseable);
        } else {
            hops.extend(parse(value).into_iter().rev());
        }
        if hops.len() >= MAX_HOPS {
            hops.truncate(MAX_HOPS);
            break;
        }
    }
    hops
}

/// `X-Forwarded-For: client, proxy1, proxy2`: addresses, IPv4 optionally with a port, IPv6 bare or bracketed
/// (optionally with a port). An empty element is unparseable: a proxy that wrote it did not know its client.
fn parse_x_forwarded_for(value: &str) -> Vec<Hop> {
    value
        .split(',')
        .map(|element| {
            let element = element.trim();
            let address = if let Some(rest) = element.strip_prefix('[') {
                bracketed_v6(rest)
                    .filter(|(_, after)| after.is_empty() || after.strip_prefix(':').is_some_and(is_port))
            } else if let Ok(address) = IpAddr::from_str(element) {
                Some((address, ""))
            } else {
                element
                    .split_once(':')
                    .filter(|(_, port)| is_port(port))
                    .and_then(|(host, _)| Ipv4Addr::from_str(host).ok())
                    .map(|v4| (IpAddr::V4(v4), ""))
            };
            address.map_or(Hop::Unparseable, |(address, _)| Hop::Address(address))
        })
        .collect()
}

/// RFC 7239 `Forwarded: for=192.0.2.60;proto=https, for="[2001:db8::1]:4711"`: the `for=` node of each element.
/// An element without exactly one `for=`, or whose node is `unknown`, obfuscated (`_hidden`) or malformed, is
/// unparseable.
fn parse_forwarded(value: &str) -> Vec<Hop> {
    split_unquoted(value, ',')
        .into_iter()
        .map(|element| forwarded_for(element).map_or(Hop::Unparseable, Hop::Address))
        .collect()
}

fn forwarded_for(element: &str) -> Option<IpAddr> {
    let mut node = None;
    for pair in split_unquoted(element, ';') {
        let pair = pair.trim();
        if pair.is_empty() {
            continue;
        }
        let (name, raw) = pair.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("for") {
            if node.is_some() {
                return None; // RFC 7239 §4: a parameter occurs at most once per element.
            }
            node = Some(unquote(raw.trim())?);
        }
    }
    parse_node(&node?)
}

/// A `node` (RFC 7239 §6): IPv4 or bracketed IPv6, optionally `:port` (digits, or an obfuscated `_port`).
/// `unknown` and obfuscated names yield `None`.
fn parse_node(node: &str) -> Option<IpAddr> {
    let (address, after) = if let Some(rest) = node.strip_prefix('[') {
        bracketed_v6(rest)?
    } else {
        let (host, after) = node.find(':').map_or((node, ""), |colon| node.split_at(colon));
        (IpAddr::V4(Ipv4Addr::from_str(host).ok()?), after)
    };
    match after.strip_prefix(':') {
        None if after.is_empty() => Some(address),
        Some(port) if is_port(port) || is_obfuscated(port) => Some(address),
        _ => None,
    }
}

/// `2001:db8::1]rest` (the `[` already removed) to the address and what follows the `]`.
fn bracketed_v6(rest: &str) -> Option<(IpAddr, &str)> {
    let (inside, after) = rest.split_once(']')?;
    Some((IpAddr::V6(Ipv6Addr::from_str(inside).ok()?), after))
}

fn is_port(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 5
        && text.bytes().all(|b| b.is_ascii_digit())
        && text.parse::<u16>().is_ok()
}

/// RFC 7239 §6.3 `obfnode`/`obfport`: `_` then letters, digits, `.`, `_`, `-`.
fn is_obfuscated(text: &str) -> bool {
    text.strip_prefix('_').is_some_and(|rest| {
        !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
    })
}

/// Splits on `separator` outside quoted strings (a backslash escapes the next character inside quotes). An
/// unterminated quote swallows the rest, which then fails to parse.
fn split_unquoted(text: &str, separator: char) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut quoted, mut escaped) = (0, false, false);
    for (index, c) in text.char_indices() {
        if escaped {
            escaped = false;
        } else if quoted && c == '\\' {
            escaped = true;
        } else if c == '"' {
            quoted = !quoted;
        } else if !quoted && c == separator {
            parts.push(text.get(start..index).unwrap_or_default());
            start = index + c.len_utf8();
        }
    }
    parts.push(text.get(start..).unwrap_or_default());
    parts
}

/// A `token` as is, or a `quoted-string` with its escapes undone; `None` if the quoting is malformed.
fn unquote(value: &str) -> Option<String> {
    let Some(inner) = value.strip_prefix('"') else {
        return (!value.is_empty() && !value.contains('"')).then(|| value.to_owned());
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?),
            '"' => return chars.next().is_none().then_some(out),
            _ => out.push(c),
        }
    }
    None
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<IpNet> {
        list.iter()
            .map(|entry| {
                entry.parse::<IpNet>().unwrap_or_else(|_| IpNet::from(entry.parse::<IpAddr>().unwrap()))
            })
            .collect()
    }

    /// The header the proxies write: `Forwarded` when the test gives one, else `X-Forwarded-For`.
    fn both(peer: IpAddr, forwarded: &[&str], x_forwarded_for: &[&str], trusted: &[IpNet]) -> IpAddr {
        if forwarded.is_empty() {
            client_address(peer, ForwardedHeader::XForwardedFor, x_forwarded_for, trusted)
        } else {
            client_address(peer, ForwardedHeader::Forwarded, forwarded, trusted)
        }
    }

    fn proxies() -> Vec<IpNet> {
        nets(&["10.0.0.0/8", "192.168.1.1", "2001:db8:ffff::/48"])
    }

    #[test]
    fn untrusted_peer_ignores_spoofed_headers() {
        let peer = ip("203.0.113.9");
        assert_eq!(both(peer, &["for=198.51.100.1"], &["198.51.100.2"], &proxies()), peer);
        assert_eq!(both(peer, &[], &["1.1.1.1, 10.0.0.1"], &proxies()), peer);
        assert_eq!(both(peer, &[], &["1.1.1.1"], &[]), peer);
    }

    #[test]
    fn no_headers_from_trusted_peer_is_the_peer() {
        assert_eq!(both(ip("10.0.0.1"), &[], &[], &proxies()), ip("10.0.0.1"));
    }

    #[test]
    fn trusted_peer_with_one_hop() {
        let peer = ip("10.0.0.1");
        assert_eq!(both(peer, &[], &["198.51.100.7"], &proxies()), ip("198.51.100.7"));
        assert_eq!(both(peer, &["for=198.51.100.7;proto=https"], &[], &proxies()), ip("198.51.100.7"));
        assert_eq!(both(peer, &[], &["198.51.100.7:5678"], &proxies()), ip("198.51.100.7"));
        assert_eq!(both(peer, &[], &["2001:db8:1:2::5"], &proxies()), ip("2001:db8:1:2::5"));
        assert_eq!(both(peer, &[], &["[2001:db8:1:2::5]:443"], &proxies()), ip("2001:db8:1:2::5"));
    }

    #[test]
    fn chains_of_proxies_walk_from_the_right() {
        let peer = ip("10.0.0.1");
        // client, spoofed entry the client wrote, then two trusted proxies.
        let xff = ["6.6.6.6, 198.51.100.7, 10.0.0.3, 192.168.1.1"];
        assert_eq!(both(peer, &[], &xff, &proxies()), ip("198.51.100.7"));
        // The same chain spread over several header lines.
        let split = ["6.6.6.6", "198.51.100.7, 10.0.0.3", "192.168.1.1"];
        assert_eq!(both(peer, &[], &split, &proxies()), ip("198.51.100.7"));
        // Every hop trusted: the leftmost.
        assert_eq!(both(peer, &[], &["10.0.0.7, 10.0.0.3"], &proxies()), ip("10.0.0.7"));
        // IPv6 proxies.
        let peer6 = ip("2001:db8:ffff::1");
        let xff6 = ["2001:db8:1:2::5, 2001:db8:ffff::2"];
        assert_eq!(both(peer6, &[], &xff6, &proxies()), ip("2001:db8:1:2::5"));
    }

    #[test]
    fn unparseable_hop_stops_the_walk() {
        let peer = ip("10.0.0.1");
        // Garbage in the middle: never skip past it to what the client wrote further left.
        assert_eq!(both(peer, &[], &["6.6.6.6, garbage, 10.0.0.3"], &proxies()), ip("10.0.0.3"));
        assert_eq!(both(peer, &[], &["6.6.6.6, garbage"], &proxies()), peer);
        assert_eq!(both(peer, &[], &["6.6.6.6, , 10.0.0.3"], &proxies()), ip("10.0.0.3"));
        assert_eq!(both(peer, &[], &["6.6.6.6, unknown"], &proxies()), peer);
        assert_eq!(both(peer, &[], &["6.6.6.6, 1.2.3.4:99999"], &proxies()), peer);
        assert_eq!(both(peer, &[], &["6.6.6.6, [2001:db8::1"], &proxies()), peer);
        // But garbage left of the first untrusted hop does not matter.
        assert_eq!(both(peer, &[], &["garbage, 198.51.100.7, 10.0.0.3"], &proxies()), ip("198.51.100.7"));
        for forwarded in [
            "for=6.6.6.6, for=unknown",
            "for=6.6.6.6, for=_hidden",
            "for=6.6.6.6, for=\"_gazonk\"",
            "for=6.6.6.6, proto=https",
            "for=6.6.6.6, for=2001:db8::1",
            "for=6.6.6.6, for=1.2.3.4;for=5.6.7.8",
            "for=6.6.6.6, for=\"1.2.3.4",
        ] {
            assert_eq!(both(peer, &[forwarded], &[], &proxies()), peer, "{forwarded}");
        }
        assert_eq!(both(peer, &["for=6.6.6.6, for=_hidden, for=10.0.0.3"], &[], &proxies()), ip("10.0.0.3"));
    }

    #[test]
    fn forwarded_quoted_ipv6_with_port_and_other_parameters() {
        let peer = ip("10.0.0.1");
        let trusted = proxies();
        let cases = [
            ("for=\"[2001:db8:cafe::17]:4711\"", "2001:db8:cafe::17"),
            ("For=\"[2001:db8:cafe::17]\"", "2001:db8:cafe::17"),
            ("for=\"[2001:db8:cafe::17]:_port\";proto=https", "2001:db8:cafe::17"),
            ("for=\"192.0.2.43:47011\"", "192.0.2.43"),
            ("proto=https;for=192.0.2.43;by=203.0.113.43", "192.0.2.43"),
            ("for=192.0.2.43;host=\"a,b;c\", for=10.0.0.5", "192.0.2.43"),
            ("for=\"\\1\\9\\2.0.2.43\"", "192.0.2.43"),
            ("for=198.51.100.17, for=\"[2001:db8:ffff::9]:80\"", "198.51.100.17"),
        ];
        for (forwarded, expected) in cases {
            assert_eq!(both(peer, &[forwarded], &[], &trusted), ip(expected), "{forwarded}");
        }
        // Several header lines, in order.
        assert_eq!(
            both(peer, &["for=6.6.6.6", "for=198.51.100.1", "for=10.0.0.2"], &[], &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn only_the_configured_header_is_read() {
        let peer = ip("10.0.0.1");
        let forwarded = ["for=198.51.100.1"];
        assert_eq!(
            client_address(peer, ForwardedHeader::XForwardedFor, &forwarded, &proxies()),
            peer,
            "a Forwarded value is not an X-Forwarded-For one"
        );
        assert_eq!(
            client_address(peer, ForwardedHeader::Forwarded, &forwarded, &proxies()),
            ip("198.51.100.1")
        );
        // An unparseable value stops the walk at the proxy.
        assert_eq!(both(peer, &["for=unknown"], &[], &proxies()), peer);
    }

    #[test]
    fn work_is_bounded() {
        let peer = ip("10.0.0.1");
        // 40 trusted hops behind the client: only the last 32 are looked at, and the leftmost of those is returned.
        let mut chain = vec!["198.51.100.1".to_owned()];
        chain.extend((1..=40).map(|i| format!("10.0.1.{i}")));
        let xff = chain.join(", ");
        assert_eq!(both(peer, &[], &[&xff], &proxies()), ip("10.0.1.9"));
        // An over-long header value is unparseable as a whole.
        let long = format!("198.51.100.1, {}", "10.0.0.2, ".repeat(1000));
        assert!(long.len() > 8 * 1024);
        assert_eq!(both(peer, &[], &[&long, "10.0.0.3"], &proxies()), ip("10.0.0.3"));
        assert_eq!(both(peer, &[], &[&long], &proxies()), peer);
    }

    #[test]
    fn ipv4_mapped_addresses_are_ipv4() {
        let trusted = proxies();
        assert_eq!(both(ip("::ffff:10.0.0.1"), &[], &["198.51.100.7"], &trusted), ip("198.51.100.7"));
        assert_eq!(both(ip("::ffff:203.0.113.9"), &[], &["198.51.100.7"], &trusted), ip("203.0.113.9"));
        assert_eq!(
            both(ip("10.0.0.1"), &[], &["::ffff:198.51.100.7, ::ffff:10.0.0.2"], &trusted),
            ip("198.51.100.7")
        );
    }
}
