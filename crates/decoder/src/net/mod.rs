//! Network-layer protocols above IP that are not transports: IGMP, ICMPv6
//! neighbour discovery and MLD, IPsec AH/ESP, OSPF, VRRP, BFD, and SCTP.

pub mod bfd;
pub mod igmp;
pub mod ipsec;
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
}

/// Reads `count` addresses of `size` bytes at `at` into `out`.
pub(crate) fn addresses(
    data: &[u8],
    at: usize,
    count: usize,
    size: usize,
    out: &mut Vec<Vec<u8>>,
) -> crate::wire::Result<()> {
    out.clear();
    let all = crate::wire::bytes(data, at, count * size, "address list truncated")?;
    crate::wire::set_bytes_list(out, all.chunks_exact(size));
    Ok(())
}
