# %% [markdown]
# # 03 · Prompt engineering fundamentals
#
# **Objectives**
# - Build zero-shot, few-shot and system-prompt requests with small, tested builders.
# - *Measure* how much worked examples steady the format of a small real model's answers, and how many
#   examples are worth their tokens (the "3–5 examples" rule of thumb, tested).
# - Follow a prompt from a one-line prototype to a versioned, owned prompt file with acceptance criteria.
# - Replace a 50-example prompt with *dynamic* few-shot retrieval (chromadb + an offline MiniLM embedding
#   model) and compute what it saves, with real token counts and dated prices.

# %% [markdown]
# ## Three levels of control
#
# | level | you give the model | like |
# | --- | --- | --- |
# | zero-shot | an instruction | calling a function with a docstring and hoping it parses |
# | few-shot | worked input → output pairs, then your input | a contract written as unit tests |
# | system prompt | rules that hold for the whole conversation | configuration loaded at start-up |
#
# Each costs more tokens than the one before and buys more control. We start with a task whose answer a
# program must parse: pull a person's name out of a sentence, as JSON.

# %%
from course_lib import get_provider
from course_lib.lessons.l03_prompt_fundamentals.format_check import NAME_SENTENCES, classify_format, condition_messages

SMALL = "SmolLM2-135M-Instruct"
small = get_provider(model=SMALL, recordings="03_prompt_fundamentals")
sentence = NAME_SENTENCES[0][0]
zero = condition_messages("zero-shot", sentence)
print(zero)

# %% [markdown]
# ## Zero-shot: an instruction and nothing else
#
# These answers were **recorded** from SmolLM2-135M-Instruct, a 135-million-parameter model, at
# temperature 0.7. Replay serves them in the order they were recorded. `classify_format` sorts each answer
# into a shape: `json_exact` is the one a parser wants, `{"name": "..."}` and nothing else.

# %%
for _ in range(4):
    r = small.complete(zero, temperature=0.7, max_tokens=40)
    print(f"[{r.source}] {classify_format(r.text):10} {r.text!r}")

# %% [markdown]
# Nothing in the request says what shape the answer should have, so the model picks one, and a different
# one on each call: a bare name, an echo of the sentence, a chatty paragraph. A parser can use none of them
# reliably.
#
# ## Few-shot: show the contract
#
# A few-shot prompt puts worked examples before the real input, as alternating `user` / `assistant`
# messages. The model continues the pattern. `few_shot_messages` builds them; `input_template` wraps every
# input, the real one too, so the examples and the question look alike.

# %%
from course_lib.lessons.l03_prompt_fundamentals.format_check import NAME_EXAMPLES, NAME_TEMPLATE
from course_lib.prompts import few_shot_messages

few = few_shot_messages(NAME_EXAMPLES[:3], sentence, input_template=NAME_TEMPLATE)
assert few == condition_messages("few-shot (3 examples)", sentence)
for m in few:
    print(f"{m['role']:>9}: {m['content']}")

# %%
for _ in range(4):
    r = small.complete(few, temperature=0.7, max_tokens=40)
    print(f"[{r.source}] {classify_format(r.text):10} {r.text!r}")

# %% [markdown]
# ## Measuring format consistency
#
# Four answers prove nothing. The experiment in `scripts/experiments/03_format_consistency.py` asked the
# small model five different sentences, eight times each, under three conditions: the bare instruction,
# the instruction plus an explicit format rule ("Reply with JSON only, exactly like …"), and three worked
# examples. Here we replay those recorded answers and recompute every rate from them.

# %%
from course_lib.lessons.l03_prompt_fundamentals.format_check import run_format_experiment, summarise

fresh = get_provider(model=SMALL, recordings="03_prompt_fundamentals")  # fresh replay counters
samples = run_format_experiment(fresh, samples=8, temperature=0.7, max_tokens=40)
summary = summarise(samples)
print(f"{len(samples)} answers = {len(summary)} conditions x {len(NAME_SENTENCES)} sentences x 8 samples; "
      f"sources: {sorted({s.source for s in samples})}")
for row in summary:
    print(f"{row.condition:24} n={row.n}  target format {row.target_rate:4.0%}  right name too "
          f"{row.exact_rate:4.0%}  most common shape: {row.modal_kind} ({row.modal_rate:.0%})")

