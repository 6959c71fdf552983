//! A generic netlink message with its attributes as bytes: enough for a small family (such
//! as `fou`) that has no typed codec of its own.

use netlink_packet_core::{
    DecodeError, NetlinkDeserializable, NetlinkHeader, NetlinkSerializable, NlaBuffer, NlasIterator,
};

use crate::error::ErrorKind;

/// The generic netlink header: command, version, two reserved bytes.
const GENL_HDRLEN: usize = 4;
/// An attribute's header: length and type.
const NLA_HDRLEN: usize = 4;

fn align4(n: usize) -> usize {
    (n + 3) & !3
}

/// One generic netlink message: family id, command, version and attributes (type, value).
///
/// ```
/// use ipvs::netlink::GenericMessage;
/// let msg = GenericMessage::new(0x20, 1, 1).with_attr(1, &[0x17, 0x70])?;
/// assert_eq!(msg.attr(1), Some(&[0x17, 0x70][..]));
/// # Ok::<(), ipvs::ErrorKind>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GenericMessage {
    family: u16,
    cmd: u8,
    version: u8,
    attrs: Vec<(u16, Vec<u8>)>,
}

impl GenericMessage {
    /// A message of command `cmd` (at `version`) to family `family`, with no attributes.
    pub fn new(family: u16, cmd: u8, version: u8) -> Self {
        GenericMessage { family, cmd, version, attrs: Vec::new() }
    }

    /// The same message with one more attribute; a value netlink cannot describe (over
    /// 65,531 bytes) is refused.
    pub fn with_attr(mut self, kind: u16, value: &[u8]) -> Result<Self, ErrorKind> {
        if NLA_HDRLEN + value.len() > usize::from(u16::MAX) {
            return Err(ErrorKind::Encode(format!("attribute {kind} of {} bytes", value.len())));
        }
        self.attrs.push((kind, value.to_vec()));
        Ok(self)
    }

    /// The family id (the netlink message type).
    pub fn family(&self) -> u16 {
        self.family
    }

    /// The command.
    pub fn cmd(&self) -> u8 {
        self.cmd
    }

    /// Every attribute, in order: type (without the nested and byte-order flags), value.
    pub fn attrs(&self) -> &[(u16, Vec<u8>)] {
        &self.attrs
    }

    /// The value of the first attribute of type `kind`.
    pub fn attr(&self, kind: u16) -> Option<&[u8]> {
        self.attrs.iter().find(|(k, _)| *k == kind).map(|(_, v)| v.as_slice())
    }
}

impl NetlinkSerializable for GenericMessage {
    fn message_type(&self) -> u16 {
        self.family
    }

    fn buffer_len(&self) -> usize {
        GENL_HDRLEN + self.attrs.iter().map(|(_, v)| align4(NLA_HDRLEN + v.len())).sum::<usize>()
    }

    fn serialize(&self, buf: &mut [u8]) {
        buf[0] = self.cmd;
        buf[1] = self.version;
        buf[2..GENL_HDRLEN].fill(0);
        let mut at = GENL_HDRLEN;
        for (kind, value) in &self.attrs {
            let len = NLA_HDRLEN + value.len();
            // `with_attr` keeps every length within 16 bits.
            buf[at..at + 2].copy_from_slice(&(len as u16).to_ne_bytes());
            buf[at + 2..at + 4].copy_from_slice(&kind.to_ne_bytes());
            buf[at + NLA_HDRLEN..at + len].copy_from_slice(value);
            buf[at + len..at + align4(len)].fill(0);
            at += align4(len);
        }
    }
}

impl NetlinkDeserializable for GenericMessage {
    type Error = DecodeError;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, DecodeError> {
        let [cmd, version, _, _, attrs @ ..] = payload else {
            return Err(DecodeError::from(format!("generic netlink header of {} bytes", payload.len())));
        };
        let mut msg = GenericMessage::new(header.message_type, *cmd, *version);
        for nla in NlasIterator::new(attrs) {
            let nla: NlaBuffer<&[u8]> = nla?;
            msg.attrs.push((nla.kind(), nla.value().to_vec()));
        }
        Ok(msg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use netlink_packet_core::NetlinkMessage;

    fn bytes(msg: &GenericMessage) -> Vec<u8> {
        let mut buf = vec![0xff; msg.buffer_len()];
        msg.serialize(&mut buf);
        buf
    }

    #[test]
    fn attributes_are_padded() {
        let m = GenericMessage::new(0x10, 3, 1).with_attr(2, b"fou\0").unwrap();
        assert_eq!(bytes(&m), vec![3, 1, 0, 0, 8, 0, 2, 0, b'f', b'o', b'u', 0]);
        let m = GenericMessage::new(0x20, 1, 1).with_attr(1, &[0x17, 0x70]).unwrap();
        assert_eq!(bytes(&m), vec![1, 1, 0, 0, 6, 0, 1, 0, 0x17, 0x70, 0, 0]);
        assert!(GenericMessage::new(0x20, 1, 1).with_attr(1, &[0; 65532]).is_err());
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(NetlinkMessage::<GenericMessage>::deserialize(&[255; 40]).is_err());
        let mut msg = vec![24, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 1, 0, 0, 9, 0, 1, 0];
        assert!(NetlinkMessage::<GenericMessage>::deserialize(&msg).is_err(), "attribute longer than the message");
        msg[20] = 4;
        let r = NetlinkMessage::<GenericMessage>::deserialize(&msg).unwrap();
        assert_eq!(r.header.sequence_number, 1);
        let netlink_packet_core::NetlinkPayload::InnerMessage(m) = r.payload else { panic!("{r:?}") };
        assert_eq!((m.family(), m.cmd(), m.attrs()), (20, 3, &[(1, Vec::new())][..]));
        // A short generic header is an error too.
        let short = [18, 0, 0, 0, 20, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 3, 1];
        assert!(NetlinkMessage::<GenericMessage>::deserialize(&short).is_err());
    }

    #[test]
    fn messages_round_trip() {
        let m = GenericMessage::new(0x21, 1, 1).with_attr(1, &[0x17, 0x70]).unwrap().with_attr(2, &[10]).unwrap();
        let mut header = NetlinkHeader::default();
        header.message_type = 0x21;
        assert_eq!(GenericMessage::deserialize(&header, &bytes(&m)).unwrap(), m);
    }
}
