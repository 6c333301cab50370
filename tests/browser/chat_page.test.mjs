// The chat page (GET /) in headless Chromium against the real service and
// the fake upstream. Every wait is on a condition in the page, never a sleep.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { chromium } from 'playwright-core';
import { children, env, fakeLlm, fakeStats, service, until } from '../support/processes.mjs';

// Scripted answer: citations, a paragraph break, a single line break, and
// markup that must stay text.
const DELTAS = [
  'Sidechain', ' the bass', ' to the kick [1].', '\n\nThen set', ' the release',
  ' by ear [2] [12].', '\nA new line', ' <img src=x onerror="window.__pwned=1">', ' done.',
];
const ANSWER = DELTAS.join('');

let browser;
let page;
let base;      // the service answering at 60 ms per token
let fastLlm;
let slowBase;  // the service whose answers take 20 s
let slowLlm;
let midBase;   // the service whose answers take 3 s (60 tokens, 50 ms apart)
let midLlm;
const pageErrors = [];

before(async () => {
  [fastLlm, slowLlm, midLlm] = await Promise.all([
    fakeLlm(['--deltas', JSON.stringify(DELTAS), '--gap-ms', '60', '--fail-on', 'EXPLODE']),
    fakeLlm(['--tokens', '200', '--gap-ms', '100']),
    fakeLlm(['--tokens', '60', '--gap-ms', '50']),
  ]);
  [base, slowBase, midBase] = await Promise.all([
    service(fastLlm),
    service(slowLlm),
    service(midLlm),
  ]);
  browser = await chromium.launch({ executablePath: env('CHROMIUM'), args: ['--no-sandbox'] });
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
});

after(async () => {
  await browser?.close();
  for (const c of children) c.kill('SIGTERM');
});

const lastTurn = '.turn:last-of-type';

// A TCP proxy to `target` whose open connections the test can cut, as a
// network that drops does; it keeps accepting new ones.
async function cuttableProxy(target) {
  const { port } = new URL(target);
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(port), '127.0.0.1');
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    cut: () => sockets.forEach((s) => s.destroy()),
    close: () => server.close(),
  };
}

// The answer as the page shows it, once some of it is there.
async function someText() {
  await page.waitForFunction(
    (sel) => (document.querySelector(sel)?.querySelector('.answer')?.textContent ?? '').length > 0,
    lastTurn,
  );
  return page.textContent(`${lastTurn} .answer`);
}

// What the service saved as the answer of the page's conversation.
async function savedAnswer(serviceUrl) {
  const id = await page.evaluate(() => JSON.parse(sessionStorage.getItem('chrysopedia.conversation')));
  const conv = await (await fetch(`${serviceUrl}/api/v1/conversations/${id}`)).json();
  return conv.messages.at(-1).content;
}

async function ask(question, creator = '') {
  await page.fill('#query', question);
  await page.fill('#creator', creator);
  await page.click('#send');
}

async function waitState(states, ms = 10000) {
  await page.waitForFunction(
    ([sel, want]) => want.includes(document.querySelector(sel)?.dataset.state),
    [lastTurn, states],
    { timeout: ms },
  );
}

