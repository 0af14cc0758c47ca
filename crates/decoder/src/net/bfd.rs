//! Bidirectional Forwarding Detection control packets (RFC 5880, 5883).

use crate::wire::{Malformed, Result, be32, u8_at};
use crate::{Layer, PacketContext, emit};
use netcap_records::RecordType;

pub const PORT_CONTROL: u16 = 3784;
pub const PORT_MULTIHOP: u16 = 4784;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BfdControl {
    pub version: u8,
    pub diagnostic: u8,
    pub state: u8,
    pub flags: u8,
    pub detect_multiplier: u8,
    pub length: u8,
    pub my_discriminator: u32,
    pub your_discriminator: u32,
    pub desired_min_tx: u32,
    pub required_min_rx: u32,
    pub required_min_echo_rx: u32,
}

pub fn parse(data: &[u8]) -> Result<BfdControl> {
    const SHORT: &str = "BFD control packet truncated";
    let b0 = u8_at(data, 0, SHORT)?;
    let b1 = u8_at(data, 1, SHORT)?;
    if b0 >> 5 != 1 {
        return Err(Malformed("BFD version other than 1"));
    }
    Ok(BfdControl {
        version: b0 >> 5,
        diagnostic: b0 & 0x1f,
        state: b1 >> 6,
        flags: b1 & 0x3f,
        detect_multiplier: u8_at(data, 2, SHORT)?,
        length: u8_at(data, 3, SHORT)?,
        my_discriminator: be32(data, 4, SHORT)?,
        your_discriminator: be32(data, 8, SHORT)?,
        desired_min_tx: be32(data, 12, SHORT)?,
        required_min_rx: be32(data, 16, SHORT)?,
        required_min_echo_rx: be32(data, 20, SHORT)?,
    })
}

pub(crate) fn decode(cx: &mut PacketContext<'_>, data: &[u8], offset: usize) {
    let h = match parse(data) {
        Ok(h) => h,
        Err(e) => return cx.error(Layer::Bfd, offset, e),
    };
    emit!(cx, RecordType::Bfd, net.bfd, addressed, |r| {
        r.version = u32::from(h.version);
        r.diagnostic = u32::from(h.diagnostic);
        r.state = u32::from(h.state);
        r.flags = u32::from(h.flags);
        r.detect_multiplier = u32::from(h.detect_multiplier);
        r.length = u32::from(h.length);
        r.my_discriminator = h.my_discriminator;
        r.your_discriminator = h.your_discriminator;
        r.desired_min_tx_interval = h.desired_min_tx;
        r.required_min_rx_interval = h.required_min_rx;
        r.required_min_echo_interval = h.required_min_echo_rx;
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn control_packet() {
        let data = [0x20, 0xc0, 3, 24, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0x0f, 0x42, 0x40, 0, 0x0f, 0x42, 0x40, 0, 0, 0, 0];
        let h = super::parse(&data).unwrap();
        assert_eq!((h.state, h.detect_multiplier, h.my_discriminator, h.desired_min_tx), (3, 3, 1, 1_000_000));
        assert!(super::parse(&data[..20]).is_err());
    }
}
