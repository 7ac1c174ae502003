//! Per-client-IP rate limits: how an address becomes a counter key, and the one counting
//! helper every per-IP limiter uses (password attempts, the identifier step, device
//! user-code entries, `/authorize`, login transactions, refused admin authentication).

use std::net::{IpAddr, Ipv6Addr};
use std::time::Duration;

use super::Broker;
use crate::store::StoreError;

/// The rate-limit key of a client address.
///
/// An IPv4 address is its own key. An IPv6 address is keyed by its /64: one subscriber
/// usually gets a whole /64 (RFC 6177, RFC 7934 §6), and its interface identifier is
/// chosen freely (RFC 8981 temporary addresses), so keying the full address would give one
/// client 2^64 allowances. An IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, what a dual-stack
/// socket reports) is keyed as the IPv4 address it carries. Text that is not an address
/// (never produced by the extractors) is its own key.
pub fn rate_key(ip: &str) -> String {
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Ok(IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", Ipv6Addr::from(prefix))
            }
        },
        Err(_) => ip.to_owned(),
    }
}

/// The counter of `ip` in the bucket family `family`.
fn ip_bucket(family: &str, ip: &str) -> String {
    format!("{family}/{}", rate_key(ip))
}

impl Broker {
    /// Counts one hit of `ip` in the per-IP bucket family `family` (fixed window of
    /// `window`): `true` when this hit is over `limit`. A request without a known address
    /// is not counted.
    pub(super) async fn ip_hit_over(
        &self,
        family: &str,
        ip: Option<&str>,
        limit: u32,
        window: Duration,
    ) -> Result<bool, StoreError> {
        Ok(self.ip_hits(family, ip, window).await? > u64::from(limit))
    }

    /// Counts one hit of `ip` in `family` and returns the window's count so far (0 for a
    /// request without a known address, which is not counted).
    pub(super) async fn ip_hits(
        &self,
        family: &str,
        ip: Option<&str>,
        window: Duration,
    ) -> Result<u64, StoreError> {
        let Some(ip) = ip else { return Ok(0) };
        let crate::store::RateCount(n) =
            self.store.rate_hit(&ip_bucket(family, ip), window).await?;
        Ok(n)
    }

    /// Takes back one hit of `ip` in `family` (an attempt that turned out not to count).
    pub(super) async fn ip_unhit(&self, family: &str, ip: Option<&str>) -> Result<(), StoreError> {
        if let Some(ip) = ip {
            self.store.rate_unhit(&ip_bucket(family, ip)).await?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::rate_key;

    #[test]
    fn ipv6_addresses_of_one_64_share_a_key() {
        assert_eq!(rate_key("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            rate_key("2001:db8:1:2:ffff:ffff:ffff:ffff"),
            "2001:db8:1:2::/64"
        );
        assert_ne!(rate_key("2001:db8:1:3::1"), rate_key("2001:db8:1:2::1"));
        assert_eq!(rate_key("::1"), "::/64");
    }

    #[test]
    fn ipv4_and_mapped_ipv4_are_the_address_itself() {
        assert_eq!(rate_key("192.0.2.7"), "192.0.2.7");
        assert_eq!(rate_key("::ffff:192.0.2.7"), "192.0.2.7");
        assert_ne!(rate_key("192.0.2.7"), rate_key("192.0.2.8"));
    }

    #[test]
    fn text_that_is_not_an_address_is_its_own_key() {
        assert_eq!(rate_key("unknown"), "unknown");
    }
}
