"""Real answers of lesson 02 from SmolLM2-135M-Instruct, through two endpoints and two chat templates.

    COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=02_api_request \\
        python scripts/recordings/02_api_request_local.py

(or ``course record --into 02_api_request --upstream local -- scripts/recordings/02_api_request_local.py``).
Run ``02_api_request.py`` first. For each ticket the same request goes to the server three ways:

* ``/chat/completions``: the server applies SmolLM2's own chat template;
* ``/completions`` with our ChatML rendering (SmolLM2's format): the answer should be identical;
* ``/completions`` with the Llama-3 rendering: the wrong format for this model.

Both raw-completion providers share the record provider's recording transport, so everything lands in
one file, written once per answer.
"""

import httpx2

from course_lib.providers.completion_adapter import CompletionProvider
from course_lib.providers.registry import get_provider

MODEL = "SmolLM2-135M-Instruct"
TICKET_SYSTEM = "You summarise customer support tickets in one sentence for the on-call engineer."
TICKETS = [
    "Hi, since this morning our team cannot log in. The password reset email arrives but the link says "
    "'token expired' straight away. We are on the Business plan, account ACME-4411.",
    "The CSV export of invoices for March has the amounts in cents instead of euros. Our accountant "
    "noticed it today; February's export was fine.",
    "Webhook deliveries to https://hooks.example.org/orders have been failing with HTTP 500 since the "
    "02:00 deploy. We lost about 300 order notifications.",
]

chat = get_provider(model=MODEL)
recorder = getattr(chat, "recorder", None)
if recorder is None:
    raise SystemExit("run this under COURSE_PROVIDER=record (see the docstring): nothing would be recorded")
base_url = str(chat.client.base_url)
raw = {
    name: CompletionProvider.from_base_url(
        base_url, name, MODEL, api_key="local", transport=httpx2.MockTransport(recorder.handle)
    )
    for name in ("chatml", "llama3")
}
for ticket in TICKETS:
    messages = [{"role": "system", "content": TICKET_SYSTEM}, {"role": "user", "content": ticket}]
    for label, provider in (("chat", chat), ("chatml", raw["chatml"]), ("llama3", raw["llama3"])):
        result = provider.complete(messages, temperature=0, max_tokens=60)
        print(f"{label:7} {result.usage.prompt_tokens:4} {result.finish_reason:7} {result.text!r}")
print(f"recorded {recorder.recorded} answers into {recorder.store.path}")