# %% [markdown]
# The left panel shows every shape each condition produced; the right one the share in the exact target
# format.

# %%
import matplotlib.pyplot as plt

from course_lib.lessons.l03_prompt_fundamentals.plots import plot_format_consistency

plot_format_consistency(summary)
plt.show()

# %%
shapes = {}
for s in samples:
    if s.condition == "zero-shot + format rule":
        shapes.setdefault(s.kind, s)
for kind, example in shapes.items():
    print(f"  format rule, {kind:13} e.g. [{example.source}] {example.text[:60]!r}")

# %% [markdown]
# **What we measured.** With the bare instruction the small model never gave the target shape: it answered
# in sentences, mostly echoing the input. (A large hosted model may guess JSON unprompted; a 135M model
# does not.) A *format rule in words* moved it towards JSON, but rarely the exact
# shape: it invented extra fields, nested objects, or ran past the 40-token cap mid-object (`json_broken`).
# Three worked examples gave the exact shape every time. Two cautions: the rate counts the *shape*, and a
# well-shaped answer can still carry the wrong name (compare "right name too": one answer copied a name
# from an example); and these are one small model's numbers at one temperature, not a law. Record the
# experiment against your own model to get yours.
#
# ## How many examples? The rule of thumb, tested
#
# A common rule of thumb says 3–5 examples. Each example rides along with *every* request, so the
# question is where the format rate stops rising while the cost keeps growing. The sweep below asks the
# small model the same task with 0, 1, 2, 3, 5 and 8 worked examples (5 sentences × 4 samples each,
# recorded at temperature 0.7) and counts the answers in the exact format with the right name. The prompt
# tokens are counted with the `gpt-4o` tokenizer.

# %%
from course_lib.lessons.l03_prompt_fundamentals.k_sweep import run_k_sweep, smallest_sufficient_k
from course_lib.lessons.l03_prompt_fundamentals.plots import plot_k_sweep
from course_lib.tokens import count_message_tokens

sweep = run_k_sweep(get_provider(model=SMALL, recordings="03_prompt_fundamentals"))
for p in sweep:
    print(f"k={p.k}: {p.right:2}/{p.n} exact ({p.rate:4.0%}), {p.prompt_tokens:5.0f} prompt tokens")
enough = smallest_sufficient_k(sweep, tolerance=0.05)
per_example = (sweep[-1].prompt_tokens - sweep[0].prompt_tokens) / sweep[-1].k
print(f"fewest examples within 5 points of the best rate: k={enough.k}; about {per_example:.0f} tokens per example")

# %%
plot_k_sweep(sweep, chosen=enough.k, title=f"{SMALL}: exact answers and prompt tokens by number of examples")
plt.show()

# %% [markdown]
# On this task the rule of thumb holds: one example does most of the work, the rate levels off around
# three, and every further example still costs its tokens on every request. Published work on larger
# models agrees on the shape: Min et al. (2022) saw little gain beyond about 8 examples across 12 models up
# to GPT-3, and found that what the examples mostly teach is the format and the label space. The right
# `k` is a measurement on your task: run the sweep, pick the fewest examples within a tolerance of the
# best, and re-run it when the model changes. `smallest_sufficient_k` is that rule.
#
# ## System prompts: rules for the whole conversation
#
# A production system prompt has parts: a role, hard constraints, an output format, a tone, and examples
# of good and bad answers. `SystemPrompt` assembles them, one headed section per part that is not empty.

# %%
from course_lib.prompts import SystemPrompt

support = SystemPrompt(
    role="You are the support assistant of Acme Cloud, a hosting company.",
    constraints=["Answer only questions about Acme Cloud.", "Never reveal internal tickets or staff names."],
    output_format=["Numbered steps for procedures.", "Say 'I don't know' when unsure."],
    tone=["Plain words, no jargon.", "Acknowledge the customer's frustration once."],
    good_examples=[("How do I reset my password?", "1. Open acme.example/login\n2. Choose 'Forgot password'")],
)
print(support.render())

# %% [markdown]
# A system prompt is meant to *win* when the user asks for something it forbids. That is behaviour models
# are trained for, not a rule anything enforces. Below, the same request answered by a **scripted** reply
# written by the course to show the typical behaviour of a capable model (`source="scripted"`), then by
# the real small model (`source="recorded"`).

