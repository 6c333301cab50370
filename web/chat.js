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

  let conversationId = null;  // from the last `done`; carries the conversation on
  let controller = null;      // the request in flight
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
          this.onEvent({ event: this.event || 'message', data: this.data.join('\n') });
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
    return { root, answer, sources, prefix: `t${turns}`, text: '', list: [], ended: false };
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
    turn.ended = true;
    turn.root.dataset.state = state;
    if (message) turn.root.append(el('p', state === 'error' ? 'error' : 'note', message));
  }

  function onEvent(turn, ev) {
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
      if (done.conversation_id) conversationId = done.conversation_id;
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

  async function ask(query, creator) {
    const turn = newTurn(query);
    controller = new AbortController();
    statusEl.textContent = '';
    setBusy(true);
    const body = { query };
    if (creator) body.creator = creator;
    if (conversationId) body.conversation_id = conversationId;
    const headers = { 'Content-Type': 'application/json', Accept: 'text/event-stream' };
    const key = keyBox.value.trim();
    if (key) headers.Authorization = `Bearer ${key}`;
    try {
      const response = await fetch('/api/v1/chat', {
        method: 'POST',
        headers,
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      if (!response.ok) {
        finish(turn, 'error', `Error: ${await errorMessage(response)}`);
        return;
      }
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser((ev) => onEvent(turn, ev));
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        parser.feed(value);
      }
      if (!turn.ended) finish(turn, 'error', 'Error: the answer was cut off (the connection closed).');
    } catch (e) {
      if (e.name === 'AbortError') finish(turn, 'stopped', 'Stopped.');
      else finish(turn, 'error', `Error: the server could not be reached (${e.message}).`);
    } finally {
      controller = null;
      setBusy(false);
    }
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
    if (controller) controller.abort();
  });
  newButton.addEventListener('click', () => {
    if (controller) controller.abort();
    conversationId = null;
    conversationEl.replaceChildren();
    statusEl.textContent = '';
  });
})();
