// The service binary and the fake upstream as child processes, for the
// Node suites (tests/browser, tests/clients): each started on a free port,
// found by the line it prints, and killed when the suite's process exits.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';

export const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the suite through its run.sh (tests/browser, tests/clients)`);
  return v;
};

export const children = [];
process.on('exit', () => children.forEach((c) => c.kill('SIGKILL')));

// Starts a program and resolves with the first line (of stdout or stderr)
// that `match` accepts.
function start(argv, extraEnv, stream, match) {
  const child = spawn(argv[0], argv.slice(1), {
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${argv[0]} did not start:\n${log}`)), 15000);
    const lines = createInterface({ input: child[stream] });
    lines.on('line', (line) => {
      log += `${line}\n`;
      const m = match(line);
      if (m) {
        clearTimeout(timer);
        resolve({ child, value: m });
      }
    });
    child.on('exit', (code) => reject(new Error(`${argv[0]} exited ${code}:\n${log}`)));
  });
}

export async function fakeLlm(args) {
  const { value } = await start([env('FAKE_LLM'), ...args], {}, 'stdout', (l) =>
    l.startsWith('http://') ? l.trim() : null,
  );
  return value;  // the LLM_API_URL, http://127.0.0.1:PORT/v1
}

export async function service(llmUrl, extraEnv = {}) {
  const { value } = await start(
    [env('CHAT_BINARY'), 'serve'],
    {
      HOST: '127.0.0.1',
      PORT: '0',
      WORKERS: '2',
      LOG_FORMAT: 'json',
      DATABASE_URL: env('TEST_DATABASE_URL'),
      REDIS_URL: env('TEST_REDIS_URL'),
      LLM_API_URL: llmUrl,
      ...extraEnv,
    },
    'stderr',
    (l) => {
      const m = /"listening[^"]*port=(\d+)/.exec(l);
      return m ? `http://127.0.0.1:${m[1]}` : null;
    },
  );
  return value;
}

export async function fakeStats(llmUrl) {
  const r = await fetch(llmUrl.replace(/\/v1$/, '/_fake/stats'));
  return r.json();
}

export async function until(what, cond, ms = 5000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