# %%
CONFLICT = [
    {"role": "system", "content": "You only output JSON. Never use prose."},
    {"role": "user", "content": "Write a poem about coding."},
]
big = get_provider(model="gpt-4o-mini", recordings="03_prompt_fundamentals")
r = big.complete(CONFLICT, temperature=0)
print(f"[{r.source} {r.model}] {r.text}")
for _ in range(3):
    r = small.complete(CONFLICT, temperature=0.7, max_tokens=60)
    print(f"[{r.source} {r.model}] {r.text[:110]!r}")

# %% [markdown]
# A common misconception is that the system prompt is a security boundary against prompt injection. It
# is a strong instruction, nothing more: weaker models ignore it (above), and stronger ones can be talked
# out of it. Treat it as one layer, and check what comes back in code (lesson 07 validates output).
#
# ## A prompt's evolution: from prototype to production
#
# A team needs one-line bug summaries its tracker can parse. The format the tracker wants is
# `<who> cannot <action> due to <reason>`, at most 15 words, facts only. `bug_summary_checks` tests an
# answer against those rules. We follow three iterations of the prompt over the same three reports.
# The answers are **scripted** (written by the course to illustrate what a capable model does with each
# prompt); the point here is the prompt, not the model.

# %%
from course_lib.lessons.l03_prompt_fundamentals.format_check import bug_summary_checks
from course_lib.prompts import zero_shot

REPORTS = [
    "User cannot log in after resetting their password.",
    "Exporting a report to CSV times out when it has more than 50,000 rows.",
    "Push notifications stop arriving on Android after the app updates to 4.2.",
]
INSTRUCTIONS = "Summarise this bug report in at most 20 words, as one sentence, without guessing at causes."
print(zero_shot(f"Summarise: {REPORTS[0]}"))  # iteration 1: a bare instruction
print(zero_shot(INSTRUCTIONS, f"Report: {REPORTS[0]}"))  # iteration 2: instructions

# %% [markdown]
# Iteration 3 moves the rules into a system prompt and adds two worked examples in the target format.

# %%
BUG_SYSTEM = SystemPrompt(
    role="You summarise bug reports for a development team's issue tracker.",
    constraints=["At most 15 words.", "Only facts stated in the report; never guess a cause."],
    output_format=["One line: <who> cannot <action> due to <reason>.", "No preamble, no explanation."],
)
BUG_EXAMPLES = [
    ("The app crashes whenever a user uploads a file larger than 10 MB.",
     "User cannot upload large files due to a crash above 10 MB."),
    ("Card payments fail now and then when traffic is high.",
     "User cannot pay by card due to failures under high traffic."),
]


# %%
def iteration_messages(iteration: int, report: str) -> list[dict]:
    if iteration == 1:
        return zero_shot(f"Summarise: {report}")
    if iteration == 2:
        return zero_shot(INSTRUCTIONS, f"Report: {report}")
    return few_shot_messages(BUG_EXAMPLES, report, system=BUG_SYSTEM.render(), input_template="Report: {input}")


for iteration in (1, 2, 3):
    print(f"iteration {iteration}: {count_message_tokens(iteration_messages(iteration, REPORTS[0]), 'gpt-4o-mini')} "
          "prompt tokens")
    for report in REPORTS:
        answer = big.complete(iteration_messages(iteration, report), temperature=0)
        passed = sum(bug_summary_checks(answer.text).values())
        print(f"  [{answer.source}] {passed}/5 rules  {answer.text[:88]}")

# %% [markdown]
# Iteration 1 is long and guesses at causes. Iteration 2 is short but each answer has its own shape, and
# one opens with a preamble. Iteration 3 is the only one a regular expression can parse, and it is also
# the most expensive prompt: the system prompt and examples ride along with every request.
#
# ## The prompt as a versioned artefact
#
# Once a prompt runs in production it is code: it needs an owner, a version, acceptance criteria and a
# changelog. The course keeps such prompts as TOML files; `load_prompt` validates them on load.

# %%
from course_lib.prompt_files import load_prompt

