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

# --- http_request: 2 bytes of split seed, 1 byte of limits, what a client sends
# Limits (the byte mod 4): 0 the defaults, 1 header 1024 / body 2048,
# 2 header 256 / body 64, 3 header 1024 / no body.
def req(seed, stream, limits=0):
    stream = stream.encode() if isinstance(stream, str) else stream
    return struct.pack(">HB", seed, limits) + stream

CHAT = "POST /api/v1/chat HTTP/1.1\r\nHost: chat.example\r\n"
BODY = '{"query": "how do I sidechain a bass?"}'
CHUNKED = CHAT + "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
GET = "GET /api/v1/health HTTP/1.1\r\nHost: chat.example\r\n\r\n"
http = [
    ("get", req(0, "GET / HTTP/1.1\r\nHost: x\r\nUser-Agent: curl/8.0\r\nAccept: */*\r\n\r\n")),
    ("get-http10", req(1, "GET /metrics HTTP/1.0\r\n\r\n")),
    ("post", req(2, CHAT + "Content-Type: application/json\r\nContent-Length: %d\r\n"
                     "Origin: https://chat.example\r\n\r\n%s" % (len(BODY), BODY), 1)),
    ("chunked", req(3, CHUNKED + "\r\n10\r\n" + BODY[:16] + "\r\n%x\r\n%s\r\n0\r\n\r\n"
                    % (len(BODY) - 16, BODY[16:]))),
    ("chunked-ext", req(4, CHUNKED + "\r\n5;a=1;b=\"q;uoted\"\r\nhello\r\n1 ; c\r\n!\r\n"
                           "0;last\r\n\r\n", 1)),
    ("chunked-trailer", req(5, CHUNKED + "Trailer: X-Checksum\r\n\r\n3\r\nabc\r\n0\r\n"
                               "X-Checksum: 1\r\nHost: evil\r\nX-API-Key: k\r\n\r\n", 1)),
    ("pipelined", req(6, CHAT + "Content-Length: 5\r\n\r\nhello" + GET)),
    ("pipelined-chunked", req(7, CHUNKED + "\r\n2\r\nhi\r\n0\r\n\r\n" + GET + GET, 1)),
    ("expect-continue", req(8, CHAT + "Expect: 100-continue\r\nContent-Length: 2\r\n\r\nok" + GET)),
    ("expect-http10", req(9, "POST / HTTP/1.0\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n"
                             "\r\nx")),
    ("obs-fold", req(10, "GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n two\r\n\r\n")),
    ("obs-fold-tab", req(11, "GET / HTTP/1.1\r\nHost: x\r\nX-A: one\r\n\ttwo\r\n\r\n", 2)),
    ("te-gzip", req(12, CHAT + "Transfer-Encoding: gzip\r\n\r\n" + GET)),
    ("te-gzip-chunked", req(13, CHAT + "Transfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n")),
    ("te-chunked-identity", req(14, CHAT + "Transfer-Encoding: chunked, identity\r\n\r\n" + GET)),
    ("te-http10", req(15, "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n")),
    ("te-and-length", req(16, CHAT + "Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
                              "0\r\n\r\n")),
    ("te-twice", req(17, CHAT + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n"
                         "\r\n0\r\n\r\n")),
    ("two-hosts", req(18, "GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n")),
    ("no-host", req(19, "GET / HTTP/1.1\r\n\r\n")),
    ("two-lengths", req(20, CHAT + "Content-Length: 1\r\nContent-Length: 1, 1\r\n\r\nx" + GET)),
    ("huge-extension", req(21, CHUNKED + "\r\n1;" + "e" * 6000 + "\r\nx\r\n0\r\n\r\n", 1)),
    ("many-extensions", req(22, CHUNKED + "\r\n" + "1;name=vvvvvvvv\r\nx\r\n" * 80 +
                                "0\r\n\r\n", 1)),
    ("huge-trailer", req(23, CHUNKED + "\r\n1\r\nx\r\n0\r\n" + "X-Pad: pppppppp\r\n" * 400
                             + "\r\n", 1)),
    ("long-header", req(24, "GET / HTTP/1.1\r\nHost: x\r\nX-Pad: " + "p" * 1100 + "\r\n\r\n", 1)),
    ("body-limit", req(25, CHAT + "Content-Length: 65\r\n\r\n" + "a" * 65, 2)),
    ("chunk-limit", req(26, CHUNKED + "\r\n40\r\n" + "a" * 64 + "\r\n1\r\nb\r\n0\r\n\r\n", 2)),
    ("no-body-allowed", req(27, CHUNKED + "\r\n0\r\n\r\n" + CHAT + "Content-Length: 1\r\n\r\nx", 3)),
    ("bad-chunk-size", req(28, CHUNKED + "\r\nfffffffffffffffff\r\nx\r\n0\r\n\r\n")),
    ("bare-lf", req(29, "GET / HTTP/1.1\nHost: x\n\n")),
    ("tls-hello", req(30, b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n")),
    ("pipelined-split", req(0xFFFF, CHAT + "Content-Length: 5\r\n\r\nhello" + GET)),
]
# What the fuzzer found in RequestReader (see the commit that added them);
# the split seeds (9, 77) are ones whose reads split the header as needed.
INDENTED = '{\n  "query": "how do I sidechain a bass to the kick?",\n  "creator": "Rosa Delgado"\n}\n'
http += [
    # Only the first Transfer-Encoding field was checked: gzip, then chunked.
    ("regress-te-two-fields", req(0, CHAT + "Transfer-Encoding: gzip\r\nTransfer-Encoding: chunked"
                                     "\r\n\r\n5\r\nhello\r\n0\r\n\r\n")),
    # Beast's token_list stops quietly at a malformed element: read as chunked.
    ("regress-te-chunked-junk", req(0, CHAT + "Transfer-Encoding: chunked;q=1\r\n\r\n"
                                       "5\r\nhello\r\n0\r\n\r\n")),
    # The obs-fold scan lost its place once the parser took the request line
    # and whole fields of an unfinished header: a fold in the next read was
    # missed (and unfolded by Beast) ...
    ("regress-obs-fold-split", req(9, CHAT + "Content-Type: application/json\r\n"
                                      "Transfer-Encoding:\r\n chunked\r\n\r\n"
                                      "5\r\nhello\r\n0\r\n\r\n")),
    # ... or the header's end was, and an indented JSON body read as a fold.
    ("regress-indented-body-split", req(77, CHAT + "Content-Type: application/json\r\n"
                                            "Content-Length: %d\r\n\r\n%s"
                                            % (len(INDENTED), INDENTED))),
    # Beast holds the request line and the fields each to the header limit.
    ("regress-header-limit", req(0, "GET /" + "a" * 100 + " HTTP/1.1\r\nHost: x\r\nX-Pad: " +
                                    "p" * 200 + "\r\n\r\n", 2)),
]
write("http_request", http)
