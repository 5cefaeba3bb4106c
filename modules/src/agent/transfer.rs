//! File transfers: put_file (data frames in, atomic write) and get_file (data out).

use crate::protocol::{
    read_frame, write_data_frame, write_json_frame, Frame, Response, DATA_CHUNK,
};
use crate::util::atomic::{temp_path_for, write_atomic, NewMode};
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Adapts the data frames of a transfer into a `Read`, stopping at the empty frame.
struct DataFrames<'a> {
    reader: &'a mut dyn Read,
    buf: Vec<u8>,
    pos: usize,
    done: bool,
}

impl Read for DataFrames<'_> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.buf.len() {
            if self.done {
                return Ok(0);
            }
            match read_frame(self.reader) {
                Ok(Frame::Data(d)) if d.is_empty() => self.done = true,
                Ok(Frame::Data(d)) => {
                    self.buf = d;
                    self.pos = 0;
                }
                Ok(Frame::Json(_)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        "JSON frame inside a file transfer",
                    ))
                }
                Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e.to_string())),
            }
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

impl DataFrames<'_> {
    /// Consume the rest of the transfer so the stream stays in sync after an error.
    fn drain(&mut self) -> io::Result<()> {
        let mut sink = [0u8; 8192];
        while self.read(&mut sink)? > 0 {}
        Ok(())
    }
}

/// Receive a put_file: write to a temp name in the destination directory, then rename.
/// Errors writing the file are answered; only a broken stream ends the agent.
pub fn receive_file(
    reader: &mut dyn Read,
    writer: &mut dyn Write,
    id: u64,
    path: &str,
    mode: Option<u32>,
) -> io::Result<()> {
    let mut frames = DataFrames {
        reader,
        buf: Vec::new(),
        pos: 0,
        done: false,
    };
    let dest = Path::new(path);
    let new_mode = match mode {
        Some(m) => NewMode::Exact(m & 0o7777),
        None => NewMode::KeepExisting,
    };
    let result = write_atomic(dest, &mut frames, new_mode);
    // A failed write may have stopped reading mid-transfer.
    let stream_ok = frames.drain();
    let resp = match (&result, &stream_ok) {
        (_, Err(e)) => {
            // Clean up whatever was written from a broken transfer.
            let _ = fs::remove_file(temp_path_for(dest));
            Response::Error {
                id: Some(id),
                msg: format!("transfer of {path} broke: {e}"),
            }
        }
        (Ok(size), Ok(())) => Response::Done { id, size: *size },
        (Err(e), Ok(())) => Response::Error {
            id: Some(id),
            msg: format!("cannot write {path}: {e}"),
        },
    };
    write_json_frame(writer, &resp.to_value())?;
    stream_ok
}

/// Send a get_file: a header, then the bytes in data frames, then an empty frame.
pub fn send_file(writer: &mut dyn Write, id: u64, path: &str) -> io::Result<()> {
    let opened = fs::File::open(path).and_then(|f| {
        let meta = f.metadata()?;
        if meta.is_dir() {
            return Err(io::Error::other("is a directory"));
        }
        Ok((f, meta))
    });
    let (mut file, meta) = match opened {
        Ok(v) => v,
        Err(e) => {
            let resp = Response::Error {
                id: Some(id),
                msg: format!("cannot read {path}: {e}"),
            };
            return write_json_frame(writer, &resp.to_value());
        }
    };
    let header = Response::FileFollows {
        id,
        size: meta.len(),
        mode: meta.mode() & 0o7777,
    };
    write_json_frame(writer, &header.to_value())?;
    let mut buf = vec![0u8; DATA_CHUNK];
    loop {
        // A read error mid-file cannot be reported in-band any more; end the transfer
        // short and let the controller's size check notice.
        let n = file.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        write_data_frame(writer, &buf[..n])?;
    }
    write_data_frame(writer, &[])
}
