//! The peer addresses a node is given, checked before it starts: a listen address must be one
//! the TCP transport listens on, on a port no other socket listens on; a bootstrap peer must be
//! one the transport dials.
//!
//! The node's transport (libp2p-tcp 0.45) takes `/ip4/ADDR/tcp/PORT` and `/ip6/ADDR/tcp/PORT`,
//! optionally followed by `/p2p/PEER_ID` (the swarm then checks that the peer dialled is that
//! one). It has no DNS resolver (libp2p's `dns` feature is off), so a `/dns…` address would
//! never be dialled.

use std::net::{IpAddr, SocketAddr};

use libp2p::multiaddr::Protocol;
use libp2p::Multiaddr;

use super::{listen_error, NetworkError, ADDRESSES_MAX};

/// The forms the transport takes, for messages.
pub const TCP_FORMS: &str =
    "/ip4/ADDR/tcp/PORT or /ip6/ADDR/tcp/PORT, optionally followed by /p2p/PEER_ID";

/// Checks the addresses a node is given: their forms and number ([`check_forms`]), and that no
/// other socket listens on a listen port ([`check_listen`]).
pub fn check(listen: &[Multiaddr], bootstrap: &[Multiaddr]) -> Result<(), NetworkError> {
    check_forms(listen, bootstrap)?;
    listen.iter().try_for_each(check_listen)
}

/// [`check`] without looking whether the listen ports are free: what can be checked before the
/// data directory is locked. Its lock comes first, so that a second start of a running node
/// is told the directory is in use, not that its own port is; the ports are probed after it
/// (`node::serve`), and again when the listeners are bound.
pub fn check_forms(listen: &[Multiaddr], bootstrap: &[Multiaddr]) -> Result<(), NetworkError> {
    if listen.len() > ADDRESSES_MAX || bootstrap.len() > ADDRESSES_MAX {
        return Err(NetworkError::TooManyAddresses);
    }
    for addr in bootstrap {
        check_bootstrap(addr).map_err(|detail| NetworkError::Bootstrap {
            addr: addr.clone(),
            detail,
        })?;
    }
    listen
        .iter()
        .try_for_each(|addr| listen_socket(addr).map(drop))
}

/// The socket address of a listen address, or why it is not one of [`TCP_FORMS`].
fn listen_socket(addr: &Multiaddr) -> Result<SocketAddr, NetworkError> {
    tcp_socket_addr(addr).map_err(|why| NetworkError::Listen {
        addr: addr.clone(),
        detail: format!("{why}; a listen address is {TCP_FORMS}"),
    })
}

/// The socket address of `addr` if it is one of [`TCP_FORMS`], or why it is not.
pub fn tcp_socket_addr(addr: &Multiaddr) -> Result<SocketAddr, String> {
    let mut parts = addr.iter();
    let ip: IpAddr = match parts.next() {
        Some(Protocol::Ip4(ip)) => ip.into(),
        Some(Protocol::Ip6(ip)) => ip.into(),
        Some(Protocol::Dns(_) | Protocol::Dns4(_) | Protocol::Dns6(_) | Protocol::Dnsaddr(_)) => {
            return Err(
                "it names a host by DNS, which the node does not resolve: give its /ip4 or /ip6 \
                 address"
                    .into(),
            )
        }
        Some(other) => return Err(format!("it starts with /{}, not /ip4 or /ip6", other.tag())),
        None => return Err("it is empty".into()),
    };
    let port = match parts.next() {
        Some(Protocol::Tcp(port)) => port,
        Some(other) => {
            return Err(format!(
                "it has no tcp port (/{} follows the address)",
                other.tag()
            ))
        }
        None => return Err("it has no tcp port".into()),
    };
    match (parts.next(), parts.next()) {
        (None, _) | (Some(Protocol::P2p(_)), None) => Ok(SocketAddr::new(ip, port)),
        (Some(Protocol::P2p(_)), Some(other)) => Err(format!(
            "/{} follows its /p2p peer id, which must come last",
            other.tag()
        )),
        (Some(other), _) => Err(format!("/{} follows its tcp port", other.tag())),
    }
}

/// Why `addr` cannot be a bootstrap peer (`--bootstrap`), if it cannot: it must be one of
/// [`TCP_FORMS`] with a port and an address to dial (libp2p-tcp refuses port 0 and an
/// unspecified address such as 0.0.0.0).
pub fn check_bootstrap(addr: &Multiaddr) -> Result<(), String> {
    let socket = tcp_socket_addr(addr)?;
    if socket.port() == 0 {
        return Err("its port is 0, which cannot be dialled".into());
    }
    if socket.ip().is_unspecified() {
        return Err(format!(
            "{} means every address of this machine, not one to dial",
            socket.ip()
        ));
    }
    Ok(())
}

