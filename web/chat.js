// The chat page: posts a question, reads the answer's event stream with
// fetch (EventSource cannot POST) and renders it as it arrives. The model's
// text is untrusted: it only ever becomes text nodes, never markup.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const form = $('ask');
  const queryBox = $('query');
  const creatorBox = $('creator');
  // Kept in the field only, never in storage, so no script can find it later.
  const keyBox = $('apikey');
  const sendButton = $('send');
  const stopButton = $('stop');
  const newButton = $('new');
  const conversationEl = $('conversation');
  const statusEl = $('status');

  // Where an answer is read from, so that a reload during it can pick it
  // up: the stream's id and the question (never the key), for this tab.
  const PENDING = 'chrysopedia.pending';
  const CONVERSATION = 'chrysopedia.conversation';
  const store = {
    get(name) {
      try {
        return JSON.parse(sessionStorage.getItem(name));
      } catch {
        return null;
      }
    },
    set(name, value) {
      try {
        if (value === null) sessionStorage.removeItem(name);
        else sessionStorage.setItem(name, JSON.stringify(value));
      } catch {
        // storage off or full: the page works, a reload loses the answer
      }
    },
  };

  let conversationId = store.get(CONVERSATION);  // from the last `done`
  let controller = null;      // the request in flight
  let current = null;         // the turn being answered
  let turns = 0;

  // Server-Sent Events as the HTML standard parses them: lines end in LF,
  // CR LF or CR; `data:` lines of one event are joined with "\n" (that is how
  // a token with line breaks arrives); one space after the colon is dropped.
  class SseParser {
    constructor(onEvent) {
      this.onEvent = onEvent;
      this.buffer = '';
      this.event = '';
      this.data = [];
      this.lastEventId = '';
    }

    feed(text) {
      this.buffer += text;
      let start = 0;
      for (;;) {
        const lf = this.buffer.indexOf('\n', start);
        const cr = this.buffer.indexOf('\r', start);
        let end;
        let next;
        if (cr !== -1 && (lf === -1 || cr < lf)) {
          // A CR at the very end may be the first half of CR LF: wait.
          if (cr + 1 >= this.buffer.length) break;
          end = cr;
          next = this.buffer[cr + 1] === '\n' ? cr + 2 : cr + 1;
        } else if (lf !== -1) {
          end = lf;
          next = lf + 1;
        } else {
          break;
        }
        this.line(this.buffer.slice(start, end));
        start = next;
      }
      this.buffer = this.buffer.slice(start);
    }

    line(text) {
      if (text === '') {
        if (this.data.length > 0) {
          this.onEvent({ event: this.event || 'message', data: this.data.join('\n'), id: this.lastEventId });
        }
        this.event = '';
        this.data = [];
        return;
      }
      if (text[0] === ':') return;  // a comment (`: ping`)
      const colon = text.indexOf(':');
      const field = colon === -1 ? text : text.slice(0, colon);
      let value = colon === -1 ? '' : text.slice(colon + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (field === 'event') this.event = value;
      else if (field === 'data') this.data.push(value);
      else if (field === 'id' && !value.includes('\0')) this.lastEventId = value;
    }
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function newTurn(question) {
    turns += 1;
    const root = el('article', 'turn');
    root.dataset.state = 'waiting';
    root.append(el('p', 'question', question));
    const answer = el('div', 'answer');
    const sources = el('ol', 'sources');
    root.append(answer, sources);
    conversationEl.append(root);
    root.scrollIntoView({ block: 'end' });
    return {
      root, answer, sources, question, prefix: `t${turns}`, text: '', list: [], ended: false,
      streamId: null, lastId: '', stopping: false,
    };
  }

  // `[N]` naming a listed source becomes a link to it; one that names no
  // source (the model made it up) is marked as such, never linked;
  // everything else, including what looks like HTML, stays text.
  function appendWithCitations(parent, text, turn) {
    const citation = /\[(\d{1,3})\]/g;
    let last = 0;
    let m;
    while ((m = citation.exec(text)) !== null) {
      const n = Number(m[1]);
      if (m.index > last) parent.append(document.createTextNode(text.slice(last, m.index)));
      if (n >= 1 && n <= turn.list.length) {
        const link = el('a', 'cite', `[${n}]`);
        link.href = `#${turn.prefix}-source-${n}`;
        link.title = turn.list[n - 1].title || `Source ${n}`;
        parent.append(link);
      } else {
        const bad = el('span', 'cite invalid', `[${n}]`);
        bad.title = `There is no source ${n}: the answer cites one that was not found`;
        parent.append(bad);
      }
      last = citation.lastIndex;
    }
    if (last < text.length) parent.append(document.createTextNode(text.slice(last)));
  }

  function renderAnswer(turn) {
    const paragraphs = turn.text.split(/\n{2,}/);
    const nodes = paragraphs.map((para) => {
      const p = el('p');
      appendWithCitations(p, para, turn);
      return p;
    });
    turn.answer.replaceChildren(...nodes);
  }

  function renderSources(turn) {
    const items = turn.list.map((s, i) => {
      const li = el('li');
      li.id = `${turn.prefix}-source-${i + 1}`;
      li.append(el('span', 'title', s.title || s.slug || 'Untitled'));
      if (s.section_heading) li.append(document.createTextNode(` — ${s.section_heading}`));
      if (s.creator_name) li.append(document.createTextNode(` · ${s.creator_name}`));
      return li;
    });
    turn.sources.replaceChildren(...items);
  }

  function finish(turn, state, message) {
    if (turn.ended) return;
    turn.ended = true;
    store.set(PENDING, null);
    if (state !== 'done') statusEl.textContent = '';
    turn.root.dataset.state = state;
    if (message) turn.root.append(el('p', state === 'error' ? 'error' : 'note', message));
  }

  function onEvent(turn, ev) {
    if (ev.id) turn.lastId = ev.id;
    if (ev.event === 'sources') {
      try {
        turn.list = JSON.parse(ev.data);
      } catch {
        turn.list = [];
      }
      renderSources(turn);
      renderAnswer(turn);
      turn.root.dataset.state = 'streaming';
    } else if (ev.event === 'token') {
      turn.text += ev.data;
      renderAnswer(turn);
    } else if (ev.event === 'done') {
      let done = {};
      try {
        done = JSON.parse(ev.data);
      } catch {
        // a done we cannot read still ends the answer
      }
      if (done.conversation_id) {
        conversationId = done.conversation_id;
        store.set(CONVERSATION, conversationId);
      }
      if (done.stopped) {
        finish(turn, 'stopped', 'Stopped.');
        return;
      }
      finish(turn, 'done');
      statusEl.textContent = done.latency_ms !== undefined ? `Answered in ${Math.round(done.latency_ms)} ms.` : '';
    } else if (ev.event === 'error') {
      let message = 'The answer failed.';
      try {
        message = JSON.parse(ev.data).message || message;
      } catch {
        // keep the generic message
      }
      finish(turn, 'error', `Error: ${message}`);
    }
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) return body.error.message;
    } catch {
      // not JSON
    }
    return `The server answered ${response.status} ${response.statusText}.`;
  }

  function setBusy(busy) {
    sendButton.disabled = busy;
    stopButton.disabled = !busy;
    statusEl.textContent = busy ? 'Answering…' : statusEl.textContent;
  }

  function authHeaders() {
    const key = keyBox.value.trim();
    return key ? { Authorization: `Bearer ${key}` } : {};
  }

  // Reads one response's events into the turn. A connection that breaks is
  // not an error here: the caller resumes the stream where it broke.
  async function follow(turn, response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser((ev) => onEvent(turn, ev));
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        parser.feed(value);
      }
    } catch (e) {
      if (e.name === 'AbortError') throw e;
    }
  }

  // After a dropped connection (or a reload), the stream goes on from the
  // last event seen, from whichever replica answers; a few tries, then
  // the answer is given up as cut off.
  async function resume(turn) {
    const pauses = [0, 250, 500, 1000, 2000, 4000];
    for (const pause of pauses) {
      if (turn.ended || !turn.streamId) return;
      if (pause) await new Promise((r) => setTimeout(r, pause));
      if (turn.ended) return;
      statusEl.textContent = 'Reconnecting…';
      let response;
      try {
        const headers = { Accept: 'text/event-stream', ...authHeaders() };
        if (turn.lastId) headers['Last-Event-ID'] = turn.lastId;
        response = await fetch(`/api/v1/chat/streams/${encodeURIComponent(turn.streamId)}`, {
          headers,
          signal: controller.signal,
        });
      } catch (e) {
        if (e.name === 'AbortError') throw e;
        continue;  // the server is not back yet
      }
      if (response.status === 404 || response.status === 204) return;  // gone, or nothing more
      if (!response.ok) continue;
      statusEl.textContent = 'Answering…';
      await follow(turn, response);
    }
  }

  // Reads the answer from `open` (the chat's response), then resumes it
  // until it ends.
  async function answer(turn, open) {
    controller = new AbortController();
    current = turn;
    setBusy(true);
    try {
      const response = await open(controller.signal);
      if (response) {
        if (!response.ok) {
          finish(turn, 'error', `Error: ${await errorMessage(response)}`);
          return;
        }
        turn.streamId = turn.streamId || response.headers.get('Chrysopedia-Stream-Id');
        if (turn.streamId) store.set(PENDING, { streamId: turn.streamId, question: turn.question });
        await follow(turn, response);
      }
      await resume(turn);
      if (!turn.ended) finish(turn, 'error', 'Error: the answer was cut off (the connection closed).');
    } catch (e) {
      if (e.name === 'AbortError') finish(turn, 'stopped', 'Stopped.');
      else finish(turn, 'error', `Error: the server could not be reached (${e.message}).`);
    } finally {
      controller = null;
      current = null;
      setBusy(false);
    }
  }

  function ask(query, creator) {
    const turn = newTurn(query);
    statusEl.textContent = '';
    const body = { query };
    if (creator) body.creator = creator;
    if (conversationId) body.conversation_id = conversationId;
    const headers = {
      'Content-Type': 'application/json',
      Accept: 'text/event-stream',
      ...authHeaders(),
    };
    return answer(turn, (signal) =>
      fetch('/api/v1/chat', { method: 'POST', headers, body: JSON.stringify(body), signal }),
    );
  }

  // Stop asks the server to end the answer (on whichever replica writes
  // it): the readers get the end, and the turn is kept as far as it went.
  // Without a stream id (no Redis), or when that fails, the request is
  // dropped instead, which stops the model as well.
  async function stop() {
    const turn = current;
    if (!turn || !controller) return;
    if (turn.streamId && !turn.stopping) {
      turn.stopping = true;
      statusEl.textContent = 'Stopping…';
      try {
        const response = await fetch(
          `/api/v1/chat/streams/${encodeURIComponent(turn.streamId)}/stop`,
          { method: 'POST', headers: authHeaders() },
        );
        if (response.ok) return;
      } catch {
        // fall through to dropping the request
      }
    }
    if (controller) controller.abort();
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const query = queryBox.value.trim();
    if (!query || controller) return;
    queryBox.value = '';
    ask(query, creatorBox.value.trim());
  });
  queryBox.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey) {
      e.preventDefault();
      form.requestSubmit();
    }
  });
  stopButton.addEventListener('click', () => {
    stop();
  });
  newButton.addEventListener('click', () => {
    if (controller) controller.abort();
    conversationId = null;
    store.set(CONVERSATION, null);
    store.set(PENDING, null);
    conversationEl.replaceChildren();
    statusEl.textContent = '';
  });

  // A reload during an answer: the answer is read again from its start
  // (the stream keeps every event) and followed to its end.
  const pending = store.get(PENDING);
  if (pending && typeof pending.streamId === 'string' && typeof pending.question === 'string') {
    const turn = newTurn(pending.question);
    turn.streamId = pending.streamId;
    answer(turn, async () => null);
  }
})();
