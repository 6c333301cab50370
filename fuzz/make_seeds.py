#!/usr/bin/env python3
"""Writes the seed corpora in fuzz/corpus/<target>/ (run from anywhere).

Seeds are small, realistic inputs plus the edge cases each format is known
to have; the fuzzer mutates from there. Rerunning rewrites the same files.
"""
import hashlib
import json
import os
import struct

ROOT = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(ROOT)


def write(target, items):
    d = os.path.join(ROOT, "corpus", target)
    os.makedirs(d, exist_ok=True)
    for old in os.listdir(d):
        os.remove(os.path.join(d, old))
    for name, data in items:
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


# --- chat_request: the POST /api/v1/chat body -------------------------------
chat = [
    ("plain", '{"query": "how do I sidechain a bass to the kick?"}'),
    ("creator", '{"query": "reverb on vocals", "creator": "Rosa Delgado"}'),
    ("creator-slug", '{"query": "reverb", "creator": "rosa-delgado", "conversation_id": null}'),
    ("conversation", '{"query": "and what release time?", "conversation_id": '
                     '"5773d73c-97c9-48b4-98ab-60eb68a50b2f"}'),
    ("all-null", '{"query": "eq", "creator": null, "conversation_id": null}'),
    ("unicode", '{"query": "\u00a0 Kompression f\u00fcr Bass \u2014 \U0001F3B9 \u3000", '
                '"creator": "Ren\u00e9e"}'),
    ("escapes", r'{"query": "\u00a0\ud83c\udfb9 tab\there \"quoted\" \\ slash\/", "creator": "\u3000"}'),
    ("spaces-only", '{"query": " \t\r\n\u00a0\u3000 "}'),
    ("empty-query", '{"query": ""}'),
    ("wrong-types", '{"query": ["a"], "creator": 5, "conversation_id": true}'),
    ("bad-id", '{"query": "x", "conversation_id": "has space/slash"}'),
    ("numbers", '{"query": "x", "n": [0, -0, 1.5e10, -1E-5, 12345678901234567890]}'),
    ("not-object", '["query", "x"]'),
    ("truncated", '{"query": "how do I'),
    ("nested", '{"query": "x", "extra": {"a": [{"b": [[[]]]}]}}'),
    ("duplicate-key", '{"query": "first", "query": "second"}'),
    ("long-query", json.dumps({"query": "\u00e9" * 2001}, ensure_ascii=False)),
    ("max-query", json.dumps({"query": "a" * 2000, "creator": "c" * 200})),
    ("bad-utf8", b'{"query": "caf\xc3 \xff\xfe"}'),
    ("bom", b'\xef\xbb\xbf{"query": "x"}'),
]
write("chat_request", chat)

# --- upstream_sse_parser: 2 bytes of split seed, 1 byte of line limit, stream -
def up(seed, stream, limit=0):
    return struct.pack(">H", seed) + bytes([limit]) + stream.encode()

def chunk(content=None, finish=None, usage=None, role=False, extra=None):
    delta = {}
    if role:
        delta["role"] = "assistant"
    if content is not None:
        delta["content"] = content
    c = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "model": "m",
         "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}
    if usage:
        c["choices"] = []
        c["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1],
                      "total_tokens": usage[0] + usage[1]}
    if extra:
        c.update(extra)
    return "data: " + json.dumps(c, ensure_ascii=False) + "\n\n"

openai = (chunk("", role=True) + chunk("Sidechain the bass") +
          chunk(" to the kick [1].\n\nThen") + chunk(" set the release \u2014 80 ms \u2713") +
          chunk(finish="stop") + chunk(usage=(412, 17)) + "data: [DONE]\n\n")
ollama = (chunk("Sidechain the bass", role=True) + chunk(" to the kick [1].", role=True) +
          chunk("", finish="stop", role=True) + chunk(usage=(412, 17)) + "data: [DONE]\n\n")