summariser = load_prompt("customer_support_summariser")
print(f"{summariser.name} v{summariser.version}, owner {summariser.owner}, updated {summariser.last_updated}")
for entry in summariser.changelog:
    print(f"  {entry.version}  {entry.date}  {entry.summary}")
print("acceptance:", "; ".join(str(c) for c in summariser.evaluation))

# %% [markdown]
# `summariser.messages(ticket)` builds the request: its system prompt, its worked examples, then the
# ticket. The answers below are **scripted**. We check each against the one-line format and feed the
# measured rate to the file's own acceptance criteria; metrics we did not measure count as failed.

# %%
import re

SUPPORT_LINE = re.compile(r"^(billing|login|data|performance|other) \| [^|]+ \| (low|normal|high)$")
TICKETS = [
    "I changed my password this morning and now the mobile app says my session is invalid every time "
    "I open it. I can't see any of my orders.",
    "Could you add a dark mode? The white background is hard on the eyes at night.",
]
answers = [big.complete(summariser.messages(t), temperature=0) for t in TICKETS]
valid = [bool(SUPPORT_LINE.match(a.text)) for a in answers]
for a, ok in zip(answers, valid):
    print(f"[{a.source}] {'valid' if ok else 'INVALID'}  {a.text}")
print(summariser.check({"format_valid_rate": sum(valid) / len(valid)}))

# %% [markdown]
# Two scripted answers say little. Each criterion in the file names the eval that measures it
# (`eval = "support_summary"`: ten labelled tickets, `course_lib/data/evals/support_tickets.jsonl`), so
# the criteria can be run instead of assumed. Here on the small model's recorded answers (SmolLM2-135M,
# temperature 0). Latency measured on replay is replay's own speed, not the model's, so we leave it out:
# a missing metric fails.

# %%
from course_lib.evals.criteria import measure_criteria

tiny_summaries = get_provider(model="SmolLM2-135M-Instruct", recordings="11_evaluation")
measured = measure_criteria(summariser, tiny_summaries, temperature=0, max_tokens=40)
measured.pop("p95_latency_s")
print({metric: f"{value:.0%}" for metric, value in measured.items()})
print(summariser.check(measured))

# %% [markdown]
# The small model keeps the format on most tickets and puts most of them in the wrong product area: the
# format criterion is close, the accuracy criterion far off. Lesson 11 builds these evals on Inspect.
#
# A change that skips the process is refused. Bumping the version without a changelog entry:

# %%
from course_lib.prompt_files import PROMPTS_DIR, PromptFileError, parse_prompt_file

text = (PROMPTS_DIR / "customer_support_summariser.toml").read_text(encoding="utf-8")
try:
    parse_prompt_file(text.replace('version = "1.2.0"', 'version = "1.3.0"', 1), source="summariser.toml")
except PromptFileError as err:
    print(err)

# %% [markdown]
# ## Checkpoint: few-shot at scale, without paying for every example
#
# A legal-tech service classifies contract clauses into categories with a few-shot prompt that carries
# **every** labelled example, about fifty of them, on every request. Accuracy is good; the bill is not.
# The fix is *dynamic few-shot*: store the examples in a vector database and send only the `k` most
# similar to the clause at hand.
#
# `FewShotSelector` does that with the course's 50 labelled clauses. It embeds them with all-MiniLM-L6-v2,
# run offline from files shipped with the course, into an in-memory chromadb collection (nothing is
# written to disk, nothing is downloaded).

# %%
from course_lib.retrieval import FewShotSelector

selector = FewShotSelector()
print(f"{len(selector.examples)} examples, {len(selector.labels)} labels: {', '.join(selector.labels)}")
print(type(selector.client).__name__, "| collection:", selector.collection.name)
clause = ("Either partner may inspect the books of the venture, and profits are shared "
          "in proportion to each partner's capital contribution.")
for hit in selector.select(clause, 3):
    print(f"  {hit.similarity:.3f}  {hit.example.label:12} {hit.example.text[:70]}")

# %% [markdown]
# Move the slider: more examples means more context for the model and a longer, dearer prompt. The report
# prices a month of requests at `gpt-4o-mini`'s dated price, the dynamic one including the query's
# embedding.

# %% tags=["nbval-ignore-output"]
from course_lib.lessons.l03_prompt_fundamentals.widgets import fewshot_k_report, fewshot_k_widget

