// The OpenAI-compatible endpoint (SPEC §10) through the clients people use,
// the real packages pinned in package-lock.json: the official `openai` SDK,
// the Vercel AI SDK with its OpenAI-compatible provider, and curl. Each must
// rebuild exactly the text that /api/v1/chat streams for the same question,
// and find the sources where SPEC puts them.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import OpenAI from 'openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, streamText } from 'ai';
import { children, fakeLlm, service } from '../support/processes.mjs';

// Citations, a code span that cites nothing, characters outside ASCII (so
// that code points and UTF-16 units differ: the annotation indices count
// code points), and a line break.
const DELTAS = [
  'Duck the bass', ' under the kick [1].', '\n\nTime the release [1, 2];',
  ' see `v[3]` — café 🎛 [2].',
];
const ANSWER = DELTAS.join('');
const QUESTION = 'how do I sidechain a bass to the kick?';
const KEY = 'ck-clients-test-0123456789abcdef';

let base;       // the service, behind a key
let llm;

before(async () => {
  llm = await fakeLlm(['--deltas', JSON.stringify(DELTAS), '--fail-on', 'EXPLODE']);
  base = await service(llm, { CHAT_API_KEYS: KEY, CHAT_RATE_LIMIT_PER_MINUTE: '0' });
});

after(() => {
  for (const c of children) c.kill('SIGTERM');
});

const openai = () => new OpenAI({ baseURL: `${base}/v1`, apiKey: KEY, maxRetries: 0 });

// What /api/v1/chat streams for a question: its token events' data, joined,
// parsed as the WHATWG event-stream rules say.
async function nativeAnswer(question) {
  const r = await fetch(`${base}/api/v1/chat`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ query: question }),
  });
  const wire = await r.text();
  let text = '';
  let sources = null;
  for (const block of wire.split('\n\n')) {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).replace(/^ /, '');
      if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    if (event === 'token') text += data.join('\n');
    if (event === 'sources') sources = JSON.parse(data.join('\n'));
  }
  return { text, sources };
}

describe('the openai SDK', () => {
  test('streams the same text, with citations and sources on the last chunk', async () => {
    const native = await nativeAnswer(QUESTION);
    assert.equal(native.text, ANSWER);
    const stream = await openai().chat.completions.create({
      model: 'chrysopedia',
      messages: [{ role: 'user', content: QUESTION }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let last = null;
    let usage = null;
    const ids = new Set();
    let first = null;
    for await (const chunk of stream) {
      ids.add(chunk.id);
      first ??= chunk;
      if (chunk.choices.length > 0) {
        text += chunk.choices[0].delta.content ?? '';
        if (chunk.choices[0].finish_reason) last = chunk;
      } else {
        usage = chunk.usage;
      }
    }
    assert.equal(text, native.text);
    assert.equal(ids.size, 1);
    assert.equal(first.choices[0].delta.role, 'assistant');
    assert.equal(last.choices[0].finish_reason, 'stop');
    assert.deepEqual(last.sources, native.sources);
    assert.equal(last.citations.length, native.sources.length);
    assert.equal(last.citations[0], `/techniques/${native.sources[0].slug}`);
    assert.ok(usage.total_tokens > 0);
  });

  test('answers whole with a url_citation annotation per cited number', async () => {
    const completion = await openai().chat.completions.create({
      model: 'chrysopedia',
      messages: [{ role: 'user', content: QUESTION }],
    });
    const message = completion.choices[0].message;
    assert.equal(message.content, ANSWER);
    const points = Array.from(message.content);  // code points, as the indices count
    const spans = message.annotations.map((a) => {
      assert.equal(a.type, 'url_citation');
      return points.slice(a.url_citation.start_index, a.url_citation.end_index).join('');
    });
    // [1], then [1, 2] twice (one span, two numbers), then [2]; `v[3]` is code.
    assert.deepEqual(spans, ['[1]', '[1, 2]', '[1, 2]', '[2]']);
    assert.equal(message.annotations[0].url_citation.url, completion.citations[0]);
    assert.equal(message.annotations[2].url_citation.url, completion.citations[1]);
    assert.equal(message.annotations[0].url_citation.title, completion.sources[0].title);
  });

  test('lists the model and raises typed errors', async () => {
    const models = await openai().models.list();
    assert.deepEqual(models.data.map((m) => m.id), ['chrysopedia']);
    await assert.rejects(
      openai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] }),
      (e) => e instanceof OpenAI.NotFoundError && e.code === 'model_not_found',
    );
    const keyless = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'wrong', maxRetries: 0 });
    await assert.rejects(
      keyless.chat.completions.create({ model: 'chrysopedia', messages: [{ role: 'user', content: 'x' }] }),
      (e) => e instanceof OpenAI.AuthenticationError,
    );
    await assert.rejects(
      openai().chat.completions.create({
        model: 'chrysopedia',
        messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }],
      }),
      (e) => e instanceof OpenAI.BadRequestError && e.param === 'messages[0].content[0]',
    );
  });

  test('a model that fails mid-stream is an error, never a quiet end', async () => {
    const stream = await openai().chat.completions.create({
      model: 'chrysopedia',
      messages: [{ role: 'user', content: 'EXPLODE the kick' }],
      stream: true,
    });
    await assert.rejects(
      (async () => {
        for await (const chunk of stream) void chunk;
      })(),
      (e) => e instanceof OpenAI.APIError && /language model failed/.test(e.message),
    );
  });
});

