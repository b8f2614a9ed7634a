//! Who a request came from, as far as the service records it: with a session,
//! and with a refused attempt when `RECORD_CLIENT_DETAILS` is on.

/// Client details recorded with a session.
#[derive(Default, Clone)]
pub struct ClientInfo {
    pub ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
}
