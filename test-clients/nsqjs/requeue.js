'use strict'
// A consumer that never gets a message right: every message it receives is REQ'd at once (nsqjs's
// msg.requeue(0, false), no backoff), forever. Prints one JSON line per delivery,
// {"event":"message","body":...,"attempts":...}, and after --for seconds a summary, then exits 0.
const nsq = require('nsqjs')
const parseArgs = require('./args')

const o = parseArgs(process.argv.slice(2), {host: '127.0.0.1', port: 4150, topic: 'test', channel: 'ch', for: 5})

let received = 0
const r = new nsq.Reader(o.topic, o.channel, {nsqdTCPAddresses: [`${o.host}:${o.port}`], maxInFlight: 10, clientId: 'jnsq-e2e-requeuer'})
r.on('error', (err) => console.error(`reader error: ${err}`))
r.on('nsqd_connected', () => console.log(JSON.stringify({event: 'connected'})))
r.on('message', (msg) => {
  received++
  console.log(JSON.stringify({event: 'message', body: msg.body.toString(), id: msg.id, attempts: msg.attempts}))
  msg.requeue(0, false)
})
r.connect()
setTimeout(() => {
  console.log(JSON.stringify({event: 'summary', received}))
  r.close()
  setTimeout(() => process.exit(0), 300)
}, o.for * 1000)