describe('the chat page', () => {
  test('is served from the binary with a content security policy', async () => {
    const response = await page.goto(`${base}/`);
    assert.equal(response.status(), 200);
    const h = response.headers();
    assert.match(h['content-type'], /^text\/html/);
    assert.ok(h['cache-control'], 'a Cache-Control header');
    assert.match(h['content-security-policy'], /script-src 'self'/);
    await page.waitForSelector('#query');
    assert.equal(await page.title(), 'Chrysopedia');
  });

  test('streams the answer progressively, paragraphs intact, citations linked', async () => {
    await ask('how do I sidechain compression on a bass?');
    // Seen part-way: some text is there and the answer is not finished.
    const partial = await page.waitForFunction(
      (sel) => {
        const turn = document.querySelector(sel);
        const text = turn?.querySelector('.answer')?.textContent ?? '';
        return turn?.dataset.state === 'streaming' && text.length > 0 ? text : null;
      },
      lastTurn,
      { timeout: 10000 },
    );
    const partialText = await partial.jsonValue();
    await waitState(['done']);
    const paragraphs = await page.$$eval(`${lastTurn} .answer p`, (ps) =>
      ps.map((p) => p.textContent),
    );
    assert.ok(partialText.length < ANSWER.length, `streamed, first seen: ${partialText}`);
    assert.deepEqual(paragraphs, ANSWER.split('\n\n'));
    assert.ok(paragraphs[1].includes('\nA new line'), 'a single line break survives');

    // The model's markup stayed text.
    assert.equal(await page.$$eval(`${lastTurn} .answer img`, (x) => x.length), 0);
    assert.equal(await page.evaluate(() => window.__pwned), undefined);

    const sources = await page.$$eval(`${lastTurn} .sources li`, (lis) =>
      lis.map((li) => ({ id: li.id, text: li.textContent })),
    );
    assert.ok(sources.length >= 2, 'sources listed');
    assert.equal(sources[0].id, 't1-source-1');
    const links = await page.$$eval(`${lastTurn} .answer a.cite`, (as) =>
      as.map((a) => ({ text: a.textContent, href: a.getAttribute('href') })),
    );
    assert.deepEqual(links, [
      { text: '[1]', href: '#t1-source-1' },
      { text: '[2]', href: '#t1-source-2' },
    ]);
    // Each link's target exists, and names title and creator.
    for (const l of links) {
      const target = await page.$(l.href);
      assert.ok(target, `${l.href} exists`);
      const text = await target.textContent();
      assert.ok(text.includes('·'), `creator shown: ${text}`);
    }
    // A number that names no source is marked, not linked.
    const invalid = await page.$$eval(`${lastTurn} .answer span.cite.invalid`, (s) =>
      s.map((x) => x.textContent),
    );
    assert.deepEqual(invalid, ['[12]']);
    await page.click(`${lastTurn} a.cite >> nth=1`);
    assert.equal(await page.evaluate(() => location.hash), '#t1-source-2');
  });

  test('the next question continues the conversation', async () => {
    const request = page.waitForRequest((r) => r.url().endsWith('/api/v1/chat'));
    await ask('and the release time?', 'Kara Lindqvist');
    const body = (await request).postDataJSON();
    assert.equal(body.creator, 'Kara Lindqvist');
    assert.match(body.conversation_id, /^[0-9a-f-]{36}$/, 'the id from the first done');
    await waitState(['done']);
    const conv = await (await fetch(`${base}/api/v1/conversations/${body.conversation_id}`)).json();
    assert.equal(conv.messages.length, 4);
    assert.equal(conv.messages[0].content, 'how do I sidechain compression on a bass?');
    assert.equal(conv.messages[2].content, 'and the release time?');
    const stats = await fakeStats(fastLlm);
    const sent = JSON.parse(stats.request_bodies.at(-1));
    assert.equal(sent.messages.length, 4, 'system, remembered turn, question');
  });

  test('an error event is shown', async () => {
    await ask('please EXPLODE now');
    await waitState(['error']);
    const error = await page.textContent(`${lastTurn} .error`);
    assert.match(error, /LLM generation failed/);
  });

  test('an HTTP error is shown with its message', async () => {
    await ask('x'.repeat(2001));
    await waitState(['error']);
    assert.match(await page.textContent(`${lastTurn} .error`), /2000/);
  });

  test('a network failure is shown', async () => {
    await page.route('**/api/v1/chat', (route) => route.abort('connectionrefused'));
    await ask('sidechain');
    await waitState(['error']);
    assert.match(await page.textContent(`${lastTurn} .error`), /could not be reached/);
    await page.unroute('**/api/v1/chat');
  });

  test('stop asks the server to end the answer, which closes the upstream and keeps the text', async () => {
    await page.goto(`${slowBase}/`);
    await ask('sidechain');
    await someText();
    const before = (await fakeStats(slowLlm)).connections_closed_by_client;
    assert.equal(await page.isEnabled('#stop'), true);
    const stopRequest = page.waitForRequest((r) => /\/api\/v1\/chat\/streams\/[0-9a-f]{32}\/stop$/.test(r.url()));
    await page.click('#stop');
    assert.equal((await stopRequest).method(), 'POST');
    await waitState(['stopped']);
    assert.match(await page.textContent(`${lastTurn} .note`), /Stopped/);
    // The answer would take 20 s; the upstream is closed within about one.
    await until(
      'the service to close the upstream',
      async () => (await fakeStats(slowLlm)).connections_closed_by_client > before,
      2000,
    );
    assert.equal(await page.isEnabled('#send'), true);
    // What the page shows is what the service saved: the turn so far.
    const shown = await page.textContent(`${lastTurn} .answer`);
    assert.ok(shown.length > 0);
    assert.equal(await savedAnswer(slowBase), shown);
  });

  test('a reload during an answer picks it up and follows it to the end', async () => {
    await page.goto(`${midBase}/`);
    await ask('sidechain');
    const before = await someText();
    await page.reload();
    await page.waitForSelector(lastTurn);
    assert.equal(await page.textContent(`${lastTurn} .question`), 'sidechain');
    await waitState(['done']);
    const shown = await page.textContent(`${lastTurn} .answer`);
    assert.ok(shown.startsWith(before), `${shown} continues ${before}`);
    assert.equal(shown, await savedAnswer(midBase), 'the whole answer, each token once');
    assert.ok((await page.$$eval(`${lastTurn} .sources li`, (l) => l.length)) > 0, 'sources too');
    // The next question continues the same conversation.
    const request = page.waitForRequest((r) => r.url().endsWith('/api/v1/chat'));
    await ask('and the release?');
    assert.match((await request).postDataJSON().conversation_id, /^[0-9a-f-]{36}$/);
    await waitState(['done']);
  });

  test('a dropped connection resumes by itself where it broke', async () => {
    const proxy = await cuttableProxy(midBase);
    try {
      await page.goto(`${proxy.url}/`);
      await page.click('#new');
      await ask('sidechain');
      await someText();
      const resumed = page.waitForRequest((r) => /\/api\/v1\/chat\/streams\/[0-9a-f]{32}$/.test(r.url()));
      proxy.cut();
      const request = await resumed;
      assert.match(request.headers()['last-event-id'] ?? '', /^[0-9a-f]{32}-\d+$/);
      await waitState(['done']);
      assert.equal(
        await page.textContent(`${lastTurn} .answer`),
        await savedAnswer(midBase),
        'the whole answer, each token once',
      );
    } finally {
      proxy.close();
    }
  });

  test('with API keys on, the page asks with the key typed into it', async () => {
    const key = 'page-key-0123456789abcdef';
    const keyed = await service(fastLlm, { CHAT_API_KEYS: key });
    await page.goto(`${keyed}/`);
    await ask('sidechain');
    await waitState(['error']);
    assert.match(await page.textContent(`${lastTurn} .error`), /needs a key/);
    await page.fill('#apikey', key);
    await ask('sidechain');
    await waitState(['done']);
    assert.match(await page.textContent(`${lastTurn} .answer`), /\S/);
  });

  test('nothing went wrong in the page itself', () => {
    // The refused connection of the network-failure case is the one expected error.
    const unexpected = pageErrors.filter((e) => !/ERR_CONNECTION_REFUSED|Failed to load resource/.test(e));
    assert.deepEqual(unexpected, []);
  });
});
