// Shared by append.js and replicate.js (bench/peers, issue 22): the blocks, the percentiles,
// the command line and the durability step of the Hypercore side.
'use strict'

const fs = require('fs')
const path = require('path')

/// About the size of a small transaction record (node/benches/durable_append.rs: VALUE_BYTES).
const BLOCK_BYTES = 400

/// Block `index`: its number, then pseudo-random hex (xorshift32 seeded by the index), so that
/// no two blocks are equal and RocksDB's compression has no easy run of one byte.
function block(index) {
  const head = Buffer.from(`${String(index).padStart(10, '0')} `)
  const out = Buffer.alloc(BLOCK_BYTES)
  head.copy(out)
  let x = (index * 2654435761 + 1) >>> 0 || 1
  const hex = '0123456789abcdef'
  for (let i = head.length; i < BLOCK_BYTES; i++) {
    x ^= x << 13
    x >>>= 0
    x ^= x >>> 17
    x ^= x << 5
    x >>>= 0
    out[i] = hex.charCodeAt(x & 15)
  }
  return out
}

/// `--name value` pairs into an object (values stay strings).
function args(argv = process.argv.slice(2)) {
  const out = {}
  for (let i = 0; i < argv.length; i++) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`)
    out[argv[i].slice(2)] = argv[i + 1]
    i++
  }
  return out
}

/// The value at `fraction` of the sorted samples, chosen as node/benches/durable_append.rs does.
function percentile(sorted, fraction) {
  return sorted[Math.min(Math.floor(sorted.length * fraction), sorted.length - 1)]
}

/// A machine-readable line for bench/peers/run.
function result(name, value, unit) {
  console.log(`RESULT ${name} ${value} ${unit}`)
}

/// Peak resident memory of this process in MiB, from /proc (VmHWM), else from getrusage.
function peakRssMib() {
  try {
    const status = fs.readFileSync('/proc/self/status', 'utf8')
    const line = status.split('\n').find((l) => l.startsWith('VmHWM:'))
    if (line) return parseInt(line.slice(6), 10) / 1024
  } catch {}
  return process.resourceUsage().maxRSS / 1024
}

/// Makes what `core.append` wrote durable. Hypercore 11 itself never calls fsync: its storage
/// (hypercore-storage on rocksdb-native) writes every batch with RocksDB's default
/// WriteOptions (sync = false), so an append is in RocksDB's write-ahead log (written with
/// write(2)) but not on disk when `append()` resolves. Modes:
///   wal      - fdatasync of RocksDB's current WAL file (rocks.currentWalFile()), which holds
///              every acknowledged write; the previous WAL file too when RocksDB switched to a
///              new one since the last call, and the db directory then (the new file's entry).
///              The cheapest durable step this storage allows; the default.
///   cf-flush - RocksDB Flush of the `corestore` column family (core.core.db.db.flush()):
///              memtable to a new SST file, fdatasync'd, MANIFEST fsync'd, closed WALs synced.
///              Durable but writes one SST file per call.
///   none     - nothing (the page cache only), for reference.
/// (hypercore-storage's own `CorestoreStorage.flush()` flushes RocksDB's *default* column
/// family, which hypercore leaves empty, so it syncs nothing: not a durable step.)
class Durability {
  constructor(core, mode) {
    if (!['wal', 'cf-flush', 'none'].includes(mode)) throw new Error(`unknown --durable ${mode}`)
    this.mode = mode
    this.storage = core.core.db // hypercore-storage's CorestoreStorage
    this.rocks = this.storage.rocks // rocksdb-native's RocksDB, default column family
    this.walNumber = -1
    this.walFd = -1
  }

  async sync() {
    if (this.mode === 'none') return
    if (this.mode === 'cf-flush') {
      await this.storage.db.flush()
      return
    }
    const wal = await this.rocks.currentWalFile()
    if (wal.number !== this.walNumber) {
      if (this.walFd >= 0) {
        fs.fdatasyncSync(this.walFd)
        fs.closeSync(this.walFd)
      }
      this.walFd = fs.openSync(path.join(this.rocks.path, wal.path), 'r')
      this.walNumber = wal.number
      const dir = fs.openSync(this.rocks.path, 'r')
      fs.fsyncSync(dir)
      fs.closeSync(dir)
    }
    fs.fdatasyncSync(this.walFd)
  }

  close() {
    if (this.walFd >= 0) fs.closeSync(this.walFd)
    this.walFd = -1
  }
}

module.exports = { BLOCK_BYTES, block, args, percentile, result, peakRssMib, Durability }
