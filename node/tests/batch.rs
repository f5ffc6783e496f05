//! `POST /v1/records/batch`: bodies stored in order, checked whole before anything is signed,
//! and the framing's limits.

mod common;

use aidledger_node::submit::{decode_batch, encode_batch, BatchFrameError, BATCH_RECORDS_MAX};
use aidledger_spec::RecordId;
use common::*;

fn post_batch(node: &TestNode, bytes: Vec<u8>) -> (u16, serde_json::Value) {
    let response = node
        .http
        .post(format!("{}/v1/records/batch", node.node().submit_url()))
        .bearer_auth(node.node().token())
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(serde_json::Value::Null))
}

#[test]
fn a_batch_is_stored_in_order_and_answered_in_order() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let bodies: Vec<Vec<u8>> = (0..300)
        .map(|i| encode(&statement(&format!("statement {i}"))))
        .collect();
    let (status, json) = post_batch(&node, encode_batch(&bodies));
    assert_eq!(status, 200, "{json}");
    let records = json["records"].as_array().unwrap();
    assert_eq!(records.len(), 300);
    for (index, record) in records.iter().enumerate() {
        assert_eq!(record["seq"].as_u64().unwrap(), index as u64);
        RecordId::from_hex(record["id"].as_str().unwrap()).unwrap();
    }
    assert_eq!(node.status()["records"], 300);
}

#[test]
fn one_bad_body_refuses_the_whole_batch() {
    let root = tempfile::tempdir().unwrap();
    let node = TestNode::start(root.path(), DONOR);
    let mut bodies: Vec<Vec<u8>> = (0..5)
        .map(|i| encode(&statement(&format!("s{i}"))))
        .collect();
    bodies.push(encode(&transaction("XXX", None)));
    let (status, json) = post_batch(&node, encode_batch(&bodies));
    assert_eq!(status, 400, "{json}");
    assert!(json["error"].as_str().unwrap().contains("body 5"), "{json}");
    assert_eq!(node.status()["records"], 0);

    let (status, json) = post_batch(&node, vec![0, 0, 0, 1, 0, 0]);
    assert_eq!(status, 400, "{json}");
    assert!(
        json["error"].as_str().unwrap().contains("malformed batch"),
        "{json}"
    );
    assert_eq!(node.status()["records"], 0);
}

#[test]
fn the_framing_is_checked() {
    let body = encode(&statement("x"));
    let one = encode_batch(std::slice::from_ref(&body));
    assert_eq!(decode_batch(&one).unwrap(), vec![body.as_slice()]);
    assert_eq!(
        decode_batch(&encode_batch::<Vec<u8>>(&[])),
        Err(BatchFrameError::Count(0))
    );
    let too_many: Vec<Vec<u8>> = vec![body.clone(); BATCH_RECORDS_MAX + 1];
    assert!(matches!(
        decode_batch(&encode_batch(&too_many)),
        Err(BatchFrameError::Count(_))
    ));
    let mut trailing = one.clone();
    trailing.push(0);
    assert_eq!(
        decode_batch(&trailing),
        Err(BatchFrameError::TrailingBytes(1))
    );
    assert!(matches!(
        decode_batch(&one[..one.len() - 1]),
        Err(BatchFrameError::Truncated(_))
    ));
}
