//! Network-layer protocols above IP that are not transports: IGMP, ICMPv6
//! neighbour discovery, echo and MLD, IPsec AH/ESP, OSPF, VRRP, BFD, SCTP,
//! and the IPv6 extension headers as records of their own.

pub mod bfd;
pub mod echo;
pub mod igmp;
pub mod ipsec;
pub mod ipv6ext;
pub mod ndp;
pub mod ospf;
pub mod sctp;
pub mod vrrp;

/// Reused records.
#[derive(Default)]
pub(crate) struct Scratch {
    pub igmp: netcap_records::Igmp,
    pub ndp: netcap_records::Icmpv6Ndp,
    pub mld: netcap_records::Mld,
    pub ah: netcap_records::IpSecAh,
    pub esp: netcap_records::IpSecEsp,
    pub ospf: netcap_records::Ospf,
    pub vrrp: netcap_records::Vrrp,
    pub bfd: netcap_records::Bfd,
    pub sctp: netcap_records::Sctp,
    pub hop_by_hop: netcap_records::IPv6HopByHop,
    pub destination: netcap_records::IPv6Destination,
    pub routing: netcap_records::IPv6Routing,
    pub fragment: netcap_records::IPv6Fragment,
    pub echo: netcap_records::IcmPv6Echo,
}

/// Reads `count` addresses of `size` bytes at `at` into `out`.
pub(crate) fn addresses(
    data: &[u8],
    at: usize,
    count: usize,
    size: usize,
    out: &mut Vec<Vec<u8>>,
) -> crate::wire::Result<()> {
    // The list's buffers are reused; a truncated list leaves it empty.
    let all = match crate::wire::bytes(data, at, count * size, "address list truncated") {
        Ok(all) => all,
        Err(e) => {
            out.clear();
            return Err(e);
        }
    };
    crate::wire::set_bytes_list(out, all.chunks_exact(size));
    Ok(())
}
