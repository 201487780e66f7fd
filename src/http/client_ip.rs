//! Who is calling, read from the request: the client's IP (honouring X-Forwarded-For only from
//! trusted proxies) and user agent.

use std::net::IpAddr;

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use ipnet::IpNet;

pub use crate::domain::client::{ClientInfo, client_net};
use crate::error::ApiError;
use crate::state::AppState;

impl ClientInfo {
    pub fn of(req: &HttpRequest, trusted: &[IpNet]) -> Self {
        let peer = req.peer_addr().map(|a| a.ip());
        // An IPv4 client on an IPv6 listener arrives as ::ffff:a.b.c.d; bans and rules are
        // written for a.b.c.d.
        let ip =
            peer.map(|p| resolve(p.to_canonical(), forwarded_for(req), trusted).to_canonical());
        let user_agent = req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.chars().take(512).collect());
        Self { ip, user_agent }
    }
}

/// As an extractor: the caller, behind the trusted proxies of the server's settings.
impl FromRequest for ClientInfo {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            req.app_data::<web::Data<AppState>>()
                .map(|state| Self::of(req, &state.settings.server.trusted_proxies))
                .ok_or_else(|| ApiError::internal(anyhow::anyhow!("AppState missing"))),
        )
    }
}

fn forwarded_for(req: &HttpRequest) -> Vec<Option<IpAddr>> {
    // Split the raw bytes: a header line the client started may hold bytes that aren't text,
    // and dropping the whole line would drop the entry our proxy appended to it.
    req.headers()
        .get_all("x-forwarded-for")
        .flat_map(|v| v.as_bytes().split(|b| *b == b','))
        .map(|e| std::str::from_utf8(e).ok().and_then(hop))
        .collect()
}

/// One X-Forwarded-For entry: an address, with or without a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`) or brackets. None for anything else (`unknown`, an obfuscated id).
fn hop(entry: &str) -> Option<IpAddr> {
    let e = entry.trim();
    e.parse::<IpAddr>()
        .ok()
        .or_else(|| e.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            e.strip_prefix('[')
                .and_then(|x| x.strip_suffix(']'))
                .and_then(|x| x.parse().ok())
        })
        // ::ffff:10.0.0.1 is 10.0.0.1, for the trusted-proxy check as for everything else.
        .map(|ip: IpAddr| ip.to_canonical())
}

/// Walks X-Forwarded-For from the right, skipping trusted proxies: the first untrusted hop is
/// the client. Anything a client wrote further left is ignored, so it can't spoof its IP. An
/// entry that isn't an address ends the walk at the last trusted hop: skipping it would hand
/// the decision to whatever the client wrote to its left.
fn resolve(peer: IpAddr, chain: Vec<Option<IpAddr>>, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(&peer) {
        return peer;
    }
    let mut client = peer;
    for hop in chain.into_iter().rev() {
        let Some(hop) = hop else { break };
        client = hop;
        if !is_trusted(&hop) {
            break;
        }
    }
    client
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_counts_by_its_64_and_mapped_ipv4_as_ipv4() {
        let a = client_net(ip("2001:db8:1:2::1"));
        assert_eq!(a.to_string(), "2001:db8:1:2::/64");
        assert_eq!(a, client_net(ip("2001:db8:1:2:ffff:ffff:ffff:ffff")));
        assert_ne!(a, client_net(ip("2001:db8:1:3::1")));
        assert_eq!(client_net(ip("203.0.113.9")).to_string(), "203.0.113.9/32");
        assert_eq!(
            client_net(ip("::ffff:203.0.113.9")),
            client_net(ip("203.0.113.9"))
        );
        assert_ne!(
            client_net(ip("203.0.113.9")),
            client_net(ip("203.0.113.10"))
        );
    }

    #[test]
    fn untrusted_peer_is_the_client_whatever_it_claims() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            resolve(ip("203.0.113.9"), vec![Some(ip("1.2.3.4"))], &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn trusted_proxy_chain_yields_first_untrusted_hop() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let chain = vec![ip("6.6.6.6"), ip("198.51.100.7"), ip("10.1.1.1")];
        let chain = chain.into_iter().map(Some).collect();
        assert_eq!(resolve(ip("10.0.0.2"), chain, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn entries_with_ports_are_addresses_and_garbage_ends_the_walk() {
        assert_eq!(hop(" 198.51.100.7:5678"), Some(ip("198.51.100.7")));
        assert_eq!(hop("[2001:db8::1]:443"), Some(ip("2001:db8::1")));
        assert_eq!(hop("[2001:db8::1]"), Some(ip("2001:db8::1")));
        assert_eq!(hop("unknown"), None);
        assert_eq!(hop("::ffff:10.1.2.3"), Some(ip("10.1.2.3")));
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The proxy wrote something that isn't an address: the client's own claim to its
        // left must not become the client.
        let chain = vec![Some(ip("6.6.6.6")), None];
        assert_eq!(resolve(ip("10.0.0.2"), chain, &trusted), ip("10.0.0.2"));
        let chain = vec![Some(ip("6.6.6.6")), hop("198.51.100.7:1234")];
        assert_eq!(resolve(ip("10.0.0.2"), chain, &trusted), ip("198.51.100.7"));
    }
}
