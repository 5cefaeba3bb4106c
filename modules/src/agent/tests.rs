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

#[test]
fn python_payload_is_stored_run_and_cleaned_up() {
    use sha2::{Digest, Sha256};
    // A "payload" that is a plain Python script: python runs it like a zip.
    let script = b"import os, sys\nd = sys.stdin.read()\nprint(d.upper())\nprint(os.environ['RSIBLE_X'], os.path.isdir(os.environ['RSIBLE_MODULE_TMPDIR']))\nsys.stderr.write('err')\nsys.exit(3)\n";
    let sha: String = Sha256::digest(script)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut input = Vec::new();
    let run =
        json!({"op": "py_run", "id": 1, "sha256": sha, "interpreter": "python3", "stdin": "args"});
    write_json_frame(&mut input, &run).unwrap();
    write_json_frame(
        &mut input,
        &json!({"op": "py_payload", "id": 2, "sha256": "0".repeat(64)}),
    )
    .unwrap();
    write_data_frame(&mut input, script).unwrap();
    write_data_frame(&mut input, &[]).unwrap();
    write_json_frame(
        &mut input,
        &json!({"op": "py_payload", "id": 3, "sha256": sha}),
    )
    .unwrap();
    write_data_frame(&mut input, &script[..10]).unwrap();
    write_data_frame(&mut input, &script[10..]).unwrap();
    write_data_frame(&mut input, &[]).unwrap();
    let mut run = run.clone();
    run["id"] = json!(4);
    run["env"] = json!({"RSIBLE_X": "x1"});
    write_json_frame(&mut input, &run).unwrap();
    let mut missing = run.clone();
    missing["id"] = json!(5);
    missing["interpreter"] = json!("/no/such/python");
    write_json_frame(&mut input, &missing).unwrap();
    let (code, frames) = converse(input);
    assert_eq!(code, 0);
    // Before the payload was sent: refused.
    assert_eq!(json_of(&frames[1])["op"], "error");
    // Wrong hash: refused, stream still in sync.
    assert_eq!(json_of(&frames[2])["op"], "error");
    assert!(json_of(&frames[2])["msg"]
        .as_str()
        .unwrap()
        .contains("does not match"));
    assert_eq!(
        json_of(&frames[3]),
        &json!({"op": "done", "id": 3, "size": script.len()})
    );
    let out = json_of(&frames[4]);
    assert_eq!(out["op"], "py_output");
    assert_eq!(out["rc"], 3);
    assert_eq!(out["stdout"], "ARGS\nx1 True\n");
    assert_eq!(out["stderr"], "err");
    let missing = json_of(&frames[5]);
    assert_eq!(missing["rc"], 127);
    assert!(missing["stderr"]
        .as_str()
        .unwrap()
        .contains("/no/such/python: not found"));
}
