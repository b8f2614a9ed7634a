//! Connections per client address: past its share, an address's new
//! connections are answered `429` and closed at once instead of taking one of
//! the server's slots, so a crowd from one address cannot starve the others
//! (a load balancer's `/healthz` probe). An IPv6 client counts by its /64,
//! which one host usually has whole; trusted proxies are not counted.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use ipnet::IpNet;

/// What a refused connection reads before it is closed.
pub const REFUSAL: &[u8] = b"HTTP/1.1 429 Too Many Requests\r\n\
content-type: application/json\r\nconnection: close\r\nretry-after: 1\r\ncontent-length: 101\r\n\r\n\
{\"code\":\"TOO_MANY_CONNECTIONS\",\"message\":\"Too many connections from this address; retry in a moment\"}";

pub struct PerAddress {
    max: usize,
    trusted_proxies: Vec<IpNet>,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One connection counted against its address, until dropped.
pub struct Counted {
    owner: Arc<PerAddress>,
    address: Option<IpAddr>,
}

impl PerAddress {
    pub fn new(max: usize, trusted_proxies: Vec<IpNet>) -> Arc<Self> {
        Arc::new(PerAddress {
            max,
            trusted_proxies,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// Counts a connection from `peer`, or `None` when its address has its share.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Option<Counted> {
        let peer = peer.to_canonical();
        if self
            .trusted_proxies
            .iter()
            .any(|proxy| proxy.contains(&peer))
        {
            return Some(Counted {
                owner: self.clone(),
                address: None,
            });
        }
        let address = client_of(peer);
        let mut open = self.open.lock().expect("not poisoned");
        let count = open.entry(address).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(Counted {
            owner: self.clone(),
            address: Some(address),
        })
    }
}

impl Drop for Counted {
    fn drop(&mut self) {
        let Some(address) = self.address else {
            return;
        };
        let mut open = self.owner.open.lock().expect("not poisoned");
        if let Some(count) = open.get_mut(&address) {
            *count -= 1;
            if *count == 0 {
                open.remove(&address);
            }
        }
    }
}

/// The address a client is counted by: an IPv4 address, or an IPv6 /64.
fn client_of(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(_) => peer,
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(prefix.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_refusal_says_its_length() {
        let text = std::str::from_utf8(REFUSAL).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("content-length: {}", body.len())));
    }

    #[test]
    fn an_address_gets_its_share_and_gets_it_back() {
        let limit = PerAddress::new(2, vec!["10.0.0.1/32".parse().unwrap()]);
        let one: IpAddr = "192.0.2.1".parse().unwrap();
        let (a, _b) = (limit.admit(one).unwrap(), limit.admit(one).unwrap());
        assert!(limit.admit(one).is_none());
        assert!(limit.admit("192.0.2.2".parse().unwrap()).is_some());
        drop(a);
        assert!(limit.admit(one).is_some());
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let proxied: Vec<_> = (0..5).map(|_| limit.admit(proxy)).collect();
        assert!(proxied.iter().all(Option::is_some));
        let v6 = |s: &str| s.parse::<IpAddr>().unwrap();
        let _c = limit.admit(v6("2001:db8::1")).unwrap();
        let _d = limit.admit(v6("2001:db8::2")).unwrap();
        assert!(limit.admit(v6("2001:db8::3")).is_none(), "one /64");
    }
}
