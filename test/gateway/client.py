"""A caller with nothing but Python's standard library (what Debian's python3 ships): a plain
and a streamed OpenAI chat call through the tokenmeter gateway. Prints one JSON line:
{"plain": <answer text>, "stream": <streamed text>}.

usage: python3 client.py GATEWAY_URL TOKENMETER_KEY PROVIDER_KEY REQUEST_ID
"""
import json
import sys
import urllib.request

gateway, tm_key, provider_key, request_id = sys.argv[1:5]


def call(body):
    req = urllib.request.Request(
        f"{gateway}/openai/v1/chat/completions",
        data=json.dumps(body).encode(),
        headers={
            "authorization": f"Bearer {provider_key}",
            "content-type": "application/json",
            "x-tokenmeter-key": tm_key,
            "x-tokenmeter-user": "py-user",
            "x-tokenmeter-team": "data",
            "x-tokenmeter-feature": "notebook",
            "x-tokenmeter-request-id": request_id,
            "x-tokenmeter-property-runtime": "python",
        },
    )
    return urllib.request.urlopen(req)


messages = [{"role": "user", "content": "What is the capital of France?"}]
plain = json.load(call({"model": "gpt-4o-mini", "messages": messages}))["choices"][0]["message"]["content"]

streamed = ""
with call({"model": "gpt-4o-mini", "messages": messages, "stream": True}) as res:
    for line in res:
        line = line.decode().strip()
        if not line.startswith("data: ") or line == "data: [DONE]":
            continue
        chunk = json.loads(line[6:])
        for choice in chunk["choices"]:
            streamed += choice["delta"].get("content") or ""

print(json.dumps({"plain": plain, "stream": streamed}))
