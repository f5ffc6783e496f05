// "Is this genuine?" (/genuine): computes a text's two fingerprints in the reader's browser
// and asks the node with only those, so that the text need not leave the reader's machine.
// The normalisation is FORMAT.md's appendix "Text fingerprints", the same as
// aidledger_view::genuine::normalise (its golden vectors: spec/vectors/text-fingerprints.json).
// Without crypto.subtle (a page not served over https or localhost) the plain form is left
// alone: it sends the text and the node computes the same fingerprints.
(function () {
  'use strict';
  var form = document.getElementById('genuine-form');
  var textArea = document.getElementById('genuine-text');
  var stored = null;
  try {
    stored = window.sessionStorage.getItem('genuine-text');
  } catch (e) {
    stored = null;
  }
  // On an answer page reached with the fingerprints only, offer the text again (from this
  // tab's own storage) for the button that sends it.
  var resend = document.getElementById('genuine-resend-text');
  if (resend && !resend.value && stored !== null) {
    resend.value = stored;
  }
  if (!form || !textArea || !window.crypto || !window.crypto.subtle || !window.TextEncoder) {
    return;
  }
  if (!textArea.value && stored !== null && window.location.search.indexOf('sha256=') >= 0) {
    textArea.value = stored;
  }

  // Unicode White_Space (25 code points), as in the Rust code: not the regex \s, whose list differs.
  function isWhiteSpace(code) {
    return (code >= 0x09 && code <= 0x0d) || code === 0x20 || code === 0x85 || code === 0xa0 ||
      code === 0x1680 || (code >= 0x2000 && code <= 0x200a) || code === 0x2028 ||
      code === 0x2029 || code === 0x202f || code === 0x205f || code === 0x3000;
  }
  function trimEnd(text) {
    var end = text.length;
    while (end > 0 && isWhiteSpace(text.charCodeAt(end - 1))) { end -= 1; }
    return text.slice(0, end);
  }
  function trimStart(text) {
    var start = 0;
    while (start < text.length && isWhiteSpace(text.charCodeAt(start))) { start += 1; }
    return text.slice(start);
  }
  function normalise(text) {
    if (text.charCodeAt(0) === 0xfeff) { text = text.slice(1); }
    text = text.normalize('NFC').replace(/\r\n/g, '\n').replace(/\r/g, '\n');
    text = text.split('\n').map(trimEnd).join('\n');
    return trimStart(trimEnd(text));
  }
  function hex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return (b < 16 ? '0' : '') + b.toString(16);
    }).join('');
  }
  function sha256(bytes) {
    return window.crypto.subtle.digest('SHA-256', bytes).then(hex);
  }

  // For tests and for anyone checking this script against the golden vectors
  // (spec/vectors/text-fingerprints.json) in their own browser's console.
  window.aidledgerGenuine = {
    normalise: normalise,
    fingerprints: function (bytes) {
      var text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
      return Promise.all([sha256(bytes), sha256(new TextEncoder().encode(normalise(text)))]);
    }
  };

  // A picked file is read here: its exact bytes give the exact fingerprint.
  var fileBox = document.getElementById('genuine-file');
  var fileInput = document.getElementById('genuine-file-input');
  var fileBytes = null;
  if (fileBox && fileInput) {
    fileBox.hidden = false;
    fileInput.addEventListener('change', function () {
      var file = fileInput.files && fileInput.files[0];
      if (!file) { return; }
      file.arrayBuffer().then(function (buffer) {
        var text;
        try {
          text = new TextDecoder('utf-8', { fatal: true }).decode(buffer);
        } catch (e) {
          window.alert('This file is not UTF-8 text.');
          return;
        }
        textArea.value = text;
        fileBytes = new Uint8Array(buffer);
      });
    });
  }
  textArea.addEventListener('input', function () { fileBytes = null; });

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    var text = textArea.value;
    var encoder = new TextEncoder();
    var exact = fileBytes || encoder.encode(text);
    Promise.all([sha256(exact), sha256(encoder.encode(normalise(text)))]).then(function (prints) {
      try {
        window.sessionStorage.setItem('genuine-text', text);
      } catch (e) {
        // Without storage the answer page asks for the text again, if it needs it.
      }
      var org = document.getElementById('genuine-org');
      var query = '?sha256=' + prints[0] + '&normalised=' + prints[1];
      if (org && org.value) { query += '&org=' + encodeURIComponent(org.value); }
      window.location.assign('/genuine' + query);
    }, function () {
      form.submit();
    });
  });
}());
