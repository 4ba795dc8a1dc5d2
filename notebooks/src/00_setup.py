# %% [markdown]
# # 00 · Setup: a model you can call offline
#
# **Objectives**
# - Make a first model call through the official `openai` SDK, with no API key.
# - Understand the *replay* provider: what it answers from, how it finds an answer, what it does when it has none.
# - Tell recorded answers (a real model said this) from scripted ones (the course wrote this).
# - Switch the same code to OpenAI, any OpenAI-compatible server, or a small model on your own machine.

# %% [markdown]
# ## The active provider
#
# Every lesson asks `course_lib` for a provider instead of building a client itself. Which one you get is
# decided by the environment variable `COURSE_PROVIDER`; unset, it is `replay`.

# %%
from course_lib import get_provider, provider_config

provider_config()

# %% [markdown]
# ## A first call
#
# `get_provider(recordings="00_setup")` builds the official `openai` SDK client with an HTTP transport
# that answers from this lesson's recordings. The SDK sends a real HTTP request and parses a real
# response; only the network is missing.

# %%
provider = get_provider(recordings="00_setup")
question = [
    {"role": "system", "content": "You are a concise assistant for software engineers."},
    {"role": "user", "content": "In one sentence: what is a large language model, to a backend engineer?"},
]
result = provider.complete(question, temperature=0)
print(result.text)
print(f"source={result.source}  model={result.model}  usage={result.usage.prompt_tokens}+{result.usage.completion_tokens} tokens")

# %% [markdown]
# `source="scripted"` says the course wrote that answer to show the shape of a good reply; it is not
# a model's output. Answers replayed from a real model say `source="recorded"`. The same question was
# recorded three times from **SmolLM2-135M-Instruct**, a 135-million-parameter model running on a laptop
# CPU. Small models wander, and that is useful: they show the failure modes this course engineers around.

# %%
small = get_provider(model="SmolLM2-135M-Instruct", recordings="00_setup")
for _ in range(3):
    r = small.complete(question, temperature=0.8, max_tokens=60)
    print(f"[{r.source}] {r.text}")

# %% [markdown]
# The three answers differ: at temperature 0.8 the model samples a different path each time. A model
# is a **stochastic function**, and replay keeps that visible: identical requests get the 1st, 2nd, 3rd
# recorded sample in turn.
#
# ## Code written for the `openai` SDK runs unchanged
#
# The replay provider hands out the real SDK client, so code written against `openai` works as is. Replay
# also labels every HTTP response with where its answer came from, in the `x-course-source` header; the
# SDK's `with_raw_response` shows the headers beside the parsed answer.

# %%
client = provider.client
raw = client.chat.completions.with_raw_response.create(
    model="gpt-4o-mini", messages=[{"role": "user", "content": "Name one colour."}], temperature=1.0
)
response = raw.parse()
print(f"[{raw.headers['x-course-source']}] {type(response).__name__} -> {response.choices[0].message.content}")

# %% [markdown]
# ## How replay finds an answer
#
# A request is reduced to its *canonical* form: the endpoint, the model, the messages and the parameters
# that change the answer (temperature, `max_tokens`, `n`, `seed`, `response_format` …). Headers, `stream`
# and the API key are not part of it. The key is the SHA-256 of that JSON.

# %%
from course_lib.providers.replay.recordings import canonical_request, request_key

body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Name one colour."}], "temperature": 1.0}
print(request_key(canonical_request("chat.completions", body))[:16])
print(request_key(canonical_request("chat.completions", {**body, "stream": True}))[:16], "(stream: same key)")
print(request_key(canonical_request("chat.completions", {**body, "temperature": 0.2}))[:16], "(temperature: new key)")

# %% [markdown]
# A request nobody recorded is a *miss*. Replay does not invent an answer: it raises an error that names
# the file, the nearest recorded request, the fields that differ, and the command that records it.

# %%
from course_lib import ReplayMissError

try:
    provider.complete([{"role": "user", "content": "Name one colour."}], temperature=0.2)
except ReplayMissError as err:
    print(err)

# %% [markdown]
# ## Switching providers
#
# Who answers is one row of a table, `course_lib/data/providers.json`: which adapter to build, where the
# server is, which variables hold its URL and key, and the model to ask when the code names none. The
# README, `course --help` and `course doctor` print the same table, so adding a server you run (LM Studio,
# say) is one row, or a copy of the file named by `COURSE_PROVIDER_TABLE`.

# %%
from IPython.display import Markdown

from course_lib.providers.kinds import kind_names, markdown_table

Markdown(markdown_table())


# %% [markdown]
# `COURSE_MODEL` overrides the model a lesson asks for. `provider_config` shows what `get_provider()` would
# build for a row, without calling anything and without showing a key:

# %%
def describe(name: str, env: dict[str, str]) -> str:
    try:
        return str(provider_config(name, env=env))
    except ValueError as err:
        return f"not ready: {err}"


example_env = {"COURSE_BASE_URL": "http://127.0.0.1:8080/v1"}
for name in ("replay", "openai", "openai-compatible", "ollama", "local"):
    print(f"{name:18} {describe(name, example_env)}")

# %% [markdown]
# Pick a row to see the same for it (nothing is called).

# %% tags=["nbval-ignore-output"]
import ipywidgets as widgets

picker = widgets.Dropdown(options=[p for p in kind_names() if p != "record"], description="provider")
widgets.interact(lambda provider: print(describe(provider, example_env)), provider=picker);

# %% [markdown]
# ## Recording your own answers
#
# To replace the recordings with a real model's answers, run a notebook or script under `course record`.
# With the small local model (installed by `pip install -e '.[local]'`):
#
# ```bash
# course record --into 00_setup --upstream local --start-local -- notebooks/00_setup.ipynb
# ```
#
# Each answer is stored with its provenance (model, server, date); request headers and anything that
# looks like a key are never written. With `--upstream openai` and `OPENAI_API_KEY` set, the same command
# records OpenAI's answers.
#
# ## Check the installation

# %%
from course_lib.cli.doctor import diagnose

checks = {row["check"]: row for row in diagnose()}
for name in ("provider", "recordings", "tokenizer", "embeddings"):
    print(f"{'ok' if checks[name]['ok'] else 'FAIL':4} {name}")
print(checks["tokenizer"]["detail"])

# %% [markdown]
# ## Evidence
#
# Each lesson closes with its claims and what backs each one: measured here on the real local model
# (replayed from recordings), cited from published work, or illustrated with scripted answers. A test
# recomputes every measured figure from the recordings, so a box never outlives its data.

# %%
from course_lib.lessons._evidence import evidence_box
from course_lib.lessons.l00_setup.evidence import CLAIMS

evidence_box(CLAIMS)

# %% [markdown]
# ## Summary
#
# - Lessons call `get_provider()`; `COURSE_PROVIDER` decides what answers. The default replays recordings
#   through the real `openai` SDK, offline and deterministic.
# - Every replayed answer says where it came from: `recorded` (a real model) or `scripted` (the course).
# - A miss is an error with the nearest recording and the command to record it, never an invented answer.
#
# Next: **01 · Garbage in, garbage out** (`notebooks/01_gigo.ipynb`).
