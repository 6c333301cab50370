// The question client of bench/semantic_quality.sh: asks the running
// service every question of the evaluation sets through POST /api/v1/chat,
// the way a user does (so the ranking measured is the one the chat serves,
// semantic fusion included), and scores the `sources` event as
// tests/eval/retrieval_eval_pgtest.cpp scores a search: the rank (1-based) of
// the first relevant page among the distinct page slugs of the hits
// (sections count as their page), 0 when none of them is relevant.
//
//   node quality.mjs ask SERVICE_URL OUT.jsonl SET.jsonl...
//       one line per scored chat: {set, kind, rank, ms, ms_turn1?, question,
//       want, got, error?}. Lines with "question" are one chat (with their
//       "creator", as the eval test passes it); lines with "turn1"/"turn2"
//       are two chats in one conversation, and turn 2 is scored (kind
//       "turn2-<kind>").
//   node quality.mjs table LABEL_A A.jsonl LABEL_B B.jsonl
//       the markdown tables, per set and kind, the two runs side by side;
//       then the latency to the `sources` event.
//   node quality.mjs changes A.jsonl B.jsonl
//       every question whose rank differs between the runs.
import fs from "node:fs";
import path from "node:path";

// One chat; resolves to {ms, hits, conversationId, error}. `ms` is the time
// from sending the request to a parsed `sources` event, what the search
// (with the question's embedding) costs a user before the first token.
async function chat(base, body) {
  const t0 = performance.now();
  let res;
  try {
    res = await fetch(`${base}/api/v1/chat`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch (e) {
    // No answer at all (refused, reset): the service is down, and every
    // question after this one would fail the same way: stop here.
    console.error(`quality: the service did not answer ${JSON.stringify(body)}: ${e.cause?.message ?? e.message}`);
    process.exit(3);
  }
  if (res.status !== 200) return { error: `HTTP ${res.status}: ${(await res.text()).slice(0, 200)}`, hits: [] };
  const out = { hits: [], ms: null, conversationId: null, error: null };
  const decoder = new TextDecoder();
  let buffer = "";
  // Server-sent events: "event:" and "data:" lines, a blank line ends one.
  // Read to the end (`done` or `error`), so the next question does not race
  // this one's generation.
  for await (const chunk of res.body) {
    buffer += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let event = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) event = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(line[5] === " " ? 6 : 5));
      }
      if (event === "sources") {
        out.ms = performance.now() - t0;
        out.hits = JSON.parse(data.join("\n"));
      } else if (event === "done") {
        out.conversationId = JSON.parse(data.join("\n")).conversation_id ?? null;
      } else if (event === "error") {
        out.error = data.join("\n");
      }
    }
  }
  return out;
}

// The distinct pages of the hits, in rank order.
function pagesOf(hits) {
  const pages = [];
  for (const h of hits) if (!pages.includes(h.slug)) pages.push(h.slug);
  return pages;
}

function rankOf(hits, relevant) {
  const pages = pagesOf(hits).slice(0, 10);
  const i = pages.findIndex((p) => relevant.includes(p));
  return i < 0 ? 0 : i + 1;
}

function readLines(file) {
  return fs.readFileSync(file, "utf8").split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l));
}

async function ask(base, outFile, files) {
  const out = fs.openSync(outFile, "w");
  for (const file of files) {
    const set = path.basename(file, ".jsonl");
    for (const q of readLines(file)) {
      let rec;
      if (typeof q.question === "string") {
        const body = { query: q.question };
        if (typeof q.creator === "string") body.creator = q.creator;
        const r = await chat(base, body);
        rec = { set, kind: q.kind ?? "unlabelled", question: q.question, want: q.relevant, ms: r.ms, hits: r.hits, error: r.error };
        rec.rank = rankOf(r.hits, q.relevant);
      } else {
        const first = await chat(base, { query: q.turn1 });
        let second = { hits: [], ms: null, error: first.error ? `turn 1: ${first.error}` : null };
        if (!first.error && first.conversationId) {
          second = await chat(base, { query: q.turn2, conversation_id: first.conversationId });
        } else if (!first.error) {
          second.error = "turn 1's done event had no conversation_id";
        }
        rec = { set, kind: `turn2-${q.kind}`, question: `${q.turn1} -> ${q.turn2}`, want: q.turn2_relevant,
                ms: second.ms, ms_turn1: first.ms, hits: second.hits, error: second.error };
        rec.rank = rankOf(second.hits, q.turn2_relevant);
      }
      rec.got = pagesOf(rec.hits).slice(0, 5);
      delete rec.hits;
      if (rec.error) process.stderr.write(`quality: ${set}: ${rec.question}: ${rec.error}\n`);
      fs.writeSync(out, JSON.stringify(rec) + "\n");
    }
  }
  fs.closeSync(out);
}

