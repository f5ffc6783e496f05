// Hypercore 11's durable appends (bench/peers, issue 22), in this process on a fresh core in a
// temporary directory:
//   node append.js --mode single --count 2000    one append() of one ~400 B block, then the
//                                                 durable step, one at a time: ops/s, p50, p99
//   node append.js --mode batch --batches 400    append() of 256 blocks at once, then the
//                                                 durable step: entries/s (and p50/p99 per batch)
// --durable wal|cf-flush|none chooses the durable step (common.js, Durability; default wal).
// --batch N changes the 256. Prints `RESULT name value unit` lines.
'use strict'

const fs = require('fs')
const os = require('os')
const path = require('path')
const Hypercore = require('hypercore')
const { block, args, percentile, result, Durability } = require('./common')

async function main() {
  const opts = args()
  const mode = opts.mode || 'single'
  const durable = opts.durable || 'wal'
  const perBatch = mode === 'single' ? 1 : Number(opts.batch || 256)
  const calls = mode === 'single' ? Number(opts.count || 2000) : Number(opts.batches || 400)
  if (!(perBatch > 0 && calls > 0)) throw new Error('--count, --batch and --batches must be > 0')

  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'peers-append-'))
  const core = new Hypercore(dir)
  try {
    await core.ready()
    const durability = new Durability(core, durable)
    // The blocks are made before the clock starts (the Rust bench encodes its bodies inside
    // its loop, but that costs microseconds against its HTTP round trip and fsync).
    const batches = []
    for (let c = 0; c < calls; c++) {
      const blocks = []
      for (let b = 0; b < perBatch; b++) blocks.push(block(c * perBatch + b))
      batches.push(mode === 'single' ? blocks[0] : blocks)
    }

    const latencies = new Array(calls)
    const started = process.hrtime.bigint()
    for (let c = 0; c < calls; c++) {
      const one = process.hrtime.bigint()
      await core.append(batches[c])
      await durability.sync()
      latencies[c] = Number(process.hrtime.bigint() - one) / 1e6
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9
    durability.close()
    if (core.length !== calls * perBatch) {
      throw new Error(`core has ${core.length} blocks, expected ${calls * perBatch}`)
    }

    latencies.sort((a, b) => a - b)
    const p50 = percentile(latencies, 0.5).toFixed(3)
    const p99 = percentile(latencies, 0.99).toFixed(3)
    if (mode === 'single') {
      result('append_single_ops', (calls / seconds).toFixed(0), 'ops/s')
      result('append_single_p50', p50, 'ms')
      result('append_single_p99', p99, 'ms')
    } else {
      result('append_batch_entries', ((calls * perBatch) / seconds).toFixed(0), 'entries/s')
      result('append_batch_call_p50', p50, 'ms')
      result('append_batch_call_p99', p99, 'ms')
    }
    console.log(
      `hypercore append: mode ${mode}, ${calls} append() calls of ${perBatch} block(s), durable step ${durable}, ${seconds.toFixed(2)} s, ${dir}`
    )
  } finally {
    await core.close()
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
