"""Instruments the platform runs itself: `local/echo`, the offline test model.

`local/echo` answers with its prompt (the `system_prompt` is not repeated). With
`response_format: json` the reply is JSON text: the prompt itself when it already is
JSON text (so a test or demo can script a model's JSON answer), else
`{"text": <prompt>}`. Usage counts whitespace-separated words: `tokens_in` over the
system prompt and the prompt, `tokens_out` over the reply; cost 0. The `usage`
output port and `NodeOutcome.usage` carry the same facts.
"""

from __future__ import annotations

import json

import orjson

from executions.runtime.config import config_text, invalid_input, node_config
from executions.runtime.contract import NodeContext, NodeOutcome
from executions.runtime.ports import describe

ECHO_MODEL = "local/echo"


def _is_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def run_echo(context: NodeContext) -> NodeOutcome:
    prompt = context.inputs.get("prompt")
    if not isinstance(prompt, str):
        raise invalid_input(context, "prompt", f"must be text, got {describe(prompt)}.")
    system_prompt = config_text(context, "system_prompt")
    reply = prompt
    if node_config(context).get("response_format") == "json" and not _is_json(prompt):
        reply = json.dumps({"text": prompt}, ensure_ascii=False)
    usage = {"model": ECHO_MODEL, "tokens_in": len(system_prompt.split()) + len(prompt.split()),
             "tokens_out": len(reply.split()), "cost": 0}
    return NodeOutcome(outputs={"text": reply, "usage": usage}, usage=usage)
