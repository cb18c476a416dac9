'use strict'
// Tiny --flag value parser shared by the driver scripts (flags without a value are booleans).
module.exports = function parseArgs(argv, defaults) {
  const out = Object.assign({}, defaults)
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`)
    const key = a.slice(2)
    const next = argv[i + 1]
    if (next === undefined || next.startsWith('--')) {
      out[key] = true
    } else {
      out[key] = typeof defaults[key] === 'number' ? Number(next) : next
      i++
    }
  }
  return out
}
