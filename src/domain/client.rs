//! Who is calling: the client's IP and user agent, captured for moderators and never logged
//! (read from the request by `http::client_ip`), and the network an IP is counted under.

use std::net::IpAddr;

use ipnet::IpNet;

#[derive(Clone, Default)]
pub struct ClientInfo {
    pub ip: Option<IpAddr>,
    pub user_agent: Option<String>,
}

// IPs and user agents are personal data: never print them.
impl std::fmt::Debug for ClientInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClientInfo(<redacted>)")
    }
}

/// The network a client address stands for when it is counted or limited: an IPv4 address as
/// itself (/32), an IPv6 address by its /64 (what one subscriber or host typically holds, so
/// stepping through its addresses dodges nothing), an IPv4-mapped IPv6 address as the IPv4 one.
/// Every per-IP limit keys on this; Postgres computes the same for stored addresses with
/// `colloquy_client_net(inet)` (migration 20261130040002), which an index covers.
pub fn client_net(ip: IpAddr) -> IpNet {
    match ip.to_canonical() {
        IpAddr::V4(v4) => IpNet::V4(ipnet::Ipv4Net::from(v4)),
        IpAddr::V6(v6) => IpNet::V6(
            ipnet::Ipv6Net::new(v6, 64)
                .map(|n| n.trunc())
                .unwrap_or_else(|_| v6.into()),
        ),
    }
}
