//! Reading a password without echo, as Python's `getpass` does: from the
//! controlling terminal when there is one, else from stdin (prompt on stderr).

use std::fs::OpenOptions;
use std::io::{self, BufRead, Read, Write};
use std::os::fd::AsRawFd;

/// Shows `prompt` and reads one line with echo off. `Ok(None)` at end of input.
pub fn prompt_hidden(prompt: &str) -> io::Result<Option<String>> {
    match OpenOptions::new().read(true).write(true).open("/dev/tty") {
        Ok(mut tty) => {
            tty.write_all(prompt.as_bytes())?;
            tty.flush()?;
            let echo = EchoOff::new(tty.as_raw_fd());
            let line = read_line(&mut tty);
            drop(echo);
            tty.write_all(b"\n")?;
            line
        }
        Err(_) => {
            let mut err = io::stderr();
            err.write_all(prompt.as_bytes())?;
            err.flush()?;
            let stdin = io::stdin();
            let mut lock = stdin.lock();
            let mut buf = Vec::new();
            if lock.read_until(b'\n', &mut buf)? == 0 {
                return Ok(None);
            }
            Ok(Some(chomp(buf)))
        }
    }
}

fn read_line(r: &mut impl Read) -> io::Result<Option<String>> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    loop {
        match r.read(&mut byte)? {
            0 if buf.is_empty() => return Ok(None),
            0 => break,
            _ if byte[0] == b'\n' => break,
            _ => buf.push(byte[0]),
        }
    }
    Ok(Some(chomp(buf)))
}

fn chomp(mut buf: Vec<u8>) -> String {
    while matches!(buf.last(), Some(b'\n' | b'\r')) {
        buf.pop();
    }
    String::from_utf8_lossy(&buf).into_owned()
}

/// Turns terminal echo off for its lifetime.
struct EchoOff {
    fd: i32,
    saved: Option<libc::termios>,
}

impl EchoOff {
    fn new(fd: i32) -> EchoOff {
        // SAFETY: tcgetattr/tcsetattr only read and write the termios struct
        // we own; a failure leaves echo as it was.
        let saved = unsafe {
            let mut t: libc::termios = std::mem::zeroed();
            if libc::tcgetattr(fd, &mut t) != 0 {
                None
            } else {
                let mut quiet = t;
                quiet.c_lflag &= !libc::ECHO;
                libc::tcsetattr(fd, libc::TCSAFLUSH, &quiet);
                Some(t)
            }
        };
        EchoOff { fd, saved }
    }
}

impl Drop for EchoOff {
    fn drop(&mut self) {
        if let Some(t) = self.saved {
            // SAFETY: restores the attributes read in `new` on the same fd.
            unsafe {
                libc::tcsetattr(self.fd, libc::TCSAFLUSH, &t);
            }
        }
    }
}