fewshot_k_widget(selector, clause, k=3, model="gpt-4o-mini", requests_per_month=100_000)

# %%
print(fewshot_k_report(selector, clause, 3, model="gpt-4o-mini", requests_per_month=100_000))

# %% [markdown]
# ## Does retrieval find the right examples?
#
# Retrieval only helps if the nearest examples share the clause's label. Leave-one-out: take each of the
# 50 clauses as a query, retrieve its nearest neighbours among the *other* 49, and see whether the nearest
# one, and the majority of the nearest three, carry its label. No model call is involved.
#
# The collection already holds every clause's embedding (unit length, so a dot product is the cosine
# similarity); masking the diagonal leaves each clause out of its own neighbours.

# %%
from collections import Counter

import numpy as np

stored = selector.collection.get(include=["embeddings", "metadatas"])
vectors, labels = np.asarray(stored["embeddings"]), [m["label"] for m in stored["metadatas"]]
similarity = vectors @ vectors.T
np.fill_diagonal(similarity, -np.inf)
nearest = np.argsort(-similarity, axis=1)[:, :3]
top1 = sum(labels[row[0]] == label for row, label in zip(nearest, labels))
top3 = sum(Counter(labels[j] for j in row).most_common(1)[0][0] == label for row, label in zip(nearest, labels))
print(f"nearest neighbour has the right label: {top1}/{len(labels)}   majority of 3 nearest: {top3}/{len(labels)}")

# %% [markdown]
# Now the small model itself, **recorded**: the first two clauses of each label (20 queries), classified
# with no examples and with the 3 nearest examples from the other clauses, at temperature 0.

# %%
from course_lib.retrieval import fewshot_messages


def neighbours(example, k):
    hits = selector.select(example.text, k + 1)
    return [h.example for h in hits if h.example.id != example.id][:k]


queries = [e for e in selector.examples if e.id.endswith(("-1", "-2"))]
right, copied = Counter(), 0
for e in queries:
    three = neighbours(e, 3)
    for shots in ([], three):
        messages = fewshot_messages(shots, e.text, system=selector.system, labels=selector.labels)
        answer = small.complete(messages, temperature=0, max_tokens=8).text.strip().rstrip(".")
        right[len(shots)] += answer.lower() == e.label.lower()
    copied += answer.lower() == three[0].label.lower()
print(f"{SMALL}: right label with no examples {right[0]}/{len(queries)}, with 3 retrieved examples "
      f"{right[3]}/{len(queries)}; answer = nearest example's label {copied}/{len(queries)}")

# %% [markdown]
# On its own the 135M model does not classify at all: it continues or paraphrases the clause. With three
# retrieved examples it answers with a label, and the last count shows how: it largely repeats the label of
# the nearest example. That works exactly as far as retrieval puts a same-label clause first, which is why
# the leave-one-out check above is worth running on your own examples. For a large model, Liu et al.
# (2022) found that retrieving the examples most similar to the input consistently beat randomly chosen
# ones with GPT-3; run this cell with `COURSE_PROVIDER=openai` and `COURSE_MODEL` set to a large model to
# measure it on these clauses.
#
# ## What it saves
#
# Tokens per request for every `k`, from one retrieval, against the static prompt with all 50 examples;
# and the monthly bill over request volume for `gpt-4o-mini`.

# %%
from course_lib.lessons.l03_prompt_fundamentals.plots import plot_fewshot_cost
from course_lib.tokens import count_tokens
from course_lib.lessons.l03_prompt_fundamentals.widgets import fewshot_request_cost, fewshot_token_curve

MODEL, OUT = "gpt-4o-mini", 10
curve = fewshot_token_curve(selector, clause, range(1, 51), model=MODEL)
static_tokens = count_message_tokens(selector.static_messages(clause), MODEL)
volumes = [1_000, 10_000, 100_000, 1_000_000, 10_000_000]
per_request = {
    "static (50 examples)": fewshot_request_cost(static_tokens, OUT, MODEL),
    "dynamic (k = 3)": fewshot_request_cost(curve[3], OUT, MODEL, embedding_tokens=count_tokens(clause, MODEL)),
}
monthly = {label: [cost * v for v in volumes] for label, cost in per_request.items()}
plot_fewshot_cost(curve, static_tokens, monthly, volumes, title=f"Monthly cost, {MODEL}")
plt.show()