function score(recs) {
  const n = recs.length;
  const r1 = recs.filter((r) => r.rank === 1).length / n;
  const r5 = recs.filter((r) => r.rank >= 1 && r.rank <= 5).length / n;
  const mrr = recs.reduce((s, r) => s + (r.rank ? 1 / r.rank : 0), 0) / n;
  return { n, r1, r5, mrr };
}

function percentile(values, p) {
  const v = values.filter((x) => x != null).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  return v[Math.min(v.length - 1, Math.ceil((p / 100) * v.length) - 1)];
}

function groupBy(recs, key) {
  const m = new Map();
  for (const r of recs) {
    const k = key(r);
    if (!m.has(k)) m.set(k, []);
    m.get(k).push(r);
  }
  return m;
}

function table(labelA, fileA, labelB, fileB) {
  const a = readLines(fileA);
  const b = readLines(fileB);
  const f = (x) => x.toFixed(3);
  const sign = (x) => (x > 0 ? "+" : "") + x.toFixed(3);
  const lines = [
    `| set | kind | n | ${labelA} R@1 | R@5 | MRR | ${labelB} R@1 | R@5 | MRR | Δ R@5 | Δ MRR |`,
    "|---|---|---|---|---|---|---|---|---|---|---|",
  ];
  const setsA = groupBy(a, (r) => r.set);
  const setsB = groupBy(b, (r) => r.set);
  const row = (set, kind, ra, rb) => {
    const sa = score(ra);
    const sb = score(rb);
    lines.push(`| ${set} | ${kind} | ${sa.n} | ${f(sa.r1)} | ${f(sa.r5)} | ${f(sa.mrr)} | ${f(sb.r1)} | ${f(sb.r5)} | ${f(sb.mrr)} | ${sign(sb.r5 - sa.r5)} | ${sign(sb.mrr - sa.mrr)} |`);
  };
  for (const [set, ra] of setsA) {
    const rb = setsB.get(set) ?? [];
    const kindsB = groupBy(rb, (r) => r.kind);
    for (const [kind, ka] of [...groupBy(ra, (r) => r.kind)].sort(([x], [y]) => x.localeCompare(y))) {
      row(set, kind, ka, kindsB.get(kind) ?? []);
    }
    row(set, "**all**", ra, rb);
  }
  // Every single question of the four sets, and every second turn, pooled.
  const single = (r) => !r.kind.startsWith("turn2-");
  const kindsA = groupBy(a.filter(single), (r) => r.kind);
  const kindsB = groupBy(b.filter(single), (r) => r.kind);
  for (const [kind, ka] of [...kindsA].sort(([x], [y]) => x.localeCompare(y))) row("all single sets", kind, ka, kindsB.get(kind) ?? []);
  row("all single sets", "**all**", a.filter(single), b.filter(single));
  row("all two-turn sets", "**turn 2**", a.filter((r) => !single(r)), b.filter((r) => !single(r)));

  const ms = (recs) => recs.flatMap((r) => [r.ms, r.ms_turn1]).filter((x) => x != null);
  const errors = (recs) => recs.filter((r) => r.error).length;
  lines.push("", "| run | chats | p50 ms to `sources` | p95 ms to `sources` | failed chats |", "|---|---|---|---|---|");
  for (const [label, recs] of [[labelA, a], [labelB, b]]) {
    const m = ms(recs);
    lines.push(`| ${label} | ${m.length} | ${percentile(m, 50).toFixed(1)} | ${percentile(m, 95).toFixed(1)} | ${errors(recs)} |`);
  }
  console.log(lines.join("\n"));
}

function changes(fileA, fileB) {
  const a = readLines(fileA);
  const b = readLines(fileB);
  const key = (r) => `${r.set}\u0000${r.question}`;
  const byKey = new Map(b.map((r) => [key(r), r]));
  const out = [];
  for (const ra of a) {
    const rb = byKey.get(key(ra));
    if (!rb || rb.rank === ra.rank) continue;
    const better = rb.rank !== 0 && (ra.rank === 0 || rb.rank < ra.rank);
    out.push(`${better ? "better" : "worse "} ${String(ra.rank).padStart(2)} -> ${String(rb.rank).padStart(2)}  ${ra.set} [${ra.kind}] ${ra.question}  (want ${ra.want[0]}; got ${rb.got.slice(0, 3).join(", ")})`);
  }
  out.sort();
  console.log(out.join("\n"));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === "ask") await ask(args[0], args[1], args.slice(2));
else if (mode === "table") table(args[0], args[1], args[2], args[3]);
else if (mode === "changes") changes(args[0], args[1]);
else {
  console.error("usage: quality.mjs ask URL OUT SET... | table LABEL_A A LABEL_B B | changes A B");
  process.exit(2);
}
