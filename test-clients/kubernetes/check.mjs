// Validates every document of the Kubernetes manifests named on the command line against Kubernetes'
// OpenAPI schemas, with the kubernetes-models package (one model class per apiVersion and kind).
// Prints one JSON line per document, {"event":"valid"|"invalid","file","kind","name","errors"}, and a
// summary; exits 1 if any document is invalid or of a kind the package does not know. With --commands it
// also prints each workload container's command and args: {"event":"command","kind","name","command","args"}.
import { readFileSync } from 'node:fs'
import { parseAllDocuments } from 'yaml'

let bad = 0
let checked = 0
const commands = process.argv.includes('--commands')
for (const file of process.argv.slice(2).filter(a => !a.startsWith('--'))) {
  for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
    if (doc.errors.length > 0) {
      bad++
      console.log(JSON.stringify({ event: 'invalid', file, errors: doc.errors.map(String) }))
      continue
    }
    const obj = doc.toJS()
    if (obj == null) continue
    const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : [null, obj.apiVersion]
    const path = `kubernetes-models/${group ? group + '/' : ''}${version}/${obj.kind}`
    const name = obj.metadata && obj.metadata.name
    checked++
    try {
      const mod = await import(path)
      new mod[obj.kind](obj).validate()
      console.log(JSON.stringify({ event: 'valid', file, kind: obj.kind, name }))
      const containers = obj.spec && obj.spec.template && obj.spec.template.spec && obj.spec.template.spec.containers
      if (commands && containers) {
        for (const c of containers) console.log(JSON.stringify({ event: 'command', kind: obj.kind, name: c.name, command: c.command || [], args: c.args || [] }))
      }
    } catch (e) {
      bad++
      console.log(JSON.stringify({ event: 'invalid', file, kind: obj.kind, name, errors: String(e.message || e) }))
    }
  }
}
console.log(JSON.stringify({ event: 'summary', checked, invalid: bad }))
process.exit(bad === 0 && checked > 0 ? 0 : 1)
