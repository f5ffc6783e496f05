// A record page's check in the reader's browser (issue 21): fetches the record's bytes
// (/api/records/{id}/raw), its inclusion proof and its author's signed checkpoint
// (/api/proof/{id}) and the genesis (/api/genesis.bin), and checks them with WebCrypto
// (SHA-256, Ed25519), as spec/FORMAT.md says: the record id (§7), the body hash (§4), the
// signature over the signed message (§7), the leaf hash and the inclusion proof up to the
// checkpoint's root (§22, RFC 9162 §2.1.3.2), the checkpoint's text and its note signature
// (§23). The trust root is the network id the reader brings: `#network=HEX` in the address
// (a fragment is never sent to the server), or the one remembered from an earlier visit;
// without one the page says it checked only against what this server itself claims.
// Keys: the genesis' signing keys of the author (this script reads no governance records:
// a record or checkpoint signed with a later key is reported as not fully checked, never as
// verified). WebCrypto's Ed25519 uses the cofactorless equation, FORMAT.md §7.1's cofactored
// rule accepts more: only a signature its key's holder crafted with a torsion component can
// tell them apart, and then this page says "NOT VERIFIED" where `aidledger verify` accepts it
// (never the other way round: what this page verifies, every verifier of FORMAT.md accepts).
// Without JavaScript, or without WebCrypto's Ed25519, the page is as the server wrote it.
(function () {
  'use strict';
  var script = document.currentScript || document.querySelector('script[data-record]');
  var recordId = script && script.getAttribute('data-record');
  var subtle = window.crypto && window.crypto.subtle;
  if (!recordId || !/^[0-9a-f]{64}$/.test(recordId) || !subtle || !window.TextEncoder) {
    return;
  }
  var STORED_NETWORK = 'aidledger-network';
  var ASCII = new TextEncoder();
  // FORMAT.md §7's domain strings (spec/src/lib.rs `domain`).
  var RECORD_ID_DOMAIN = ASCII.encode('aidledger:record-id:v1\n');
  var BODY_DOMAIN = ASCII.encode('aidledger:body:v1\n');
  var SIGNATURE_DOMAIN = ASCII.encode('aidledger:signature:v1\n');
  var GENESIS_DOMAIN = ASCII.encode('aidledger:genesis:v1\n');
  // FORMAT.md §4: the header is 160 bytes and the author's; its fields after the author.
  var HEADER_FIXED_BYTES = 160;
  var AUTHOR_LENGTH_AT = 34;
  var AUTHOR_AT = 42;
  var SIGNATURE_BYTES = 64;
  var KEY_BYTES = 32;
  // A record's author id is at most this long (FORMAT.md §9.1: organisation ids).
  var ORG_ID_BYTES_MAX = 128;
  // FORMAT.md §22.4: no path of a u64-sized tree is longer.
  var INCLUSION_HASHES_MAX = 64;
  var NOTE_KEY_TYPE_ED25519 = 1;
  var KEY_ID_BYTES = 4;

  // A check that failed: the server sent something that is not what it claims.
  function Failed(message) { this.message = message; }
  // A check that could not be made here (no verdict either way).
  function Unchecked(message) { this.message = message; }

  function hex(bytes) {
    return Array.prototype.map.call(bytes, function (b) {
      return (b < 16 ? '0' : '') + b.toString(16);
    }).join('');
  }
  function fromHex(text) {
    if (typeof text !== 'string' || !/^([0-9a-f]{2})*$/.test(text)) {
      throw new Failed('the server sent a malformed hash: ' + String(text).slice(0, 80));
    }
    var bytes = new Uint8Array(text.length / 2);
    for (var i = 0; i < bytes.length; i += 1) { bytes[i] = parseInt(text.substr(2 * i, 2), 16); }
    return bytes;
  }
  function fromBase64(text) {
    var binary;
    try { binary = window.atob(text); } catch (e) { throw new Failed('the checkpoint holds malformed base64'); }
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i += 1) { bytes[i] = binary.charCodeAt(i); }
    return bytes;
  }
  function concat() {
    var length = 0;
    var i;
    for (i = 0; i < arguments.length; i += 1) { length += arguments[i].length; }
    var out = new Uint8Array(length);
    var at = 0;
    for (i = 0; i < arguments.length; i += 1) { out.set(arguments[i], at); at += arguments[i].length; }
    return out;
  }
  function equal(a, b) {
    if (a.length !== b.length) { return false; }
    for (var i = 0; i < a.length; i += 1) { if (a[i] !== b[i]) { return false; } }
    return true;
  }
  function sha256() {
    return subtle.digest('SHA-256', concat.apply(null, arguments)).then(function (digest) {
      return new Uint8Array(digest);
    });
  }
  // Ed25519 (RFC 8032) over `message`; a browser without it cannot check.
  function ed25519(key, signature, message) {
    return subtle.importKey('raw', key, { name: 'Ed25519' }, false, ['verify']).then(function (imported) {
      return subtle.verify({ name: 'Ed25519' }, imported, signature, message);
    }, function () {
      throw new Unchecked('this browser has no Ed25519 in WebCrypto');
    });
  }

  // Little-endian readers of FORMAT.md §1-§2 (sizes below 2^53, as every length here is).
  function Reader(bytes) { this.bytes = bytes; this.at = 0; }
  Reader.prototype.take = function (count, what) {
    if (count < 0 || this.at + count > this.bytes.length) { throw new Failed('the genesis ends inside ' + what); }
    var out = this.bytes.subarray(this.at, this.at + count);
    this.at += count;
    return out;
  };
  Reader.prototype.u64 = function (what) {
    var b = this.take(8, what);
    var high = b[4] + b[5] * 256 + b[6] * 65536 + b[7] * 16777216;
    if (high >= 0x200000) { throw new Failed('the genesis holds an impossible ' + what); }
    return b[0] + b[1] * 256 + b[2] * 65536 + b[3] * 16777216 + high * 4294967296;
  };
  Reader.prototype.text = function (what) {
    return new TextDecoder('utf-8', { fatal: true }).decode(this.take(this.u64(what), what));
  };
  Reader.prototype.keys = function (what) {
    var count = this.u64(what);
    var keys = [];
    for (var i = 0; i < count; i += 1) { keys.push(this.take(KEY_BYTES, what)); }
    return keys;
  };

  // FORMAT.md §3: the signing keys the genesis lists for `org` (null: not a genesis member).
  function genesisKeys(genesis, org) {
    var reader = new Reader(genesis);
    reader.take(2, 'its version');
    reader.text('its name');
    reader.take(8, 'its time');
    var members = reader.u64('its member count');
    for (var m = 0; m < members; m += 1) {
      var id = reader.text('a member id');
      reader.text('a member name');
      reader.take(4 * reader.u64('a role count'), 'the roles');
      var signing = reader.keys('the signing keys');
      reader.keys('the node keys');
      if (id === org) { return signing; }
    }
    return null;
  }

  // FORMAT.md §4 and §6: the header's fields and the envelope's parts.
  function parseRecord(bytes) {
    if (bytes.length < HEADER_FIXED_BYTES + SIGNATURE_BYTES) { throw new Failed('the record is too short'); }
    var view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    var authorLength = view.getUint32(AUTHOR_LENGTH_AT, true);
    if (view.getUint32(AUTHOR_LENGTH_AT + 4, true) !== 0 || authorLength > ORG_ID_BYTES_MAX) {
      throw new Failed('the record\'s author length is impossible');
    }
    var after = AUTHOR_AT + authorLength;
    var headerLength = HEADER_FIXED_BYTES + authorLength;
    if (bytes.length < headerLength + SIGNATURE_BYTES) { throw new Failed('the record is too short'); }
    var bodySize = view.getUint32(after + 82, true);
    if (bytes.length !== headerLength + bodySize + SIGNATURE_BYTES) {
      throw new Failed('the record is ' + bytes.length + ' bytes, its header says ' + (headerLength + bodySize + SIGNATURE_BYTES));
    }
    return {
      header: bytes.subarray(0, headerLength),
      network: bytes.subarray(2, 34),
      author: new TextDecoder('utf-8').decode(bytes.subarray(AUTHOR_AT, after)),
      seq: view.getUint32(after, true) + view.getUint32(after + 4, true) * 4294967296,
      key: bytes.subarray(after + 48, after + 80),
      bodyHash: bytes.subarray(after + 86, after + 118),
      body: bytes.subarray(headerLength, headerLength + bodySize),
      signature: bytes.subarray(headerLength + bodySize)
    };
  }

  // RFC 9162 §2.1.3.2, as FORMAT.md §22.3: the root the path leads to from the leaf, or a failure.
  function inclusionRoot(leafHash, index, size, path) {
    if (!(index >= 0 && index < size)) { throw new Failed('the proof\'s index ' + index + ' is not below its size ' + size); }
    if (path.length > INCLUSION_HASHES_MAX) { throw new Failed('the proof is too long'); }
    var fn = index;
    var sn = size - 1;
    var step = Promise.resolve(leafHash);
    path.forEach(function (sibling) {
      step = step.then(function (r) {
        if (sn === 0) { throw new Failed('the inclusion proof has more hashes than its size calls for'); }
        var next;
        if (fn % 2 === 1 || fn === sn) {
          next = sha256(new Uint8Array([1]), sibling, r);
          if (fn % 2 === 0) {
            while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
          }
        } else {
          next = sha256(new Uint8Array([1]), r, sibling);
        }
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
        return next;
      });
    });
    return step.then(function (r) {
      if (sn !== 0) { throw new Failed('the inclusion proof has fewer hashes than its size calls for'); }
      return r;
    });
  }

  // FORMAT.md §23.2: the origin of `org`'s chain in network `networkHex`.
  function origin(networkHex, org) {
    return 'aidledger/' + networkHex + '/' + org.replace(/%/g, '%25').replace(/\+/g, '%2B');
  }

  // FORMAT.md §23.1-§23.3: the checkpoint's size and root, after its note signature verified
  // with one of `keys`; Unchecked when no line is of those keys.
  function openCheckpoint(note, networkHex, org, keys) {
    if (typeof note !== 'string' || note.slice(-1) !== '\n') { throw new Failed('the checkpoint is not a signed note'); }
    var split = note.lastIndexOf('\n\n');
    if (split < 0) { throw new Failed('the checkpoint has no signature'); }
    var text = note.slice(0, split + 1);
    var lines = text.split('\n');
    var name = origin(networkHex, org);
    if (lines[0] !== name) { throw new Failed('the checkpoint is of another chain: ' + lines[0]); }
    if (!/^(0|[1-9][0-9]*)$/.test(lines[1] || '')) { throw new Failed('the checkpoint\'s size is malformed'); }
    var root = fromBase64(lines[2] || '');
    if (root.length !== 32) { throw new Failed('the checkpoint\'s root is malformed'); }
    var signatures = note.slice(split + 2, -1).split('\n').map(function (line) {
      var parts = line.split(' ');
      if (parts.length !== 3 || parts[0] !== '\u2014') { throw new Failed('the checkpoint holds a malformed signature line'); }
      return { name: parts[1], bytes: fromBase64(parts[2]) };
    });
    var tried = keys.map(function (key) {
      return sha256(ASCII.encode(name + '\n'), new Uint8Array([NOTE_KEY_TYPE_ED25519]), key).then(function (digest) {
        var id = digest.subarray(0, KEY_ID_BYTES);
        var line = signatures.filter(function (s) {
          return s.name === name && equal(s.bytes.subarray(0, KEY_ID_BYTES), id);
        })[0];
        if (!line) { return null; }
        if (line.bytes.length !== KEY_ID_BYTES + SIGNATURE_BYTES) { throw new Failed('the checkpoint\'s signature is malformed'); }
        return ed25519(key, line.bytes.subarray(KEY_ID_BYTES), ASCII.encode(text)).then(function (valid) {
          if (!valid) { throw new Failed('the checkpoint\'s signature does not verify'); }
          return key;
        });
      });
    });
    return Promise.all(tried).then(function (found) {
      var key = found.filter(function (k) { return k; })[0];
      if (!key) {
        throw new Unchecked('the checkpoint is signed with a key the genesis does not list for ' + org + ' (a later key: this page does not read governance records)');
      }
      return { size: Number(lines[1]), root: root, key: key };
    });
  }

  function fetchOk(path, as) {
    return window.fetch(path, { credentials: 'omit', cache: 'no-store' }).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (body) {
          var said = body;
          try { said = JSON.parse(body).error || body; } catch (e) { said = body; }
          throw new Unchecked(path + ' answered ' + response.status + ': ' + String(said).slice(0, 300));
        });
      }
      return as === 'json' ? response.json() : response.arrayBuffer().then(function (b) { return new Uint8Array(b); });
    }, function () {
      throw new Unchecked('could not fetch ' + path);
    });
  }

  // The network id the reader brings: the address' fragment, else one remembered.
  function trusted() {
    var match = /(?:^#|&)network=([0-9a-fA-F]{64})(?:&|$)/.exec(window.location.hash);
    if (match) { return { id: match[1].toLowerCase(), from: 'the address you opened' }; }
    var stored = null;
    try { stored = window.localStorage.getItem(STORED_NETWORK); } catch (e) { stored = null; }
    if (stored && /^[0-9a-f]{64}$/.test(stored)) { return { id: stored, from: 'an earlier visit (remembered by this browser)' }; }
    return null;
  }

  function check() {
    var trust = trusted();
    var state = {};
    return Promise.all([
      fetchOk('/api/records/' + recordId + '/raw', 'bytes'),
      fetchOk('/api/proof/' + recordId, 'json'),
      fetchOk('/api/genesis.bin', 'bytes')
    ]).then(function (fetched) {
      state.record = parseRecord(fetched[0]);
      state.proof = fetched[1];
      state.genesis = fetched[2];
      return Promise.all([
        sha256(RECORD_ID_DOMAIN, state.record.header),
        sha256(BODY_DOMAIN, state.record.body),
        sha256(GENESIS_DOMAIN, state.genesis)
      ]);
    }).then(function (hashes) {
      var record = state.record;
      var network = hex(hashes[2]);
      state.network = network;
      if (hex(hashes[0]) !== recordId) { throw new Failed('the record\'s bytes hash to ' + hex(hashes[0]) + ', not to this page\'s record id'); }
      if (!equal(hashes[1], record.bodyHash)) { throw new Failed('the record\'s body does not hash to the body hash its header signs'); }
      if (trust && trust.id !== network) {
        throw new Failed('this server\'s genesis is of network ' + network + ', not of the network ' + trust.id + ' you trust');
      }
      if (hex(record.network) !== network) { throw new Failed('the record is of network ' + hex(record.network) + ', not of this server\'s ' + network); }
      var keys = genesisKeys(state.genesis, record.author);
      state.keys = keys || [];
      return ed25519(record.key, record.signature, concat(SIGNATURE_DOMAIN, fromHex(recordId)));
    }).then(function (valid) {
      var record = state.record;
      if (!valid) { throw new Failed('the record\'s signature does not verify with the key in its header'); }
      if (!state.keys.some(function (key) { return equal(key, record.key); })) {
        throw new Unchecked('the record\'s signature verifies, but with a key the genesis does not list for ' + record.author + ' (a later key: this page does not read governance records)');
      }
      var proof = state.proof;
      if (proof.record !== recordId || proof.org !== record.author || proof.index !== record.seq) {
        throw new Failed('the proof is of another record or position');
      }
      if (typeof proof.checkpoint !== 'string') {
        throw new Unchecked('the record\'s id and signature verify, but its place in ' + record.author + '\'s chain was not checked (this server serves no checkpoint of ' + record.author + '\'s chain that covers it: a node publishes its own organisation\'s and those witnesses cosigned)');
      }
      if (!Array.isArray(proof.inclusion)) { throw new Failed('the proof holds no inclusion path'); }
      return Promise.all([
        openCheckpoint(proof.checkpoint, state.network, record.author, state.keys),
        sha256(new Uint8Array([0]), fromHex(recordId)).then(function (leaf) {
          return inclusionRoot(leaf, proof.index, proof.size, proof.inclusion.map(fromHex));
        })
      ]);
    }).then(function (opened) {
      var checkpoint = opened[0];
      if (checkpoint.size !== state.proof.size) {
        throw new Failed('the proof is at size ' + state.proof.size + ', the checkpoint at ' + checkpoint.size);
      }
      if (!equal(opened[1], checkpoint.root)) {
        throw new Failed('the inclusion proof does not lead to the root of the checkpoint ' + state.record.author + ' signed');
      }
      if (trust) {
        try { window.localStorage.setItem(STORED_NETWORK, trust.id); } catch (e) { /* private mode: nothing kept */ }
      }
      return { trust: trust, network: state.network, record: state.record, checkpoint: checkpoint };
    });
  }

  // The line the page gains, after its status line.
  var line = document.createElement('p');
  line.id = 'verify-browser';
  line.className = 'note';
  line.setAttribute('aria-live', 'polite');
  line.textContent = 'Checking this record in your browser…';
  var heading = document.querySelector('main h1') || document.querySelector('h1');
  var anchor = heading && heading.nextElementSibling && heading.nextElementSibling.tagName === 'P' ? heading.nextElementSibling : heading;
  if (!anchor || !anchor.parentNode) { return; }
  anchor.parentNode.insertBefore(line, anchor.nextSibling);

  function say(className, verdict, rest) {
    line.className = className;
    line.textContent = '';
    var strong = document.createElement('strong');
    strong.id = 'verify-verdict';
    strong.textContent = verdict;
    line.appendChild(strong);
    line.appendChild(document.createTextNode(' ' + rest));
    line.setAttribute('data-verdict', className === 'note' ? 'verified' : (className === 'warn' ? 'failed' : 'unchecked'));
  }

  check().then(function (done) {
    var r = done.record;
    var what = 'the record\'s id and body hash, ' + r.author + '\'s signature with key ' + hex(r.key).slice(0, 16) +
      '… (a key the genesis lists for it), and its place at position ' + r.seq + ' of the ' + done.checkpoint.size +
      ' records of the checkpoint ' + r.author + ' signed (root ' + hex(done.checkpoint.root).slice(0, 16) + '…). ' +
      'Witnesses\' cosignatures were not checked: aidledger verify --proof with --witness-key checks them.';
    if (done.trust) {
      say('note', 'Verified in your browser', 'against network ' + done.network + ', the network id from ' + done.trust.from + ': ' + what);
    } else {
      say('note', 'Verified in your browser', 'against network ' + done.network + ', which is only what this server itself claims (the genesis it serves). To check against a network id you trust, got from a member organisation, open this page with #network=ID at the end of its address. Checked: ' + what);
    }
  }, function (error) {
    if (error instanceof Failed) {
      say('warn', 'NOT VERIFIED in your browser:', error.message + '. This server sent data that does not check out; do not rely on this page, and check the record offline with the commands below.');
    } else if (error instanceof Unchecked) {
      say('muted', 'Not fully checked in your browser:', error.message + '.');
    } else {
      say('muted', 'Not checked in your browser:', String(error && error.message || error) + '.');
    }
  });

  // For tests and for anyone checking this script against FORMAT.md's vectors in a console.
  window.aidledgerVerify = { inclusionRoot: inclusionRoot, origin: origin, hex: hex, fromHex: fromHex, sha256: sha256 };
}());
