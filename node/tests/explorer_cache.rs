//! The explorer's response cache (`explorer::cache`) over real loopback HTTP and a real sled
//! store: a page read again comes from the cache byte for byte, and every kind of write a
//! page can show (an append of the same chain, of another chain, a pending record, an
//! equivocation proof) makes the next read render afresh.

mod common;

use aidledger_node::explorer::cache::CACHE_HEADER;
use aidledger_spec::record::{Correction, Replacement};
use aidledger_spec::{Body, Digest};
use common::explorer_server::*;
use common::*;
use reqwest::blocking::Response;
use serde_json::Value;

/// `hit` or `miss`, as the response says.
fn how(response: &Response) -> String {
    response
        .headers()
        .get(CACHE_HEADER.as_str())
        .and_then(|value| value.to_str().ok())
        .unwrap_or("absent")
        .to_owned()
}

/// A GET answered 200: (hit or miss, body).
fn read(server: &Server, path: &str) -> (String, String) {
    let response = server.get(path);
    assert_eq!(response.status(), 200, "GET {path}");
    (how(&response), response.text().unwrap())
}

fn read_json(server: &Server, path: &str) -> (String, Value) {
    let (how, body) = read(server, path);
    (how, serde_json::from_str(&body).unwrap())
}

#[test]
fn a_page_read_again_comes_from_the_cache_byte_for_byte() {
    let (_root, store) = new_store();
    let donor = append(&store, DONOR, vec![transaction("GBP", None)]);
    let server = Server::start(store.clone());
    let path = format!("/record/{}", donor[0].id().to_hex());

    let first = server.get(&path);
    assert_eq!(how(&first), "miss");
    let etag = first.headers()["etag"].to_str().unwrap().to_owned();
    let first_body = first.text().unwrap();
    let second = server.get(&path);
    assert_eq!(how(&second), "hit");
    assert_eq!(second.headers()["etag"].to_str().unwrap(), etag);
    assert!(
        second.headers().contains_key("content-security-policy"),
        "the security headers are added to hits too"
    );
    assert_eq!(second.text().unwrap(), first_body);

    // A reader who holds the page's ETag gets a 304 from the cache.
    let conditional = server
        .http
        .get(format!("{}{path}", server.base))
        .header("if-none-match", &etag)
        .send()
        .unwrap();
    assert_eq!(conditional.status(), 304);
    assert_eq!(how(&conditional), "hit");
    assert_eq!(conditional.headers()["etag"].to_str().unwrap(), etag);
}

#[test]
fn every_write_a_page_shows_makes_the_next_read_fresh() {
    let (_root, store) = new_store();
    let donor = append(&store, DONOR, vec![transaction("GBP", None)]);
    let server = Server::start(store.clone());
    let record_path = format!("/api/record/{}", donor[0].id().to_hex());

    let (_, home) = read_json(&server, "/api/home");
    assert_eq!(home["record_count"], 1, "{home}");
    let (cached, _) = read_json(&server, "/api/home");
    assert_eq!(cached, "hit");
    let (_, page) = read_json(&server, &record_path);
    assert_eq!(page["corrected_by"].as_array().unwrap().len(), 0);
    assert_eq!(read_json(&server, &record_path).0, "hit");

    // The author corrects the transaction: its page and the home page change at once.
    let correction = Body::Correction(Correction {
        corrects: donor[0].id(),
        reason: "typo".into(),
        replacement: Some(Replacement::Transaction({
            let Body::Transaction(transaction) = transaction("GBP", None) else {
                unreachable!()
            };
            transaction
        })),
    });
    let corrected = append(&store, DONOR, vec![correction]);
    let (how_record, page) = read_json(&server, &record_path);
    assert_eq!(how_record, "miss");
    assert_eq!(
        page["corrected_by"][0]["id"],
        corrected[0].id().to_hex(),
        "{page}"
    );
    let (how_home, home) = read_json(&server, "/api/home");
    assert_eq!(how_home, "miss");
    assert_eq!(home["record_count"], 2, "{home}");

    // Another organisation's chain grows: the home page counts it.
    assert_eq!(read_json(&server, "/api/home").0, "hit");
    append(&store, IMPLEMENTER, vec![statement("received")]);
    let (how_home, home) = read_json(&server, "/api/home");
    assert_eq!(how_home, "miss");
    assert_eq!(home["record_count"], 3, "{home}");

    // A record held pending (ahead of a gap) is a write too: the home page counts it.
    assert_eq!(read_json(&server, "/api/home").0, "hit");
    let ahead = record(AUDITOR, 5, Digest([7; 32]), statement("ahead of a gap"));
    assert!(store.add_pending(&ahead).unwrap());
    let (how_home, home) = read_json(&server, "/api/home");
    assert_eq!(how_home, "miss");
    assert_eq!(home["pending_records"], 1, "{home}");
}

