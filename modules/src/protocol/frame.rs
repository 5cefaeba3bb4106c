//! Frame encoding: `u32` big-endian length, then one kind byte, then the payload.
//!
//! The length counts the kind byte plus the payload. Frames above [`MAX_FRAME`] are
//! rejected before anything is allocated, so hostile input cannot make the reader
//! allocate unbounded memory, and no input makes the decoder panic.

use std::fmt;
use std::io::{self, Read, Write};

/// Largest accepted frame (kind byte + payload).
pub const MAX_FRAME: usize = 16 * 1024 * 1024;
/// Size of the data chunks file transfers are split into.
pub const DATA_CHUNK: usize = 256 * 1024;

const KIND_JSON: u8 = b'J';
const KIND_DATA: u8 = b'D';

/// One decoded frame.
#[derive(Debug, Clone, PartialEq)]
pub enum Frame {
    /// A JSON message (request, response or hello).
    Json(serde_json::Value),
    /// A chunk of raw file bytes; an empty chunk ends a transfer.
    Data(Vec<u8>),
}

/// Why a frame could not be read.
#[derive(Debug)]
pub enum FrameError {
    /// Clean end of stream before the first byte of a frame.
    Eof,
    /// The stream ended or failed in the middle of a frame.
    Io(io::Error),
    /// The length prefix is zero or above [`MAX_FRAME`].
    BadLength(u64),
    /// Unknown kind byte.
    BadKind(u8),
    /// A JSON frame whose body is not valid JSON.
    BadJson(String),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Eof => write!(f, "end of stream"),
            FrameError::Io(e) => write!(f, "i/o error: {e}"),
            FrameError::BadLength(n) => {
                write!(f, "bad frame length {n} (must be 1..={MAX_FRAME})")
            }
            FrameError::BadKind(k) => write!(f, "unknown frame kind 0x{k:02x}"),
            FrameError::BadJson(e) => write!(f, "bad JSON in frame: {e}"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Read one frame. `Err(FrameError::Eof)` means the peer closed cleanly between frames.
pub fn read_frame(r: &mut dyn Read) -> Result<Frame, FrameError> {
    let mut len_buf = [0u8; 4];
    let mut got = 0;
    while got < 4 {
        match r.read(&mut len_buf[got..]) {
            Ok(0) if got == 0 => return Err(FrameError::Eof),
            Ok(0) => {
                return Err(FrameError::Io(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "stream ended inside a frame header",
                )))
            }
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(FrameError::Io(e)),
        }
    }
    let len = u32::from_be_bytes(len_buf) as usize;
    if len == 0 || len > MAX_FRAME {
        return Err(FrameError::BadLength(len as u64));
    }
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).map_err(FrameError::Io)?;
    decode_body(body)
}

/// Decode a frame body (kind byte + payload); split out so the fuzzer can reach it.
pub fn decode_body(mut body: Vec<u8>) -> Result<Frame, FrameError> {
    let Some(&kind) = body.first() else {
        return Err(FrameError::BadLength(0));
    };
    match kind {
        KIND_JSON => serde_json::from_slice(&body[1..])
            .map(Frame::Json)
            .map_err(|e| FrameError::BadJson(e.to_string())),
        KIND_DATA => {
            body.remove(0);
            Ok(Frame::Data(body))
        }
        other => Err(FrameError::BadKind(other)),
    }
}

fn write_frame(w: &mut dyn Write, kind: u8, payload: &[u8]) -> io::Result<()> {
    let len = payload.len() + 1;
    if len > MAX_FRAME {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("frame of {len} bytes exceeds the {MAX_FRAME} byte limit"),
        ));
    }
    let mut buf = Vec::with_capacity(len + 4);
    buf.extend_from_slice(&(len as u32).to_be_bytes());
    buf.push(kind);
    buf.extend_from_slice(payload);
    w.write_all(&buf)?;
    w.flush()
}

/// Write a JSON message frame and flush.
pub fn write_json_frame(w: &mut dyn Write, value: &serde_json::Value) -> io::Result<()> {
    let body = serde_json::to_vec(value).map_err(io::Error::other)?;
    write_frame(w, KIND_JSON, &body)
}

/// Write a data frame (at most [`MAX_FRAME`]-1 bytes) and flush.
pub fn write_data_frame(w: &mut dyn Write, data: &[u8]) -> io::Result<()> {
    write_frame(w, KIND_DATA, data)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_and_data_frames_round_trip() {
        let mut buf = Vec::new();
        write_json_frame(&mut buf, &json!({"op": "ping", "id": 7})).unwrap();
        write_data_frame(&mut buf, b"\x00\x01binary").unwrap();
        write_data_frame(&mut buf, b"").unwrap();
        let mut r = &buf[..];
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Frame::Json(json!({"op": "ping", "id": 7}))
        );
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Frame::Data(b"\x00\x01binary".to_vec())
        );
        assert_eq!(read_frame(&mut r).unwrap(), Frame::Data(vec![]));
        assert!(matches!(read_frame(&mut r), Err(FrameError::Eof)));
    }

    #[test]
    fn oversized_length_is_rejected_without_allocating() {
        let mut r: &[u8] = &[0xff, 0xff, 0xff, 0xff, b'J'];
        assert!(matches!(
            read_frame(&mut r),
            Err(FrameError::BadLength(0xffff_ffff))
        ));
        let mut zero: &[u8] = &[0, 0, 0, 0];
        assert!(matches!(
            read_frame(&mut zero),
            Err(FrameError::BadLength(0))
        ));
    }

    #[test]
    fn truncated_and_garbage_frames_are_errors() {
        let mut short: &[u8] = &[0, 0];
        assert!(matches!(read_frame(&mut short), Err(FrameError::Io(_))));
        let mut cut: &[u8] = &[0, 0, 0, 5, b'J', b'{'];
        assert!(matches!(read_frame(&mut cut), Err(FrameError::Io(_))));
        let mut kind: &[u8] = &[0, 0, 0, 1, b'Z'];
        assert!(matches!(
            read_frame(&mut kind),
            Err(FrameError::BadKind(b'Z'))
        ));
        let mut json: &[u8] = &[0, 0, 0, 2, b'J', b'{'];
        assert!(matches!(read_frame(&mut json), Err(FrameError::BadJson(_))));
    }
}