describe('the Vercel AI SDK (openai-compatible provider)', () => {
  // The provider's own hook for fields beyond OpenAI's: where an app using
  // it reads the citations and sources of the last chunk.
  const metadataExtractor = {
    extractMetadata: async ({ parsedBody }) => ({
      chrysopedia: { citations: parsedBody.citations, sources: parsedBody.sources },
    }),
    createStreamExtractor: () => {
      let found = {};
      return {
        processChunk(chunk) {
          if (chunk?.citations) found = { citations: chunk.citations, sources: chunk.sources };
        },
        buildMetadata: () => ({ chrysopedia: found }),
      };
    },
  };
  const provider = () =>
    createOpenAICompatible({
      name: 'chrysopedia',
      baseURL: `${base}/v1`,
      apiKey: KEY,
      includeUsage: true,
      metadataExtractor,
    });

  test('streamText rebuilds the same text and carries the sources', async () => {
    const native = await nativeAnswer(QUESTION);
    const result = streamText({ model: provider()('chrysopedia'), prompt: QUESTION, maxRetries: 0 });
    let text = '';
    for await (const delta of result.textStream) text += delta;
    assert.equal(text, native.text);
    assert.equal(await result.finishReason, 'stop');
    const usage = await result.usage;
    assert.ok(usage.outputTokens > 0);
    const meta = (await result.providerMetadata).chrysopedia;
    assert.deepEqual(meta.sources, native.sources);
    assert.equal(meta.citations.length, native.sources.length);
  });

  test('generateText answers whole', async () => {
    const result = await generateText({ model: provider()('chrysopedia'), prompt: QUESTION, maxRetries: 0 });
    assert.equal(result.text, ANSWER);
    assert.equal(result.providerMetadata.chrysopedia.citations.length > 0, true);
  });

  test('a model that fails mid-stream reaches the app as an error', async () => {
    const result = streamText({
      model: provider()('chrysopedia'),
      prompt: 'EXPLODE the kick',
      maxRetries: 0,
      onError: () => {},
    });
    const parts = [];
    for await (const part of result.fullStream) parts.push(part.type);
    assert.ok(parts.includes('error'), parts.join(' '));
  });
});

describe('curl', () => {
  test('streams data lines ending with [DONE]', async () => {
    const { stdout } = await promisify(execFile)('curl', [
      '-sSN', `${base}/v1/chat/completions`,
      '-H', 'content-type: application/json',
      '-H', `authorization: Bearer ${KEY}`,
      '-d', JSON.stringify({ model: 'chrysopedia', stream: true, messages: [{ role: 'user', content: QUESTION }] }),
    ]);
    const lines = stdout.split('\n\n').filter((b) => b.length > 0);
    assert.ok(lines.every((b) => b.startsWith('data: ')), stdout.slice(0, 300));
    assert.equal(lines.at(-1), 'data: [DONE]');
    const text = lines
      .slice(0, -1)
      .map((b) => JSON.parse(b.slice(6)))
      .map((c) => c.choices[0]?.delta?.content ?? '')
      .join('');
    assert.equal(text, ANSWER);
  });
});
