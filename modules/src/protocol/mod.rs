//! The agent protocol: length-prefixed frames carrying JSON messages or raw bytes.

mod frame;
mod message;

pub use frame::{
    decode_body, read_frame, write_data_frame, write_json_frame, Frame, FrameError, DATA_CHUNK,
    MAX_FRAME,
};
pub use message::{
    parse_request, AsyncJob, Hello, ModuleCall, PyRunCall, Request, Response, PROTOCOL_VERSION,
};