# %% [markdown]
# Both lines are straight on a log-log plot: the saving is a constant *fraction*, so it only matters in
# dollars at volume. The crossover where dynamic retrieval stops paying is when `k` approaches the number
# of stored examples (left panel).
#
# ## What it saves, in dollars
#
# Suppose a service whose static prompt carries 2,500 tokens (50 examples and the contract) against 620
# with the 3 nearest examples, 10 output tokens, GPT-4's dated prices, a 500-token query embedded for
# retrieval, and 100,000 requests a month. These are assumptions; change them to yours.

# %%
from course_lib.cost import load_prices

STATIC_TOKENS, DYNAMIC_TOKENS, EMBED_TOKENS, MONTHLY = 2_500, 620, 500, 100_000
old = fewshot_request_cost(STATIC_TOKENS, OUT, "gpt-4")
new = fewshot_request_cost(DYNAMIC_TOKENS, OUT, "gpt-4", embedding_tokens=EMBED_TOKENS)
embedding = fewshot_request_cost(0, 0, "gpt-4", embedding_tokens=EMBED_TOKENS)
print(f"prices as of {load_prices().as_of}")
print(f"static ${old:.4f} -> dynamic ${new:.5f} per request (the embedding is ${embedding:.6f} of it); "
      f"cut {1 - new / old:.1%}; ${old * MONTHLY:,.0f} -> ${new * MONTHLY:,.0f} a month")

# %% [markdown]
# **Check the arithmetic** once: at GPT-4's $0.03 per 1K input and $0.06 per 1K output tokens, the static
# request is 2.5 × $0.03 + 0.01 × $0.06 = $0.0756, which is the first figure above. The query's embedding
# is a rounding error next to the examples it replaces.
#
# With the real token counts of *our* prompts (the clause above) and three models' dated prices:

# %%
for model in ("gpt-4", "gpt-3.5-turbo", "gpt-4o-mini"):
    static = count_message_tokens(selector.static_messages(clause), model)
    dynamic = count_message_tokens(selector.messages(clause, 3), model)
    old = fewshot_request_cost(static, OUT, model)
    new = fewshot_request_cost(dynamic, OUT, model, embedding_tokens=count_tokens(clause, "text-embedding-3-small"))
    print(f"{model:14} {static:5} vs {dynamic:4} tokens  ${old * MONTHLY:9,.2f} -> ${new * MONTHLY:8,.2f} /month  "
          f"cut {1 - new / old:.1%}")

# %% [markdown]
# The cut is the examples' share of the prompt, so it is about the same fraction whatever the price; our
# clauses are short, so the examples are most of the prompt and the cut is large (a long contract would
# dilute it). At a small current model's prices the whole static service is cheap: the case for dynamic
# few-shot then rests on volume, latency and context-window headroom as much as on dollars.

# %%
from course_lib.lessons._evidence import evidence_box
from course_lib.lessons.l03_prompt_fundamentals.evidence import CLAIMS

evidence_box(CLAIMS)

# %% [markdown]
# ## Summary
#
# - Zero-shot is cheapest and least predictable; worked examples fix the *shape* of an answer far better
#   than describing it, and that is measurable: replay the experiment, count the shapes.
# - How many examples is a measurement too: sweep `k`, take the fewest within a tolerance of the best.
#   Here the rate levelled off at three, as the 3–5 rule of thumb says, while tokens grew with every example.
# - A system prompt holds the rules for the whole conversation, built from parts (role, constraints, format,
#   tone, examples). It is an instruction, not a security boundary.
# - A production prompt is versioned code: owner, version, changelog, acceptance criteria, validated on load.
# - Dynamic few-shot retrieval sends only the `k` nearest examples: the prompt shrinks with `k`, the cost
#   with it, and leave-one-out retrieval accuracy tells you whether the examples it picks are the right ones.
#
# **Exercise:** `exercises/03_prompt_fundamentals.ipynb`: a few-shot message builder, a system prompt from
# parts, a top-k example selector and the cost comparison. Grade it with
# `course grade exercises/03_prompt_fundamentals.ipynb`.
#
# Next: **04 · Chain of thought** (`notebooks/04_chain_of_thought.ipynb`).
