//! The framing of OpenSSH's ControlMaster protocol (OpenSSH's PROTOCOL.mux):
//! every message is a big-endian `uint32` length, then the body, which starts
//! with a `uint32` message type. Strings are a `uint32` length and the bytes;
//! booleans travel as `uint32` 0/1, as the ssh client sends them.

use std::io::{self, Read, Write};

pub(crate) const MUX_MSG_HELLO: u32 = 0x0000_0001;
pub(crate) const MUX_C_NEW_SESSION: u32 = 0x1000_0002;
pub(crate) const MUX_C_ALIVE_CHECK: u32 = 0x1000_0004;
pub(crate) const MUX_S_PERMISSION_DENIED: u32 = 0x8000_0002;
pub(crate) const MUX_S_FAILURE: u32 = 0x8000_0003;
pub(crate) const MUX_S_EXIT_MESSAGE: u32 = 0x8000_0004;
pub(crate) const MUX_S_ALIVE: u32 = 0x8000_0005;
pub(crate) const MUX_S_SESSION_OPENED: u32 = 0x8000_0006;

/// The protocol version OpenSSH has spoken since 5.x and still speaks.
pub(crate) const PROTOCOL_VERSION: u32 = 4;

/// A master never sends big messages (an error text at most); anything larger is
/// not a master speaking this protocol.
const MAX_MESSAGE: usize = 256 * 1024;

/// A message body under construction.
#[derive(Default)]
pub(crate) struct Message(Vec<u8>);

impl Message {
    pub fn new(kind: u32) -> Message {
        let mut m = Message(Vec::with_capacity(256));
        m.u32(kind);
        m
    }

    pub fn u32(&mut self, v: u32) -> &mut Message {
        self.0.extend_from_slice(&v.to_be_bytes());
        self
    }

    pub fn flag(&mut self, v: bool) -> &mut Message {
        self.u32(u32::from(v))
    }

    pub fn string(&mut self, s: &[u8]) -> &mut Message {
        // Nothing we send comes near 4 GiB; saturate rather than wrap.
        self.u32(u32::try_from(s.len()).unwrap_or(u32::MAX));
        self.0.extend_from_slice(s);
        self
    }

    /// Length prefix and body in one write, so that the master never sees half a
    /// message followed by the file descriptors.
    pub fn send(&self, w: &mut impl Write) -> io::Result<()> {
        let mut framed = Vec::with_capacity(self.0.len() + 4);
        framed.extend_from_slice(&(self.0.len() as u32).to_be_bytes());
        framed.extend_from_slice(&self.0);
        w.write_all(&framed)
    }
}

/// Reads one message body; `Ok(None)` when the peer closed the socket at a
/// message boundary.
pub(crate) fn read_message(r: &mut impl Read) -> io::Result<Option<Vec<u8>>> {
    let mut len = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len[got..]) {
            Ok(0) if got == 0 => return Ok(None),
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > MAX_MESSAGE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a mux message of {len} bytes"),
        ));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body)?;
    Ok(Some(body))
}

/// Splits messages out of bytes read so far (the exit watcher reads without
/// blocking and may hold part of a message).
pub(crate) fn take_message(buf: &mut Vec<u8>) -> Result<Option<Vec<u8>>, String> {
    if buf.len() < 4 {
        return Ok(None);
    }
    let len = u32::from_be_bytes([buf[0], buf[1], buf[2], buf[3]]) as usize;
    if len > MAX_MESSAGE {
        return Err(format!("a mux message of {len} bytes"));
    }
    if buf.len() < 4 + len {
        return Ok(None);
    }
    let body = buf[4..4 + len].to_vec();
    buf.drain(..4 + len);
    Ok(Some(body))
}

/// Reading a message body field by field.
pub(crate) struct Fields<'a> {
    rest: &'a [u8],
}

impl<'a> Fields<'a> {
    pub fn new(body: &'a [u8]) -> Fields<'a> {
        Fields { rest: body }
    }

    pub fn u32(&mut self) -> Result<u32, String> {
        if self.rest.len() < 4 {
            return Err("a mux message ended early".into());
        }
        let (head, rest) = self.rest.split_at(4);
        self.rest = rest;
        Ok(u32::from_be_bytes([head[0], head[1], head[2], head[3]]))
    }

    pub fn string(&mut self) -> Result<String, String> {
        let len = self.u32()? as usize;
        if self.rest.len() < len {
            return Err("a mux message ended inside a string".into());
        }
        let (head, rest) = self.rest.split_at(len);
        self.rest = rest;
        Ok(String::from_utf8_lossy(head).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_is_length_prefixed_big_endian() {
        let mut m = Message::new(MUX_C_ALIVE_CHECK);
        m.u32(7).string(b"ab").flag(true);
        let mut out = Vec::new();
        m.send(&mut out).unwrap();
        assert_eq!(
            out,
            [0, 0, 0, 18, 0x10, 0, 0, 4, 0, 0, 0, 7, 0, 0, 0, 2, b'a', b'b', 0, 0, 0, 1]
        );
        let body = read_message(&mut &out[..]).unwrap().unwrap();
        let mut f = Fields::new(&body);
        assert_eq!(f.u32().unwrap(), MUX_C_ALIVE_CHECK);
        assert_eq!(f.u32().unwrap(), 7);
        assert_eq!(f.string().unwrap(), "ab");
        assert_eq!(f.u32().unwrap(), 1);
        assert!(f.u32().is_err(), "nothing left");
    }

    #[test]
    fn end_of_stream_between_messages_is_not_an_error_inside_one_is() {
        assert!(read_message(&mut &[][..]).unwrap().is_none());
        assert!(read_message(&mut &[0u8, 0][..]).is_err());
        assert!(read_message(&mut &[0u8, 0, 0, 9, 1][..]).is_err());
        assert!(
            read_message(&mut &[0xffu8, 0, 0, 0][..]).is_err(),
            "oversized"
        );
    }

    #[test]
    fn partial_messages_wait_for_the_rest() {
        let mut m = Message::new(MUX_S_EXIT_MESSAGE);
        m.u32(3).u32(42);
        let mut wire = Vec::new();
        m.send(&mut wire).unwrap();
        let mut buf = wire[..7].to_vec();
        assert_eq!(take_message(&mut buf), Ok(None));
        buf.extend_from_slice(&wire[7..]);
        buf.extend_from_slice(&wire[..2]);
        let body = take_message(&mut buf).unwrap().unwrap();
        assert_eq!(body.len(), 12);
        assert_eq!(buf, wire[..2], "the next message's start stays");
    }
}