#[test]
fn the_address_a_reader_used_is_part_of_the_key() {
    let (_root, store) = new_store();
    let donor = append(&store, DONOR, vec![transaction("GBP", None)]);
    let server = Server::start(store.clone());
    let path = format!("{}/record/{}", server.base, donor[0].id().to_hex());
    let page_via = |host: &str| {
        let response = server.http.get(&path).header("host", host).send().unwrap();
        assert_eq!(response.status(), 200);
        (how(&response), response.text().unwrap())
    };

    let (first, via_one) = page_via("explorer.example.org");
    let (second, via_other) = page_via("node.example.net:8080");
    assert_eq!((first.as_str(), second.as_str()), ("miss", "miss"));
    assert!(via_one.contains("http://explorer.example.org/record/"));
    assert!(via_other.contains("http://node.example.net:8080/record/"));
    assert!(!via_other.contains("explorer.example.org"));
    assert_eq!(page_via("explorer.example.org"), ("hit".into(), via_one));
}

#[test]
fn readers_who_ask_together_share_one_rendering() {
    let (_root, store) = new_store();
    let donor = append(&store, DONOR, vec![transaction("GBP", None)]);
    let server = Server::start(store.clone());
    let path = format!("/record/{}", donor[0].id().to_hex());
    let readers = 32;
    let barrier = std::sync::Barrier::new(readers);
    let answers: Vec<(String, String)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..readers)
            .map(|_| {
                scope.spawn(|| {
                    barrier.wait();
                    read(&server, &path)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().unwrap())
            .collect()
    });
    // Whoever came first rendered it; everyone else waited for that rendering or found it
    // kept.
    let misses = answers.iter().filter(|(how, _)| how == "miss").count();
    assert_eq!(
        misses,
        1,
        "{:?}",
        answers.iter().map(|a| &a.0).collect::<Vec<_>>()
    );
    assert!(answers.iter().all(|(_, body)| *body == answers[0].1));
}

#[test]
fn errors_and_redirects_are_rendered_every_time() {
    let (_root, store) = new_store();
    let donor = append(&store, DONOR, vec![transaction("GBP", None)]);
    let server = Server::start(store.clone());

    for path in [
        "/record/not-hex",
        "/record/00000000000000000000000000000000",
    ] {
        for _ in 0..2 {
            let response = server.get(path);
            assert!(response.status().is_client_error(), "GET {path}");
            assert_eq!(how(&response), "miss", "GET {path}");
        }
    }
    // A unique prefix redirects to the full id: never kept either.
    let prefix = format!("/record/{}", &donor[0].id().to_hex()[..12]);
    for _ in 0..2 {
        let response = server.get(&prefix);
        assert!(response.status().is_redirection(), "GET {prefix}");
        assert_eq!(how(&response), "miss");
    }
}

/// Review: the index follower of a running node calls `index_deferred` every 50 ms while the
/// chains are quiet (`explorer::follower`); a pass with nothing to index writes nothing, so
/// the page read next must still come from the cache.
#[test]
fn an_idle_index_pass_keeps_the_cache() {
    let (_root, store) = new_store();
    let donor = append(&store, DONOR, vec![transaction("GBP", None)]);
    while store.index_deferred(100).unwrap() > 0 {}
    let server = Server::start(store.clone());
    let path = format!("/record/{}", donor[0].id().to_hex());
    assert_eq!(read(&server, &path).0, "miss");
    assert_eq!(read(&server, &path).0, "hit");
    assert_eq!(store.index_deferred(100).unwrap(), 0);
    assert_eq!(
        read(&server, &path).0,
        "hit",
        "an idle index pass emptied the cache"
    );
}
