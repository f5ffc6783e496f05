//! A record page's "Cite this record" block (stable URL, full id, network, author, position)
//! and its "Check it yourself" block: the `aidledger` commands that fetch a bundle of the
//! whole network from this node and verify it, and this record in it, offline, against the
//! network id the reader trusts (tests/tests/explorer_browser.rs runs them), and the two that
//! make and check the record's proof packet alone (issue 21). And the page's one script,
//! `/verify.js`: with JavaScript on it checks the record, its inclusion proof and its author's
//! checkpoint in the reader's browser and adds one line saying what it found; without
//! JavaScript the page is exactly what the server wrote.

use super::*;

/// Where the record page's script is served.
pub const VERIFY_SCRIPT_PATH: &str = "/verify.js";

/// The record page's script (no inline script anywhere: the policy forbids it).
pub const VERIFY_SCRIPT: &str = include_str!("../verify.js");

/// The bundle file the commands write (any name works).
const BUNDLE_FILE: &str = "ledger.bundle";
/// The proof file of one record the commands write (any name works).
const PROOF_FILE: &str = "record.proof";

/// The citation: what identifies the record for good, whatever node serves it.
pub(super) fn cite(html: &mut Html, page: &RecordPage, network_name: &str, base_url: &str) {
    let record = &page.record;
    let id = record.id.to_hex();
    let url = [base_url, super::RECORD_PATH, &id].concat();
    let author_name = page.names.get(&record.author).map_or("", String::as_str);
    let author = if author_name.is_empty() {
        record.author.clone()
    } else {
        [author_name, " (", &record.author, ")"].concat()
    };
    html.raw("<h2>Cite this record</h2><dl><dt>Address</dt><dd>")
        .link(&url, &url)
        .raw("</dd><dt>Record id</dt><dd class=\"mono\">")
        .hex_text(&id)
        .raw("</dd><dt>Network</dt><dd>")
        .text(network_name)
        .raw(" <span class=\"mono\">")
        .hex_text(&page.network_id)
        .raw("</span></dd>")
        .field("Author", &author)
        .raw("<dt>Position</dt><dd>record ")
        .display(record.seq)
        .raw(" of its chain</dd>")
        .raw("</dl><p class=\"muted\">As text:</p><pre>")
        // `{author}, “{label}”, aidledger record {id} (seq {seq}), network {name} {network id},
        // {url}`, escaped piece by piece (the same text as escaped whole).
        .text(&author)
        .raw(", “")
        .text(&page.label)
        .raw("”, aidledger record ")
        .hex_text(&id)
        .raw(" (seq ")
        .display(record.seq)
        .raw("), network ")
        .text(network_name)
        .raw(" ")
        .hex_text(&page.network_id)
        .raw(", ")
        .text(&url)
        .raw("</pre><p class=\"muted\">The id is the SHA-256 of the signed record: any node of the network serves the same record under it, and no one can change the record without changing the id.</p>");
}

/// The commands that check the record offline, without trusting this node.
pub(super) fn check(html: &mut Html, page: &RecordPage, base_url: &str) {
    let id = page.record.id.to_hex();
    let network = &page.network_id;
    html.raw("<h2>Check it yourself</h2><p>With the <code>aidledger</code> command-line tool, fetch a copy of the whole network from this node into one file (a bundle), then verify it offline: every signature, hash and chain link, against the network id you trust, and show this record from it. Compare the network id with one you got from a member organisation, not from this page.</p><pre class=\"mono\" id=\"check-commands\">")
        .text(&export_command(base_url, network))
        .raw("\n")
        .text(&show_command(&id, network))
        .raw("</pre><p class=\"muted\">The second command exits 0 and prints this record's headline when the bundle and the record verify; it refuses a bundle of another network. ")
        .raw("<code>aidledger provenance ")
        .hex_text(&id)
        .raw(" --bundle ")
        .raw(BUNDLE_FILE)
        .raw("</code> traces who signed it, with which key, and what acknowledges or corrects it.</p>");
    html.raw("<p>Or, for this record alone, a small proof file you can pass on (to a reader, with an article or a report): the record, its Merkle inclusion proof and the checkpoint its author signed, checked offline without the bundle. Only the author's own node publishes its checkpoint: for a record of another organisation than this node's, give that organisation's node address.</p><pre class=\"mono\" id=\"proof-commands\">")
        .text(&proof_command(&id, base_url))
        .raw("\n")
        .text(&verify_proof_command(network))
        .raw("</pre>");
}

/// `<script src="/verify.js" data-record="ID" defer>`: the script reads the record's id from
/// its own element, so that the page gains nothing a reader without JavaScript would see.
pub(super) fn script(html: &mut Html, page: &RecordPage) {
    html.raw("<script src=\"")
        .raw(VERIFY_SCRIPT_PATH)
        .raw("\" data-record=\"")
        .hex_text(&page.record.id.to_hex())
        .raw("\" defer></script>");
}

/// `aidledger export --node URL --network-id HEX --out ledger.bundle`.
pub fn export_command(base_url: &str, network_id: &str) -> String {
    [
        "aidledger export --node ",
        base_url,
        " --network-id ",
        network_id,
        " --out ",
        BUNDLE_FILE,
    ]
    .concat()
}

/// `aidledger show ID --bundle ledger.bundle --network-id HEX`.
pub fn show_command(id: &str, network_id: &str) -> String {
    [
        "aidledger show ",
        id,
        " --bundle ",
        BUNDLE_FILE,
        " --network-id ",
        network_id,
    ]
    .concat()
}

/// `aidledger proof ID --node URL --out record.proof`: the record's proof packet.
pub fn proof_command(id: &str, base_url: &str) -> String {
    [
        "aidledger proof ",
        id,
        " --node ",
        base_url,
        " --out ",
        PROOF_FILE,
    ]
    .concat()
}

/// `aidledger verify --proof record.proof --network-id HEX`: the packet checked offline.
pub fn verify_proof_command(network_id: &str) -> String {
    [
        "aidledger verify --proof ",
        PROOF_FILE,
        " --network-id ",
        network_id,
    ]
    .concat()
}