/// Checks that the node can listen on `addr`: one of [`TCP_FORMS`], whose port (unless 0, any
/// free port) no other socket listens on.
///
/// libp2p-tcp sets `SO_REUSEPORT` on every listening socket (it may dial from the listening
/// port), and no setting of its `Config` turns that off. So a second node (or any program that
/// sets it, under the same user) listening on a port a first one holds is not refused: both
/// listen, and the kernel splits the incoming connections between them. The check binds a probe
/// socket as libp2p-tcp does (`SO_REUSEADDR`, `IPV6_V6ONLY` for IPv6) but without
/// `SO_REUSEPORT`: the kernel refuses it with `EADDRINUSE` while any other socket listens on the
/// port. The probe is closed at once; the check is made once the data directory is locked,
/// before any thread of the node starts (`node::serve`), and again just before its listeners
/// are bound, which leaves a window of microseconds to a node started at the same moment.
pub fn check_listen(addr: &Multiaddr) -> Result<(), NetworkError> {
    let socket = listen_socket(addr)?;
    if socket.port() == 0 {
        return Ok(());
    }
    probe(socket).map_err(|error| listen_error(addr.clone(), error.to_string()))
}

/// Binds and listens on `socket` without `SO_REUSEPORT`, then closes it.
fn probe(socket: SocketAddr) -> std::io::Result<()> {
    use socket2::{Domain, Socket, Type};
    let probe = Socket::new(
        Domain::for_address(socket),
        Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    if socket.is_ipv6() {
        probe.set_only_v6(true)?;
    }
    // As libp2p-tcp: a port left in TIME_WAIT by a node that stopped is free to listen on.
    probe.set_reuse_address(true)?;
    probe.bind(&socket.into())?;
    // Only a listening socket conflicts with another socket that set SO_REUSEADDR.
    probe.listen(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> Multiaddr {
        text.parse().expect("a multiaddr")
    }

    #[test]
    fn the_forms_the_transport_dials_are_bootstrap_peers() {
        let peer = libp2p::PeerId::random();
        for text in [
            "/ip4/10.0.0.2/tcp/4100".to_owned(),
            "/ip6/::1/tcp/4100".to_owned(),
            format!("/ip4/127.0.0.1/tcp/4100/p2p/{peer}"),
            format!("/ip6/fe80::1/tcp/1/p2p/{peer}"),
        ] {
            assert_eq!(check_bootstrap(&addr(&text)), Ok(()), "{text}");
        }
    }

    #[test]
    fn a_bootstrap_peer_without_an_address_or_port_is_refused_with_the_reason() {
        let peer = libp2p::PeerId::random();
        let cases = [
            ("/ip4/1.2.3.4".to_owned(), "it has no tcp port"),
            (
                "/ip4/1.2.3.4/udp/4100".to_owned(),
                "it has no tcp port (/udp",
            ),
            (
                format!("/ip4/1.2.3.4/p2p/{peer}"),
                "it has no tcp port (/p2p",
            ),
            (
                "/tcp/4100".to_owned(),
                "it starts with /tcp, not /ip4 or /ip6",
            ),
            (format!("/p2p/{peer}"), "it starts with /p2p"),
            ("/dns4/node.example.org/tcp/4100".to_owned(), "DNS"),
            ("/dns/node.example.org/tcp/4100".to_owned(), "DNS"),
            (
                "/ip4/1.2.3.4/tcp/4100/ws".to_owned(),
                "/ws follows its tcp port",
            ),
            (
                format!("/ip4/1.2.3.4/tcp/4100/p2p/{peer}/p2p/{peer}"),
                "/p2p follows its /p2p peer id",
            ),
            ("/ip4/1.2.3.4/tcp/0".to_owned(), "its port is 0"),
            ("/ip4/0.0.0.0/tcp/4100".to_owned(), "0.0.0.0 means every"),
            ("/ip6/::/tcp/4100".to_owned(), ":: means every"),
            (String::new(), "it is empty"),
        ];
        for (text, reason) in cases {
            let refused = check_bootstrap(&addr(&text)).expect_err(&text);
            assert!(refused.contains(reason), "{text}: {refused}");
        }
    }

    #[test]
    fn a_listen_address_must_be_tcp_and_port_0_is_always_free() {
        check_listen(&addr("/ip4/127.0.0.1/tcp/0")).expect("any free port");
        let refused = check_listen(&addr("/ip4/127.0.0.1")).expect_err("no port");
        assert!(
            refused
                .to_string()
                .contains("it has no tcp port; a listen address is /ip4/"),
            "{refused}"
        );
    }

    #[tokio::test]
    async fn a_port_another_socket_listens_on_is_refused_even_with_so_reuseport() {
        // A listener as libp2p-tcp makes it: SO_REUSEADDR and SO_REUSEPORT.
        let holder = tokio::net::TcpSocket::new_v4().expect("a socket");
        holder.set_reuseaddr(true).expect("SO_REUSEADDR");
        holder.set_reuseport(true).expect("SO_REUSEPORT");
        holder
            .bind(SocketAddr::from(([127, 0, 0, 1], 0)))
            .expect("bind");
        let holder = holder.listen(16).expect("listen");
        let port = holder.local_addr().expect("its address").port();
        let held = addr(&format!("/ip4/127.0.0.1/tcp/{port}"));
        let refused = check_listen(&held).expect_err("in use");
        assert!(
            refused.to_string().contains(&format!(
                "cannot listen on /ip4/127.0.0.1/tcp/{port}: the address is already in use"
            )),
            "{refused}"
        );
        drop(holder);
        check_listen(&held).expect("free again");
    }
}
