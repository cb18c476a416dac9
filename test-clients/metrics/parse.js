// Reads a Prometheus text exposition on stdin and prints the metric families that the third-party
// parser parse-prometheus-text-format finds in it, as one JSON array on stdout.
const parse = require('parse-prometheus-text-format');

let input = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => { input += chunk; });
process.stdin.on('end', () => {
  process.stdout.write(JSON.stringify(parse(input)) + '\n');
});
