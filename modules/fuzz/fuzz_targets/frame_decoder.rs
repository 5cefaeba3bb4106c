//! Feed arbitrary bytes to the frame decoder and to the agent loop: neither may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rsible_modules::protocol::read_frame;

fuzz_target!(|data: &[u8]| {
    let mut r = data;
    // Decode frames until the input is exhausted or invalid.
    while read_frame(&mut r).is_ok() {}
    // Parse any JSON frames as requests, as the agent does, without running them.
    let mut r = data;
    while let Ok(rsible_modules::protocol::Frame::Json(v)) = read_frame(&mut r) {
        let _ = rsible_modules::protocol::parse_request(v);
    }
});
