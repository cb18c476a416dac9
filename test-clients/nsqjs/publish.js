'use strict'
// Publishes --count messages "<prefix>-<i>" to --topic with nsqjs's Writer: singles (PUB) and arrays of
// --batch (MPUB), plus --deferred messages with deferPublish (DPUB; nsqjs 0.13 wants its message wrapped
// in an array). Prints one JSON summary line and
// exits 0 once every publish was acknowledged; exits 1 on any error or after --timeout seconds.
const nsq = require('nsqjs')
const parseArgs = require('./args')

const o = parseArgs(process.argv.slice(2), {
  host: '127.0.0.1', port: 4150, topic: 'test', count: 10, batch: 50, prefix: 'msg',
  deferred: 0, 'defer-ms': 500, timeout: 60, 'auth-secret': '', snappy: false, deflate: false, 'deflate-level': 6, tls: false,
})

const fail = (err) => {
  console.error(`publish failed: ${err && err.stack ? err.stack : err}`)
  process.exit(1)
}
setTimeout(() => fail(`timed out after ${o.timeout}s`), o.timeout * 1000).unref()

const wopts = {clientId: 'jnsq-e2e-writer'}
if (o['auth-secret']) wopts.authSecret = o['auth-secret']   // sends AUTH after IDENTIFY
if (o.snappy) wopts.snappy = true
if (o.tls) Object.assign(wopts, {tls: true, tlsVerification: false})   // test certificates are self-signed
if (o.deflate) Object.assign(wopts, {deflate: true, deflateLevel: o['deflate-level']})
const w = new nsq.Writer(o.host, o.port, wopts)
w.on('error', fail)
w.on('ready', () => {
  const jobs = []
  let i = 0
  while (i < o.count) {
    if (i % 7 === 0) {
      const body = `${o.prefix}-${i++}`
      jobs.push(new Promise((res, rej) => w.publish(o.topic, body, (e) => (e ? rej(e) : res(1)))))
    } else {
      const batch = []
      while (batch.length < o.batch && i < o.count) batch.push(`${o.prefix}-${i++}`)
      jobs.push(new Promise((res, rej) => w.publish(o.topic, batch, (e) => (e ? rej(e) : res(batch.length)))))
    }
  }
  for (let d = 0; d < o.deferred; d++) {
    const body = `${o.prefix}-deferred-${d}`
    jobs.push(new Promise((res, rej) => w.deferPublish(o.topic, [body], o['defer-ms'], (e) => (e ? rej(e) : res(1)))))
  }
  Promise.all(jobs).then((counts) => {
    const published = counts.reduce((a, b) => a + b, 0)
    console.log(JSON.stringify({event: 'published', published, commands: jobs.length}))
    w.close()
    process.exit(0)
  }, fail)
})
w.connect()
