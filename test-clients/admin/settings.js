// Drives the admin UI's settings, rewind and dead-letter parts in headless Chromium for the JUnit test
// AdminSettingsUiTest. Prints one JSON object per line:
//   {"event":"saved","what":...}           a settings form was submitted and confirmed, and the page said Done
//   {"event":"rewound"}                    the rewind form, likewise
//   {"event":"letters","rows":[...]}       the dead-letter table's rows (text of each cell)
//   {"event":"moved-back"}                 after "Move back" on the first letter (with confirmation)
//   {"event":"console-error","text":...}   any console error or page error (the test fails on them)
// Usage: node settings.js --admin URL --topic T --channel C --dlq D --mode settings|letters
'use strict';
const { chromium } = require('playwright-core');

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  if (i < 0) return fallback;
  const v = process.argv[i + 1];
  return v === undefined || v.startsWith('--') ? true : v;
}
const print = o => process.stdout.write(JSON.stringify(o) + '\n');

async function open(page, url, selector) {
  await page.goto(url, { waitUntil: 'load' });
  await page.selectOption('#refresh', '0');
  await page.waitForLoadState('networkidle');
  await page.waitForSelector(selector);
}

async function confirmAndWait(page) {
  await page.waitForSelector('#confirm[open]');
  await page.click('#confirm-ok');
  await page.waitForFunction(() => /^Done/.test(document.getElementById('status').textContent), null, { timeout: 15000 });
  await page.waitForLoadState('networkidle');   // the redraw that follows an action is done
  await page.waitForTimeout(200);
}

async function main() {
  const admin = arg('admin');
  const topic = arg('topic');
  const channel = arg('channel');
  const dlq = arg('dlq');
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1360, height: 1000 } });
    page.on('console', m => { if (m.type() === 'error') print({ event: 'console-error', text: m.text() }); });
    page.on('pageerror', e => print({ event: 'console-error', text: String(e) }));
    const topicUrl = t => `${admin}/topics/${encodeURIComponent(t)}`;
    if (arg('mode') === 'settings') {
      await open(page, topicUrl(topic), '#topic-settings');
      await page.fill('#set-retention', '2h');
      await page.fill('#set-max_messages', '1000');
      await page.click('button[data-action="save-topic-settings"]');
      await confirmAndWait(page);
      print({ event: 'saved', what: 'topic' });

      await open(page, `${topicUrl(topic)}/${encodeURIComponent(channel)}`, '#channel-settings');
      await page.fill('#set-max_attempts', '3');
      await page.fill('#set-dead_letter_topic', dlq);
      await page.fill('#set-message_ttl', '1h');
      await page.click('button[data-action="save-channel-settings"]');
      await confirmAndWait(page);
      print({ event: 'saved', what: 'channel' });

      await page.fill('#rewind-to', 'earliest');
      await page.click('button[data-action="rewind"]');
      await confirmAndWait(page);
      print({ event: 'rewound' });
    } else {
      await open(page, topicUrl(dlq), 'button[data-action="browse-letters"]');
      await page.click('button[data-action="browse-letters"]');
      await page.waitForSelector('#letters tr.letter');
      const rows = await page.$$eval('#letters tr.letter', trs => trs.map(tr => [...tr.querySelectorAll('td')].map(td => td.textContent.trim())));
      print({ event: 'letters', rows });
      await page.click('#letters button[data-requeue]');
      await confirmAndWait(page);
      print({ event: 'moved-back' });
    }
  } finally {
    await browser.close();
  }
}

main().catch(e => {
  process.stderr.write(String(e && e.stack || e) + '\n');
  process.exit(1);
});