llamacpp = ('data: {"choices":[{"finish_reason":null,"index":0,"delta":{"role":"assistant",'
            '"content":null}}],"created":1,"id":"chatcmpl-x","model":"gguf","object":'
            '"chat.completion.chunk"}\n\n'
            'data: {"choices":[{"finish_reason":"stop","index":0,"delta":{}}],"usage":'
            '{"completion_tokens":17,"prompt_tokens":412,"total_tokens":429},"timings":'
            '{"prompt_n":412}}\n\ndata: [DONE]\n\n')
vllm = (chunk(role=True, extra={"choices": [{"index": 0, "delta": {"role": "assistant"},
                                            "logprobs": None, "finish_reason": None}]}) +
        chunk("Sidechain", finish=None) +
        chunk(" the bass", finish="stop", extra={"stop_reason": None}) +
        chunk(usage=(412, 17)) + "data: [DONE]\n\n")
upstream = [
    ("openai", up(0, openai)),
    ("openai-crlf", up(1, openai.replace("\n", "\r\n"))),
    ("openai-cr", up(2, openai.replace("\n", "\r"))),
    ("ollama", up(3, ollama)),
    ("llamacpp", up(4, llamacpp)),
    ("vllm", up(5, vllm)),
    ("comments", up(6, ": keep-alive\n\nevent: message\nid: 7\nretry: 100\n" + chunk("hi"))),
    ("multiline-data", up(7, 'data: {"choices":[{"delta":\ndata: {"content":"joined"}}]}\n\n')),
    ("error-object", up(8, chunk("partial") + 'data: {"error":{"message":"overloaded",'
                           '"type":"server_error"}}\n\n')),
    ("error-string", up(9, 'data: {"error":"rate limited"}\n\n')),
    ("error-other", up(10, 'data: {"error":[1,{"code":429}]}\n\n')),
    ("not-json", up(11, "data: Internal Server Error\n\n")),
    ("not-object", up(12, "data: [1,2]\n\n")),
    ("no-blank-line", up(13, chunk("last")[:-2])),
    ("bad-utf8", up(14, 'data: {"choices":[{"delta":{"content":"caf\u00e9 ') +
                 b'\xc3 \xed\xa0\x80 \xf4\x90\x80\x80"}}]}\n\n'),
    ("escaped-surrogates", up(15, r'data: {"choices":[{"delta":{"content":"\ud83c\udfb9 \ud800"}}]}'
                                  "\n\n")),
    ("overlong-line", up(16, chunk("x" * 300), limit=200)),
    ("overlong-event", up(17, "data: " + "a" * 60 + "\n" + "data: " + "b" * 60 + "\n\n",
                          limit=160)),
    ("usage-edge", up(18, 'data: {"choices":[],"usage":{"prompt_tokens":2147483648,'
                          '"completion_tokens":-1}}\n\n')),
    ("done-only", up(19, "data: [DONE]\n\ndata: [DONE]")),
]
write("upstream_sse_parser", upstream)

# --- sse_framer: records of [selector][length][data] ------------------------
def rec(event, data, heartbeat=False):
    data = data.encode() if isinstance(data, str) else data
    return bytes([event | (4 if heartbeat else 0), len(data)]) + data

TOKEN, SOURCES, DONE, ERROR = 0, 1, 2, 3
framer = [
    ("answer", rec(SOURCES, '[{"number":1,"title":"Sidechain"}]') + rec(TOKEN, "From ") +
               rec(TOKEN, "the ") + rec(TOKEN, "kick.\n\nThen [1]") +
               rec(DONE, '{"cascade_tier":"global"}')),
    ("crlf-split", rec(TOKEN, "line one\r") + rec(TOKEN, "\nline two") + rec(TOKEN, "a\r") +
                   rec(TOKEN, "\n") + rec(TOKEN, "b")),
    ("cr-cr-lf", rec(TOKEN, "a\r") + rec(TOKEN, "\r") + rec(TOKEN, "\nb")),
    ("empty-between", rec(TOKEN, "a\r") + rec(TOKEN, "") + rec(TOKEN, "\nb")),
    ("event-change", rec(TOKEN, "x\r") + rec(ERROR, "\ny") + rec(TOKEN, "\nz")),
    ("heartbeats", rec(TOKEN, "one", True) + rec(TOKEN, " two", True) + rec(DONE, "{}", True)),
    ("field-lookalikes", rec(TOKEN, "\ndata: injected\n\nevent: done\n: comment\r\nid: 1\r")),
    ("spaces", rec(TOKEN, " leading") + rec(TOKEN, "  two") + rec(TOKEN, "\n indented\n")),
    ("controls", rec(TOKEN, b"nul\x00tab\tbell\x07 \xff\xfe bom\xef\xbb\xbf")),
    ("only-newlines", rec(TOKEN, "\n") + rec(TOKEN, "\r\n") + rec(TOKEN, "\r") + rec(TOKEN, "\n\n")),
]
write("sse_framer", framer)

