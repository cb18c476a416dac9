// Drives the jnsq admin UI in Debian's headless Chromium (playwright-core, no downloaded browser) for
// the JUnit test AdminUiTest. Prints one JSON object per line:
//   {"event":"cluster","nodes":[...],"topic":{...}}  the cluster page's nodes and the topic's row
//   {"event":"channel","cards":{...}}      figures of the channel page's cards
//   {"event":"topic","cards":{...},"channels":{name:{...}}}
//   {"event":"paused"}                      after pausing the channel through the page (with confirmation)
//   {"event":"peeked","bodies":[...]}       the bodies the peek table shows
//   {"event":"console-error","text":...}    any console error or page error (the test fails on them)
// Usage: node ui.js --admin http://127.0.0.1:PORT --topic T --channel C --screenshot FILE [--pause] [--peek]
'use strict';
const { chromium } = require('playwright-core');

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
}
const print = o => process.stdout.write(JSON.stringify(o) + '\n');

async function cards(page) {
  return page.$$eval('.card .value[data-field]', els => Object.fromEntries(els.map(e => [e.dataset.field, e.textContent.trim()])));
}

async function main() {
  const admin = arg('admin');
  const topic = arg('topic');
  const channel = arg('channel');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    page.on('console', m => { if (m.type() === 'error') print({ event: 'console-error', text: m.text() }); });
    page.on('pageerror', e => print({ event: 'console-error', text: String(e) }));
    // The cluster page: the nodes and every topic's totals.
    await page.goto(`${admin}/`, { waitUntil: 'load' });
    await page.selectOption('#refresh', '0');
    await page.waitForLoadState('networkidle');
    await page.waitForSelector(`table[aria-label="Topics"] tr[data-topic="${topic}"]`);
    const nodes = await page.$$eval('table[aria-label="Nodes"] tbody tr', rows => rows.map(r => ({
      node: r.dataset.node, health: r.querySelector('.badge').textContent.trim() })));
    const row = await page.$eval(`table[aria-label="Topics"] tr[data-topic="${topic}"]`, r =>
      Object.fromEntries([...r.querySelectorAll('td[data-field]')].map(td => [td.dataset.field, td.textContent.trim()])));
    print({ event: 'cluster', nodes, topic: row });

    // The topic page: cards and the channels table.
    await page.goto(`${admin}/topics/${encodeURIComponent(topic)}`, { waitUntil: 'load' });
    await page.selectOption('#refresh', '0');
    await page.waitForLoadState('networkidle');   // the redraw that choice starts is done
    await page.waitForSelector('table[aria-label="Channels"]');
    const channels = await page.$$eval('table[aria-label="Channels"] tbody tr', rows => Object.fromEntries(rows.map(r =>
      [r.dataset.channel, Object.fromEntries([...r.querySelectorAll('td[data-field]')].map(td => [td.dataset.field, td.textContent.trim()]))])));
    print({ event: 'topic', cards: await cards(page), channels });
    // Rates with few or no readings: the chart says so and the sparklines are flat lines, not dots;
    // the history lives in sessionStorage and survives a reload.
    const history = await page.evaluate(() => ({
      chart: document.querySelector('svg.chart').getAttribute('aria-label'),
      sparkPoints: [...document.querySelectorAll('svg.spark polyline')].map(p => p.getAttribute('points').trim().split(/\s+/).length),
      stored: Object.keys(JSON.parse(sessionStorage.getItem('jnsq-rates') || '{}')).length,
    }));
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('table[aria-label="Channels"]');
    history.storedAfterReload = await page.evaluate(() => Object.keys(JSON.parse(sessionStorage.getItem('jnsq-rates') || '{}')).length);
    print({ event: 'history', ...history });

    // The lookup page.
    await page.goto(`${admin}/lookup`, { waitUntil: 'load' });
    await page.waitForSelector('main h1');
    print({ event: 'lookup', heading: await page.$eval('main h1', h => h.textContent.trim()),
      form: await page.$$eval('#create', f => f.length) });

    // The channel page.
    await page.goto(`${admin}/topics/${encodeURIComponent(topic)}/${encodeURIComponent(channel)}`, { waitUntil: 'load' });
    await page.selectOption('#refresh', '0');
    await page.waitForLoadState('networkidle');   // the redraw that choice starts is done
    await page.waitForSelector('.card .value[data-field="depth"]');
    print({ event: 'channel', cards: await cards(page) });

    if (arg('peek', false)) {
      await page.selectOption('#peek-count', '5');
      await page.click('button[data-action="peek"]');
      await page.waitForSelector('#peek tr.peeked');
      const bodies = await page.$$eval('#peek td.body', tds => tds.map(td => td.textContent));
      print({ event: 'peeked', bodies });
    }
    await page.screenshot({ path: arg('screenshot'), fullPage: true });

    if (arg('pause', false)) {
      await page.click('button[data-action="pause"]');
      await page.waitForSelector('#confirm[open]');
      await page.click('#confirm-ok');
      await page.waitForSelector('h1 .badge.paused', { timeout: 15000 });
      print({ event: 'paused' });
    }
  } finally {
    await browser.close();
  }
}

main().catch(e => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
