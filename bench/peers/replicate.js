// Hypercore 11's replication to a fresh reader over loopback TCP (bench/peers, issue 22):
//   node replicate.js --records 1000000
// A writer process fills a core of N ~400 B blocks in a temporary directory (append() of 1,000
// blocks at a time; not timed) and serves it on 127.0.0.1. Then a second process, the reader,
// opens a fresh core by the writer's key in its own temporary directory, connects, and
// downloads blocks 0..N (core.download(...).done()). The time is the parent's, from the
// reader's spawn until the reader reports that it holds all N blocks (contiguousLength == N),
// as node/benches/sync_million.rs times from the fresh node's start; the reader reports its
// own peak RSS (VmHWM). The wire is what core.replicate(isInitiator) makes of a raw stream:
// Noise handshake, then secretstream encryption, then the Hypercore protocol; every block
// arrives with a Merkle proof checked against the writer's signed tree root.
// Prints `RESULT name value unit` lines. --timeout SECONDS (default 1800) bounds the reader.
'use strict'

const fs = require('fs')
const os = require('os')
const net = require('net')
const path = require('path')
const { spawn } = require('child_process')
const { block, args, result, peakRssMib } = require('./common')

/// Blocks per append() while the writer fills its core.
const FILL_BATCH = 1000

async function writer(opts) {
  const Hypercore = require('hypercore')
  const records = Number(opts.records)
  const core = new Hypercore(opts.dir)
  await core.ready()
  const started = Date.now()
  for (let at = 0; at < records; at += FILL_BATCH) {
    const blocks = []
    for (let i = at; i < Math.min(at + FILL_BATCH, records); i++) blocks.push(block(i))
    await core.append(blocks)
  }
  const fillSeconds = (Date.now() - started) / 1000
  const server = net.createServer((socket) => {
    const stream = core.replicate(false)
    stream.pipe(socket).pipe(stream)
    stream.on('error', () => {})
    socket.on('error', () => {})
  })
  server.listen(0, '127.0.0.1', () => {
    const { port } = server.address()
    // One line for the parent: the key, the port, and how long the fill took.
    console.log(`READY ${core.key.toString('hex')} ${port} ${fillSeconds}`)
  })
  // The parent ends this process (SIGTERM) once the reader is done.
  process.on('SIGTERM', () => process.exit(0))
}

async function reader(opts) {
  const Hypercore = require('hypercore')
  const records = Number(opts.records)
  const core = new Hypercore(opts.dir, Buffer.from(opts.key, 'hex'))
  await core.ready()
  const socket = net.connect(Number(opts.port), '127.0.0.1')
  const stream = core.replicate(true)
  stream.pipe(socket).pipe(stream)
  stream.on('error', (error) => console.error('reader stream:', error.message))
  await core.download({ start: 0, end: records }).done()
  if (core.contiguousLength < records) {
    throw new Error(`download done with contiguousLength ${core.contiguousLength} < ${records}`)
  }
  // Reported before the check below, so that the parent's clock stops here.
  console.log(`DONE ${core.length} ${core.contiguousLength} ${peakRssMib().toFixed(1)}`)
  for (const index of [0, Math.floor(records / 2), records - 1]) {
    const got = await core.get(index, { wait: false })
    if (!got || !got.equals(block(index))) throw new Error(`block ${index} differs from the writer's`)
  }
  console.log('CHECKED')
  socket.destroy()
  await core.close()
  process.exit(0)
}

/// Runs this file as `role` in a child process; calls `online(line)` for each stdout line.
function child(role, extra, online) {
  const argv = [__filename, '--role', role]
  for (const [name, value] of Object.entries(extra)) argv.push(`--${name}`, String(value))
  const proc = spawn(process.execPath, argv, { stdio: ['ignore', 'pipe', 'inherit'] })
  let buffered = ''
  proc.stdout.on('data', (data) => {
    buffered += data
    let newline
    while ((newline = buffered.indexOf('\n')) >= 0) {
      online(buffered.slice(0, newline))
      buffered = buffered.slice(newline + 1)
    }
  })
  return proc
}

async function parent(opts) {
  const records = Number(opts.records || 1000000)
  const timeoutSeconds = Number(opts.timeout || 1800)
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'peers-replicate-'))
  let writerProc = null
  let readerProc = null
  try {
    const ready = await new Promise((resolve, reject) => {
      writerProc = child('writer', { records, dir: path.join(root, 'writer') }, (line) => {
        if (line.startsWith('READY ')) resolve(line.split(' ').slice(1))
      })
      writerProc.on('exit', (code) => reject(new Error(`the writer stopped (exit ${code})`)))
    })
    const [key, port, fillSeconds] = ready
    console.log(`hypercore replicate: writer filled ${records} blocks in ${Number(fillSeconds).toFixed(1)} s`)

    const done = await new Promise((resolve, reject) => {
      const started = process.hrtime.bigint()
      let seconds = null
      let reported = null
      const timer = setTimeout(() => reject(new Error(`the reader took more than ${timeoutSeconds} s`)), timeoutSeconds * 1000)
      readerProc = child('reader', { records, key, port, dir: path.join(root, 'reader') }, (line) => {
        if (line.startsWith('DONE ')) {
          seconds = Number(process.hrtime.bigint() - started) / 1e9
          reported = line.split(' ').slice(1).map(Number)
        }
        if (line === 'CHECKED') {
          clearTimeout(timer)
          resolve({ seconds, length: reported[0], contiguous: reported[1], peakMib: reported[2] })
        }
      })
      readerProc.on('exit', (code) => {
        clearTimeout(timer)
        reject(new Error(`the reader stopped (exit ${code}) before it had checked ${records} blocks`))
      })
    })
    result('sync_seconds', done.seconds.toFixed(2), 's')
    result('sync_records_per_s', (records / done.seconds).toFixed(0), 'records/s')
    result('sync_reader_peak_rss', done.peakMib.toFixed(0), 'MiB')
    console.log(
      `hypercore replicate: reader holds ${done.contiguous} contiguous of length ${done.length} after ${done.seconds.toFixed(2)} s`
    )
  } finally {
    for (const proc of [readerProc, writerProc]) {
      if (proc && proc.exitCode === null) {
        proc.removeAllListeners('exit')
        proc.kill('SIGTERM')
        await new Promise((resolve) => proc.once('exit', resolve))
      }
    }
    fs.rmSync(root, { recursive: true, force: true })
  }
}

const opts = args()
const role = opts.role || 'parent'
const run = role === 'writer' ? writer : role === 'reader' ? reader : parent
run(opts).catch((error) => {
  console.error(error)
  process.exit(1)
})
