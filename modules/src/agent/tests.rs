use super::*;
use crate::protocol::{write_data_frame, write_json_frame};
use serde_json::{json, Value};

/// Feed requests to the agent in memory and collect every frame it wrote.
fn converse(input: Vec<u8>) -> (i32, Vec<Frame>) {
    let mut out = Vec::new();
    let code = run_agent(&mut &input[..], &mut out);
    let mut frames = Vec::new();
    let mut r = &out[..];
    while let Ok(f) = read_frame(&mut r) {
        frames.push(f);
    }
    (code, frames)
}

fn json_of(f: &Frame) -> &Value {
    match f {
        Frame::Json(v) => v,
        other => panic!("expected JSON frame, got {other:?}"),
    }
}

#[test]
fn hello_module_call_and_shutdown() {
    let mut input = Vec::new();
    write_json_frame(
        &mut input,
        &json!({"op": "module", "id": 1, "module": "ping"}),
    )
    .unwrap();
    write_json_frame(&mut input, &json!({"op": "shutdown", "id": 2})).unwrap();
    // Anything after shutdown is not read.
    write_json_frame(
        &mut input,
        &json!({"op": "module", "id": 3, "module": "ping"}),
    )
    .unwrap();
    let (code, frames) = converse(input);
    assert_eq!(code, 0);
    assert_eq!(frames.len(), 3);
    assert_eq!(json_of(&frames[0])["op"], json!("hello"));
    assert_eq!(json_of(&frames[1])["id"], json!(1));
    assert_eq!(json_of(&frames[1])["result"]["ping"], json!("pong"));
    assert_eq!(
        json_of(&frames[2]),
        &json!({"op": "done", "id": 2, "size": 0})
    );
}

#[test]
fn eof_ends_cleanly_and_garbage_is_an_error() {
    let (code, frames) = converse(Vec::new());
    assert_eq!(code, 0);
    assert_eq!(frames.len(), 1);
    let (code, frames) = converse(vec![0xff, 0xff, 0xff, 0xff, 1, 2, 3]);
    assert_eq!(code, 1);
    assert_eq!(json_of(&frames[1])["op"], json!("error"));
}

#[test]
fn bad_requests_are_answered_and_the_loop_continues() {
    let mut input = Vec::new();
    write_json_frame(&mut input, &json!({"op": "dance", "id": 9})).unwrap();
    write_json_frame(
        &mut input,
        &json!({"op": "module", "id": 10, "module": "ping"}),
    )
    .unwrap();
    let (code, frames) = converse(input);
    assert_eq!(code, 0);
    assert_eq!(json_of(&frames[1])["op"], json!("error"));
    assert_eq!(json_of(&frames[1])["id"], json!(9));
    assert_eq!(json_of(&frames[2])["result"]["ping"], json!("pong"));
}

#[test]
fn put_then_get_file_round_trips_bytes_and_mode() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("blob");
    let data: Vec<u8> = (0..600_000u32).map(|i| (i % 251) as u8).collect();
    let mut input = Vec::new();
    write_json_frame(
        &mut input,
        &json!({"op": "put_file", "id": 1, "path": path, "mode": 0o600}),
    )
    .unwrap();
    for chunk in data.chunks(100_000) {
        write_data_frame(&mut input, chunk).unwrap();
    }
    write_data_frame(&mut input, &[]).unwrap();
    write_json_frame(
        &mut input,
        &json!({"op": "get_file", "id": 2, "path": path}),
    )
    .unwrap();
    write_json_frame(
        &mut input,
        &json!({"op": "get_file", "id": 3, "path": dir.path().join("nope")}),
    )
    .unwrap();
    let (code, frames) = converse(input);
    assert_eq!(code, 0);
    assert_eq!(
        json_of(&frames[1]),
        &json!({"op": "done", "id": 1, "size": 600_000})
    );
    assert_eq!(std::fs::read(&path).unwrap(), data);
    let header = json_of(&frames[2]);
    assert_eq!(header["op"], json!("file_follows"));
    assert_eq!(header["mode"], json!(0o600));
    let mut got = Vec::new();
    let mut i = 3;
    loop {
        match &frames[i] {
            Frame::Data(d) if d.is_empty() => break,
            Frame::Data(d) => got.extend_from_slice(d),
            other => panic!("unexpected {other:?}"),
        }
        i += 1;
    }
    assert_eq!(got, data);
    assert_eq!(json_of(&frames[i + 1])["op"], json!("error"));
}

#[test]
fn put_file_into_missing_dir_is_answered_and_stream_stays_in_sync() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = Vec::new();
    write_json_frame(
        &mut input,
        &json!({"op": "put_file", "id": 1, "path": dir.path().join("no/such/file")}),
    )
    .unwrap();
    write_data_frame(&mut input, b"abc").unwrap();
    write_data_frame(&mut input, &[]).unwrap();
    write_json_frame(
        &mut input,
        &json!({"op": "module", "id": 2, "module": "ping"}),
    )
    .unwrap();
    let (code, frames) = converse(input);
    assert_eq!(code, 0);
    assert_eq!(json_of(&frames[1])["op"], json!("error"));
    assert_eq!(json_of(&frames[2])["result"]["ping"], json!("pong"));
}
