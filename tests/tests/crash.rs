//! Crash safety: a record whose id the CLI printed survives a `kill -9` of the node.
//!
//! The node answers only after a record is durable, so every id the CLI printed before the
//! kill must be there after a restart; the record in flight at the kill may or may not be.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use aidledger_tests::{test_seed, transaction_args, wait_until, Network, Rng};

/// The most records a loop writes; the kill comes long before.
const LOOP_RECORDS_MAX: usize = 500;
/// How many loops record at once.
const RECORDING_LOOPS: usize = 2;

#[test]
fn crash_safety_kill_9() {
    let mut network = Network::start("crash");
    let mut rng = Rng::new(test_seed());
    // Kill after 4 to 15 printed ids, then after a further 0–30 ms so that the kill lands at a
    // varying point of a request.
    let printed_before_kill = 4 + rng.below(12) as usize;
    let extra_delay = Duration::from_micros(rng.below(30_000));

    let printed: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    // Two loops at once, so that requests overlap and the kill more often lands inside one.
    let recorders: Vec<_> = (0..RECORDING_LOOPS)
        .map(|loop_index| {
            let cli = network.cli.clone();
            let data_dir = network.data_dir_arg();
            let printed = Arc::clone(&printed);
            let stop = Arc::clone(&stop);
            thread::spawn(move || {
                for index in 0..LOOP_RECORDS_MAX {
                    if stop.load(Ordering::SeqCst) {
                        return None;
                    }
                    let amount = format!("{}.{:02}", 1000 * (loop_index + 1) + index, index % 100);
                    let mut args = vec!["record", "transaction"];
                    args.extend(transaction_args(&amount));
                    args.extend(["--data-dir", &data_dir]);
                    let output = cli.run(&args).assert_no_panic();
                    if output.code() != Some(0) {
                        // The node is gone: the CLI must say so with exit 2.
                        return Some(output.assert_exit(2));
                    }
                    printed
                        .lock()
                        .expect("no panics hold the lock")
                        .push(output.stdout_hex32());
                }
                None
            })
        })
        .collect();

    wait_until(
        Duration::from_secs(60),
        "the loop to record some transactions",
        || printed.lock().expect("no panics hold the lock").len() >= printed_before_kill,
    );
    let kill_at = Instant::now() + extra_delay;
    while Instant::now() < kill_at {
        std::hint::spin_loop();
    }
    network.node.kill9();
    stop.store(true, Ordering::SeqCst);
    let failures = recorders
        .into_iter()
        .filter_map(|recorder| recorder.join().expect("the recording loops do not panic"))
        .count();
    let printed = printed.lock().expect("no panics hold the lock").clone();
    eprintln!(
        "{} ids printed before the kill; {} failed writes after it",
        printed.len(),
        failures
    );
    assert!(printed.len() >= printed_before_kill);

    network.node.restart();
    let public = network.node.public_url();
    for id in &printed {
        network
            .cli
            .run(["show", id, "--node", &public])
            .assert_exit(0);
    }
    let count = network.node.record_count();
    let printed_count = printed.len() as u64;
    assert!(
        (printed_count..=printed_count + RECORDING_LOOPS as u64).contains(&count),
        "the node holds the {printed_count} printed records and at most the {RECORDING_LOOPS} in flight, not {count}"
    );
    let unique: std::collections::BTreeSet<&String> = printed.iter().collect();
    assert_eq!(unique.len(), printed.len(), "every printed id is distinct");
    // The chain goes on after the crash.
    let after = network.record_transaction("1.01");
    let status = network.node.status();
    assert_eq!(
        status["head"]["id"].as_str(),
        Some(after.as_str()),
        "the new record is the head: {status}"
    );
    assert_eq!(
        status["head"]["seq"].as_u64(),
        Some(count),
        "the new record follows the recovered chain: {status}"
    );

    network.node.terminate();
    let report = network
        .cli
        .run(["verify", "--data-dir", &network.data_dir_arg(), "--json"])
        .assert_exit(0)
        .json();
    assert_eq!(
        report["valid"],
        serde_json::Value::Bool(true),
        "JSON report: {report}"
    );
}