# --- url: DATABASE_URL, REDIS_URL, LLM_API_URL -------------------------------
urls = [
    "postgresql://localhost/chrysopedia",
    "postgresql://chrysopedia:s3cret@db.internal:5432/chrysopedia?sslmode=require",
    "postgres://user:p%40ss@[::1]:5433/db?password=other&application_name=chat",
    "postgresql:///chrysopedia?host=/var/run/postgresql&sslpassword=x&sslkey=/k",
    "postgresql://u:pa@ss@host/db",
    "postgresql://:onlypass@host",
    "redis://localhost:6379/0",
    "redis://:s3cret@redis:6380/2",
    "redis://default:p%3Ass@[fe80::1]/15",
    "redis://user@host",
    "REDIS://HOST:65535/65535",
    "unix:///run/redis/redis.sock?db=3&password=s3cret&user=chat",
    "unix:///tmp/r.sock",
    "http://localhost:11434/v1",
    "https://api.openai.com/v1/",
    "https://user:key@example.com:443/v1?api_key=sk-x&token=t#frag",
    "redis://host:0/1",
    "redis://host:99999",
    "redis://[::1",
    "redis://host/abc",
    "unix:///s?db=1&bad",
    "no-scheme",
    "1http://x",
    "http://a@b@c:1/@d?e@f",
    "http://h?k=v&&=x&pass%77ord=y",
]
write("url", [(hashlib.sha1(u.encode()).hexdigest()[:12], u) for u in urls])

# --- page_record: one line of the import format ------------------------------
with open(os.path.join(REPO, "data", "sample-corpus.jsonl"), encoding="utf-8") as f:
    lines = sorted((l.rstrip("\n") for l in f), key=len)[:4]
minimal = {"slug": "a", "title": "T", "creator": {"slug": "c", "name": "C"}}
pages = [(f"sample-{i}", l) for i, l in enumerate(lines)] + [
    ("minimal", json.dumps(minimal)),
    ("nulls", json.dumps(dict(minimal, topic_category=None, summary=None, topic_tags=None,
                              sections=None))),
    ("sections", json.dumps(dict(minimal, sections=[{"heading": "H"}, {"content": "c"},
                                                    {"anchor": "a", "heading": "", "content": "x"}]))),
    ("empty-section", json.dumps(dict(minimal, sections=[{"anchor": "a"}]))),
    ("bad-slug", json.dumps(dict(minimal, slug="no spaces/allowed"))),
    ("blank-title", json.dumps(dict(minimal, title=" \t"))),
    ("nul", json.dumps(dict(minimal, title="a\u0000b"))),
    ("wrong-types", '{"slug": 1, "title": [], "creator": "x", "topic_tags": {}, "sections": 3}'),
    ("tags", json.dumps(dict(minimal, topic_tags=["eq", "", "\u00e9", None]))),
    ("long-slug", json.dumps(dict(minimal, slug="s" * 301))),
    ("not-object", "[]"),
    ("truncated", '{"slug": "a", "title": "T", "creator": {"slug'),
    ("bad-utf8", b'{"slug": "a", "title": "\xff", "creator": {"slug": "c", "name": "C"}}'),
    ("big-number", '{"slug": "a", "title": "T", "creator": {"slug": "c", "name": "C"}, "n": 1e308}'),
]
write("page_record", pages)
