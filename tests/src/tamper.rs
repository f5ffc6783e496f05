//! A server in front of a node that answers every GET with the node's answer, after a
//! [`Tamper`] had its way with the body: a node that lies, seen from a browser, a witness or
//! a verifier.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::thread;

/// Changes the response body of the path it is given (or leaves it).
pub type Tamper = Arc<dyn Fn(&str, &mut Vec<u8>) + Send + Sync>;

/// Starts the server in front of the node at base URL `node`; returns the server's base URL.
/// It runs until the test process ends.
pub fn tampering_server(node: String, tamper: Tamper) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the tampering server");
    let url = format!(
        "http://{}",
        listener.local_addr().expect("the server's address")
    );
    thread::spawn(move || {
        let client = reqwest::blocking::Client::new();
        for stream in listener.incoming() {
            let Ok(stream) = stream else { continue };
            let (node, client, tamper) = (node.clone(), client.clone(), tamper.clone());
            thread::spawn(move || serve_one(stream, &node, &client, &tamper));
        }
    });
    url
}

/// One request (a GET without a body), answered and closed.
fn serve_one(
    mut stream: TcpStream,
    node: &str,
    client: &reqwest::blocking::Client,
    tamper: &Tamper,
) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line.split(' ').nth(1).unwrap_or("/").to_string();
    let Ok(response) = client.get(format!("{node}{path}")).send() else {
        return;
    };
    let status = response.status();
    let headers = response.headers().clone();
    let mut body = response
        .bytes()
        .map(|bytes| bytes.to_vec())
        .unwrap_or_default();
    tamper(&path, &mut body);
    let mut head = format!(
        "HTTP/1.1 {} {}\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or("")
    );
    for (name, value) in &headers {
        let framing = ["content-length", "transfer-encoding", "connection", "etag"];
        if let (false, Ok(value)) = (framing.contains(&name.as_str()), value.to_str()) {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}
