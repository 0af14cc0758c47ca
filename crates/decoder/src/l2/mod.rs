//! Layer 2 beyond Ethernet and VLAN tags: 802.2 LLC/SNAP, spanning tree,
//! LLDP, CDP, 802.1X (EAPOL/EAP), 802.11 with radiotap, MPLS and PPPoE;
//! and the capture link layers NFLOG, PKTAP and ARCNET.

pub mod arcnet;
pub mod cdp;
pub mod dot11;
pub mod eapol;
pub mod llc;
pub mod lldp;
pub mod mpls;
pub mod nflog;
pub mod pktap;
pub mod pppoe;

/// Reused layer-2 records.
#[derive(Default)]
pub(crate) struct Scratch {
    pub llc: netcap_records::Llc,
    pub snap: netcap_records::Snap,
    pub stp: netcap_records::Stp,
    pub lldp: netcap_records::Lldp,
    pub cdp: netcap_records::Cdp,
    pub eap: netcap_records::Eap,
    pub eapol: netcap_records::Eapol,
    pub dot11: netcap_records::Dot11,
    pub mpls: netcap_records::Mpls,
    pub pppoe: netcap_records::Pppoe,
}
