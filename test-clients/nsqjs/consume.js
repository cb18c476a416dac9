'use strict'
// Consumes --topic/--channel with --readers nsqjs Readers (one TCP connection each) and prints one JSON
// line per message: {"event":"message","reader":n,"body":...,"id":...,"attempts":...}. Exits 0 with a
// summary line once --expect distinct bodies arrived (every reader FINishes what it gets), or 1 after
// --timeout seconds; before it closes, every message it printed has been FINished (see finish()).
// With --no-fin a reader takes --take messages, stops asking for more (RDY 0) and never answers them,
// so the node must time them out and give them to someone else. With --lookupd host:port the readers
// find nodes through that nsqlookupd HTTP API (polled every second) instead.
const nsq = require('nsqjs')
const parseArgs = require('./args')

const o = parseArgs(process.argv.slice(2), {
  host: '127.0.0.1', port: 4150, topic: 'test', channel: 'ch', readers: 1, expect: 0,
  'max-in-flight': 100, 'msg-timeout': 0, take: 1, timeout: 60, 'no-fin': false, lookupd: '', 'auth-secret': '', snappy: false, deflate: false, 'deflate-level': 6, tls: false,
})

const seen = new Map()
let received = 0
const perReader = new Array(o.readers).fill(0)
const readers = []

// Ending is two steps, so nothing it reported is left unanswered: first RDY 0 on every reader (no more
// deliveries), then, once no message has come for SETTLE_MS (any that were already on the wire are
// reported and FINished too), the one summary line and CLS. nsqjs writes a FIN when msg.finish() is
// called; closing in that same tick used to lose the last FINs, so the next run got them again.
const SETTLE_MS = 300
let ending = null
let lastMessageAt = 0
const finish = (code, why) => {
  if (ending) return
  ending = {code, why}
  for (const r of readers) r.pause()
  const settle = () => {
    if (Date.now() - lastMessageAt < SETTLE_MS) return setTimeout(settle, SETTLE_MS)
    console.log(JSON.stringify({event: 'summary', why, received, distinct: seen.size, perReader}))
    let open = readers.length
    const exit = () => process.exit(code)
    for (const r of readers) {
      r.on('nsqd_closed', () => { if (--open <= 0) setTimeout(exit, 50) })
      r.close()
    }
    setTimeout(exit, 2000).unref()
  }
  setTimeout(settle, SETTLE_MS)
}
setTimeout(() => finish(1, `timed out after ${o.timeout}s`), o.timeout * 1000).unref()

for (let n = 0; n < o.readers; n++) {
  const opts = {maxInFlight: o['max-in-flight'], clientId: `jnsq-e2e-${n}`}
  if (o['auth-secret']) opts.authSecret = o['auth-secret']
  if (o.snappy) opts.snappy = true
  if (o.tls) Object.assign(opts, {tls: true, tlsVerification: false})
  if (o.deflate) Object.assign(opts, {deflate: true, deflateLevel: o['deflate-level']})
  if (o.lookupd) {
    opts.lookupdHTTPAddresses = [o.lookupd]
    opts.lookupdPollInterval = 1
  } else {
    opts.nsqdTCPAddresses = [`${o.host}:${o.port}`]
  }
  if (o['msg-timeout'] > 0) opts.messageTimeout = o['msg-timeout']
  const r = new nsq.Reader(o.topic, o.channel, opts)
  readers.push(r)
  r.on('error', (err) => console.error(`reader ${n} error: ${err}`))
  r.on('nsqd_connected', () => console.log(JSON.stringify({event: 'connected', reader: n})))
  r.on('message', (msg) => {
    const body = msg.body.toString()
    lastMessageAt = Date.now()
    received++
    perReader[n]++
    console.log(JSON.stringify({event: 'message', reader: n, body, id: msg.id, attempts: msg.attempts}))
    if (o['no-fin']) {
      if (perReader[n] >= o.take) {
        r.pause()
        console.log(JSON.stringify({event: 'paused', reader: n, held: perReader[n]}))
      }
      return
    }
    seen.set(body, (seen.get(body) || 0) + 1)
    msg.finish()
    if (o.expect > 0 && seen.size >= o.expect) finish(0, 'all expected messages arrived')
  })
  r.connect()
}
