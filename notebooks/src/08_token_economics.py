# %% [markdown]
# # 08 · Token economics: what a request costs, and how to stop a runaway
#
# **Objectives**
# - Price a request from its real token counts (tiktoken) and a dated price table, cached and hidden
#   reasoning tokens included.
# - See how far the "4 characters per token" rule of thumb lands from a real count.
# - Compute the five cost optimisations (prompt caching, model routing, output limits, compression,
#   batching) and their compound effect from stated assumptions, and change those assumptions.
# - Meter spend over every call, not the last one, and replay a 3 am cost runaway against a rate
#   limiter, a budget circuit breaker, an anomaly detector and a kill switch.
#
# Most of this lesson is arithmetic on token counts and prices: only two model calls are replayed, and
# their answers are **scripted** by the course (`source == "scripted"`), not a model's output. Business
# figures (traffic, shares, hit rates) are assumptions, each stated once where it is used.

# %% [markdown]
# ## 1. The price table
#
# Prices change, so the course keeps them in one dated file (`course_lib/data/models.json`) in USD per
# million tokens, with where they came from. It holds the GPT-4-era models beside two current ones, which
# shows how fast prices fall.

# %%
from course_lib.cost import load_prices

prices = load_prices()
print(f"as of {prices.as_of}; {prices.source[:60]}…")
for name in ("gpt-4", "gpt-4-turbo", "gpt-3.5-turbo", "gpt-4o", "gpt-4o-mini"):
    p = prices.get(name)
    cached = "   none" if p.cached_input is None else f"{p.cached_input:7.3f}"
    print(f"{name:14} input {p.input:6.2f}  cached {cached}  output {p.output:6.2f}  output/input {p.output / p.input:.0f}x")

# %% [markdown]
# An output token costs several input tokens: twice for GPT-4, four times for the current models. Answers
# are the expensive part of a request, which is why the cap on an answer's length matters so much below.

# %% [markdown]
# ## 2. A typical request, counted
#
# Summarise a 5,000-word article on GPT-4 with `max_tokens=500`. One paragraph repeated to 5,000 words
# stands in for the article (what matters for the count is tokens per word of ordinary English). The call
# is replayed; its answer is scripted.

# %%
from course_lib import get_provider

PARAGRAPH = (
    "When the payments team moved its nightly settlement job to a new cluster, nobody expected the change "
    "to touch customers. The job ran as before, but it now started twenty minutes later, and that delay "
    "pushed the final reconciliation past the cut-off the card network imposes. For three days, a small "
    "share of refunds reached customers a day late. Support saw the tickets first: polite questions at "
    "first, then angry ones. The fix took an afternoon; finding the cause took a week, because each team "
    "looked at its own dashboards and every dashboard was green."
)
ARTICLE = " ".join((PARAGRAPH.split() * 60)[:5000])
request = [
    {"role": "system", "content": "You are a helpful assistant."},
    {"role": "user", "content": f"Summarize this article: {ARTICLE}"},
]
llm = get_provider(recordings="08_token_economics", model="gpt-4")
result = llm.complete(request, max_tokens=500)
print(f"source={result.source}  words in the article={len(ARTICLE.split()):,}  usage: {result.usage}")

# %% [markdown]
# `computed=True`: the answer is scripted, so its usage was counted with tiktoken when it was recorded. A
# real server reports usage itself, and `usage` is what you are billed for. `request_cost` prices it: the
# uncached prompt at the input rate, cached prompt tokens at the cached rate, the answer at the output rate.
# Suppose the service sends 100,000 such requests a month:

# %%
from course_lib.cost import count_message_tokens, count_tokens, monthly_projection, request_cost

REQUESTS_PER_MONTH = 100_000
typical = request_cost(result, "gpt-4")
system = count_message_tokens(request[:1], "gpt-4") - 3  # minus the 3 tokens that prime the reply
print(f"system prompt {system} tokens ({count_tokens(request[0]['content'], 'gpt-4')} of text + message framing); "
      f"whole prompt {typical.prompt_tokens:,} tokens, {typical.prompt_tokens / 5000:.2f} per word of the article")
print(f"one request: ${typical.input_cost:.4f} in + ${typical.output_cost:.4f} out = ${typical.total:.4f}")
print(f"{REQUESTS_PER_MONTH:,} a month → ${monthly_projection(typical, REQUESTS_PER_MONTH / 30).per_month:,.0f}")
print(f"the article is {typical.input_cost / typical.total:.0%} of the bill; the answer, {typical.completion_tokens} "
      f"tokens, the rest")

# %% [markdown]
# A word of English prose is more than one token, so a long document dominates the bill even though its
# tokens are the cheap kind. Count, don't guess; and the next section shows why guessing from characters
# is no better.
#
# ## 3. Four characters per token?
#
# The rule of thumb "1 token ≈ 4 characters" is handy on a whiteboard. Here it is against the two
# tokenizers the price table's models use: `cl100k_base` (GPT-4, GPT-3.5) and `o200k_base` (GPT-4o).

# %%
import inspect
import json

from course_lib.cost import estimate_tokens_by_chars
from course_lib.lessons.l08_token_economics.runaway import agent_messages, clock_label

samples = {
    "English prose": PARAGRAPH,
    "order history": agent_messages()[1]["content"],
    "JSON": json.dumps({"order": "A10417", "status": "delivered", "refund_cents": 1990, "late_days": 3}),
    "Python code": inspect.getsource(clock_label),
    "German": "Die Rückerstattung wurde gestern veranlasst und sollte in drei Werktagen auf Ihrem Konto sein.",
    "Japanese": "返金は昨日手続きされ、3営業日以内にお客様の口座に反映される予定です。",
}
misses = {}
for name, text in samples.items():
    guess, gpt4, gpt4o = estimate_tokens_by_chars(text), count_tokens(text, "gpt-4"), count_tokens(text, "gpt-4o")
    misses[name] = guess / gpt4 - 1
    print(f"{name:14} {len(text):5} chars  4-char guess {guess:4}  cl100k {gpt4:4} ({misses[name]:+4.0%})  o200k {gpt4o:4}")
worst = min(misses, key=misses.get)
print(f"worst miss: {worst}, where the real count is {1 / (1 + misses[worst]):.1f}x the guess")

# %% [markdown]
# The rule over-counts this English prose and under-counts everything else: identifiers, JSON and code
# by a quarter to a third, Japanese (where a character is often a token or more) by far more. A budget
# guard that estimated with it could be off several times over. The guards in this course count with the
# model's own tokenizer, which also differs between model families (German, Japanese).
#
# ## 4. Hidden reasoning tokens
#
# A reasoning model thinks before it answers, and bills the thinking. The API reports those tokens
# *inside* `completion_tokens`, with the share that was reasoning in
# `usage.completion_tokens_details.reasoning_tokens`. The price table holds no reasoning model, so this
# example prices GPT-4o's rates as a stand-in. Suppose a question with a 400-token prompt comes back with
# a 300-token answer after 1,200 tokens of hidden reasoning, as the API would report it:

# %%
reported = {"prompt_tokens": 400, "completion_tokens": 1500, "completion_tokens_details": {"reasoning_tokens": 1200}}
thinking = request_cost(reported, "gpt-4o")
print(f"completion {thinking.completion_tokens:,} tokens: {thinking.reasoning_tokens:,} reasoning + "
      f"{thinking.visible_completion_tokens} you can read")
print(f"output ${thinking.output_cost:.4f}, of which reasoning ${thinking.reasoning_cost:.4f}; total ${thinking.total:.4f}")
naive_total = thinking.total + thinking.reasoning_tokens * prices.get("gpt-4o").output / 1e6
print(f"adding the reasoning on top of the completion would give ${naive_total:.4f}: "
      f"{naive_total / thinking.total - 1:.0%} too much, billed twice")
print(f"pricing only the visible answer would give ${request_cost({'prompt_tokens': 400, 'completion_tokens': 300}, 'gpt-4o').total:.4f}")

# %% [markdown]
# Two mistakes sit on either side of the right figure: adding reasoning to the completion bills it twice,
# and pricing only the text you can read misses most of the cost. The answer the user sees is a fifth of
# what was generated here, and a length cap on the completion is a cap on reasoning plus answer: set it
# too low and the model spends it all thinking and returns nothing.
#
# ## 5. Optimisation 1: prompt caching
#
# Providers bill prompt tokens they have just seen (a stable prefix: the system prompt, fixed examples,
# tool definitions) at a lower *cached* rate. Suppose a 500-token system prompt and a 50-token question,
# 100,000 requests, and a cached rate 90 % below the input rate. GPT-4 never had a cached rate (`none`
# above), so this is a what-if: `what_if_prices()` gives the three older GPT models that discount.

# %%
from course_lib.lessons.l08_token_economics.widgets import what_if_prices

what_if = what_if_prices(cache_discount=0.9)


def bill(prompt: int, cached: int, completion: int = 0, table=what_if, model="gpt-4", n=100_000) -> float:
    """First request misses the cache; the other n - 1 hit it."""
    miss = request_cost({"prompt_tokens": prompt, "completion_tokens": completion}, model, prices=table).total
    hit = request_cost({"prompt_tokens": prompt, "completion_tokens": completion, "cached_tokens": cached},
                       model, prices=table).total
    return miss + (n - 1) * hit


# %%
for label, completion in (("prompt only", 0), ("with a 400-token answer", 400)):
    plain, cached = bill(550, 0, completion), bill(550, 500, completion)
    print(f"{label:24} ${plain:9,.2f} → ${cached:9,.2f}  saving {1 - cached / plain:.0%}")
print(f"with the price table as it is (no cached rate for gpt-4): saving {1 - bill(550, 500, table=prices) / bill(550, 0, table=prices):.0%}")

# %% [markdown]
# On the prompt alone the cache removes most of the bill. Three things shrink it in practice:
#
# - **Answers are not cached.** With an answer of ordinary length, the same cache saves far less (second
#   line).
# - **A floor.** OpenAI caches automatically, but only prompts of at least 1,024 tokens, and then in steps
#   of 128 tokens; Anthropic's explicit cache has a similar minimum and bills cache *writes* above the input
#   rate. A 550-token prompt is never cached.
# - **The discount is per model** (next cell): half price on the GPT-4o family in the table.
#
# To get hits, put everything stable first and anything that varies (the user's question, a timestamp)
# after it: one changed token early in the prompt makes everything after it a miss.

# %%
for name in ("gpt-4o", "gpt-4o-mini", "claude-sonnet-5-5"):
    p = prices.get(name)
    print(f"{name:18} cached input ${p.cached_input:.3f} vs ${p.input:.3f} per million: {1 - p.cached_input / p.input:.0%} off")

# %% [markdown]
# ## 6. Optimisation 2: model routing
#
# Not every query needs the strongest model. Suppose 60 % of queries can be answered by GPT-3.5-Turbo,
# 30 % need GPT-4-Turbo and 10 % GPT-4, and a query is 1,000 prompt and 250 completion tokens:

# %%
from course_lib.lessons.l08_token_economics.savings import ModelRouting, Scenario, saving

mix = {"gpt-3.5-turbo": 0.6, "gpt-4-turbo": 0.3, "gpt-4": 0.1}
query = {"prompt_tokens": 1000, "completion_tokens": 250}
for model, share in mix.items():
    print(f"{model:14} {share:4.0%} of queries at ${request_cost(query, model).total:.4f}")
all_gpt4 = Scenario.for_model("gpt-4", **query, requests_per_day=1000)
routed = saving(all_gpt4, ModelRouting(mix))
print(f"blended ${routed.after.total:.4f} a query against ${routed.before.total:.4f} on GPT-4 alone: "
      f"{routed.fraction:.0%} less")

# %% [markdown]
# Two costs come with routing: the classifier that picks the tier runs on *every* query, and a wrong route
# sends a hard question to a weak model (which costs a retry, or a wrong answer). The classifier is cheap,
# as long as it is small and short:

# %%
classify = [
    {"role": "system", "content": "Rate the query's complexity. Answer with one word: SIMPLE, MEDIUM or COMPLEX."},
    {"role": "user", "content": "Why was I charged twice for order A10417 after the refund?"},
]
overhead = request_cost({"prompt_tokens": count_message_tokens(classify, "gpt-4o-mini"), "completion_tokens": 2},
                        "gpt-4o-mini").total
print(f"classifier on gpt-4o-mini: ${overhead:.7f} a query ({overhead / routed.after.total:.2%} of the blended cost)")

# %% [markdown]
# The blended cost always lies between the cheapest and the dearest model of the mix, as long as the shares
# sum to 1: exercise 8.2 builds that function and tests exactly this.
#
# ## 7. Optimisation 3: output limits
#
# An answer of 2,000 tokens against one capped at 200, on GPT-4:

# %%
for tokens in (2000, 200):
    print(f"{tokens:5} output tokens on gpt-4: ${request_cost({'completion_tokens': tokens}, 'gpt-4').total:.3f}")

# %% [markdown]
# Ten times fewer tokens, ten times cheaper. But `max_tokens` does not make a model concise: it cuts the
# answer off (`finish_reason == "length"`), mid-sentence if need be. Ask for brevity in the prompt, set
# `max_tokens` a little above the length you asked for, and treat `"length"` as a failure to handle, never
# as an answer. Ignoring it is exactly how the 3 am incident below begins. `max_tokens` is also what makes a
# cost *bound* possible: the guards below price every call at its prompt plus `max_tokens` before letting
# it run.
#
# ## 8. Optimisation 4: compression
#
# Shorter instructions cost less on every request. Two instructions, each written politely and tersely:

# %%
from course_lib.lessons.l08_token_economics.savings import compression_ratio

pairs = [
    ("Hi there! Could you please be so kind as to read the customer message below and then write a short "
     "summary of it for our support team? Please keep it brief and focus on what matters most. Thanks a lot!"
     "\n\nMessage: [...]\n",
     "Summarise for the support queue, one sentence:\n\nMessage: [...]\n"),
    ("Please extract the following pieces of information from the text below, if they are present: the "
     "customer's full name, their email address, their phone number and the name of their company.",
     "Extract: name, email, phone, company."),
]
for verbose, terse in pairs:
    before, after = count_tokens(verbose, "gpt-4"), count_tokens(terse, "gpt-4")
    print(f"{before:3} → {after:2} tokens ({compression_ratio(verbose, terse, 'gpt-4'):.0%} fewer)")
saved = count_tokens(pairs[0][0], "gpt-4") - count_tokens(pairs[0][1], "gpt-4")
print(f"first rewrite, {REQUESTS_PER_MONTH:,} requests a month on gpt-4: "
      f"${saved * prices.get('gpt-4').input / 1e6 * REQUESTS_PER_MONTH:,.2f} a month saved")
print(f"share of the typical request's prompt: {saved / typical.prompt_tokens:.1%}")

# %% [markdown]
# Trimming politeness is worth doing on a short prompt, but against a prompt that carries a whole article
# the instructions hardly matter: compress the *context* (retrieve less, summarise history) to move the
# bill.
#
# ## 9. Optimisation 5: batching
#
# "Batching" names two different things. One packs many queries into one prompt. A **batch API** (OpenAI,
# Anthropic) instead takes a file of ordinary requests, answers within 24 hours, and bills them at half
# price. The table has batch rates where providers offer them:

# %%
for model in ("gpt-4o", "gpt-4o-mini"):
    now, later = request_cost(query, model).total, request_cost(query, model, batch=True).total
    print(f"{model:12} ${now:.5f} a request, ${later:.5f} through the batch API ({1 - later / now:.0%} off)")
p4 = prices.get("gpt-4")
stuffed = [{"role": "user", "content": "\n".join(f"Query {i}: where is order A{10_400 + i}?" for i in range(1, 1001))}]
print(f"1,000 queries packed into one GPT-4 prompt: {count_message_tokens(stuffed, 'gpt-4'):,} tokens; "
      f"context window {p4.context_window:,}; max output {p4.max_output_tokens:,}, "
      f"{p4.max_output_tokens / 1000:.1f} tokens per answer")

# %% [markdown]
# Packing has limits the batch API does not: the packed prompt must fit the context window, all the
# answers must fit one response, and one bad item can spoil the whole answer. It saves only the
# instruction tokens you no longer repeat. Use the batch API for work nobody waits for (nightly
# summaries, tagging a backlog, evaluations); a live chat cannot wait 24 hours.
#
# ## 10. The optimisations together
#
# Savings compound: each step acts on what the previous ones left. Suppose a support chat that makes
# 1 million GPT-4 calls a month, and these assumptions:
#
# - a request has 1,000 prompt tokens (700 of them a stable prefix) and 250 completion tokens;
# - **caching**: 90 % of prefixes hit the cache, at the what-if 90 % discount;
# - **routing**: the 60 / 30 / 10 mix of section 6; **output limit**: answers capped at 150 tokens;
# - **compression**: prompts 15 % shorter; **batching**: 10 % of requests (offline work) at half price.

# %%
from course_lib.lessons.l08_token_economics.savings import Batching, Compression, OutputLimit, PromptCaching, compound_table

support = Scenario.for_model("gpt-4", prompt_tokens=1000, completion_tokens=250, cacheable_tokens=700,
                             requests_per_day=1_000_000 / 30)
steps = [PromptCaching(0.9), ModelRouting(mix), OutputLimit(150), Compression(0.15), Batching(0.1)]
table = compound_table(support, steps, what_if)
for row in table.rows:
    step = "" if row.name == "baseline" else f"-{row.saving_vs_previous:.0%}"
    print(f"{row.name:13} ${row.cost.projection.per_month:>8,.0f}/month {step:>5}")
base_month, final_month = table.baseline.cost.projection.per_month, table.final.cost.projection.per_month
print(f"a year: ${12 * (base_month - final_month):,.0f} saved ({table.final.saving_vs_baseline:.0%})")

# %% [markdown]
# **Check the arithmetic.** Caching shows a modest cut here, although 90 % of prefixes hit at 90 % off.
# It can only discount prompt tokens, and only the cacheable part of them; the prompt is not the whole
# bill. The ceiling, from the baseline's own split:

# %%
base = table.baseline.cost
prompt_share = base.input_cost / base.total
ceiling = 0.9 * 0.7 * prompt_share  # discount × cacheable share of the prompt × prompt share of the bill
print(f"prompt share of the baseline: {prompt_share:.0%}; cacheable share of the prompt: 70%; "
      f"the most caching could ever save here: {ceiling:.0%} (at a 100% hit rate)")
print(f"caching's row above: {table.rows[1].saving_vs_previous:.0%}, "
      f"{table.rows[1].saving_vs_previous / ceiling:.0%} of that ceiling: the hit rate")

# %% [markdown]
# The same optimisations on today's models: GPT-4o as the strong model, GPT-4o-mini as the cheap one
# (60 % of traffic), with their real cached rates.

# %%
today = compound_table(Scenario.for_model("gpt-4o", **support.model_dump(exclude={"mix"})),
                       [*steps[:1], ModelRouting({"gpt-4o-mini": 0.6, "gpt-4o": 0.4}), *steps[2:]])
today_base, today_final = today.baseline.cost.projection.per_month, today.final.cost.projection.per_month
print(f"gpt-4o baseline ${today_base:,.0f}/month ({1 - today_base / base_month:.0%} below GPT-4's); "
      f"optimised ${today_final:,.0f}/month ({today.final.saving_vs_baseline:.0%} less)")

# %% [markdown]
# Moving from GPT-4 to GPT-4o alone cuts the baseline by about as much as all five optimisations did on
# GPT-4's prices; the optimisations then still take a large share off today's bill. The waterfall shows
# where each saving comes from.

# %%
import matplotlib.pyplot as plt

from course_lib.lessons.l08_token_economics.plots import cost_waterfall

fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.2))
cost_waterfall(table, ax=left, title="GPT-4 family, what-if cache discount")
cost_waterfall(today, ax=right, title="Today's table: GPT-4o and GPT-4o-mini")
fig.tight_layout()
plt.show()

# %% [markdown]
# ### Try it
#
# The assumptions above are yours to change. Move the four controls a team actually owns, requests per
# month, cache hit rate, the share routed to the cheap model and the output cap, and pick the price world.
# The widget calls `support_chat_table`, which routes between the world's strong and cheap model; the
# cell after it calls the same function.

# %% tags=["nbval-ignore-output"]
from course_lib.lessons.l08_token_economics.widgets import cost_controls, support_chat_table

cost_controls()

# %%
for cheap_share in (0.0, 0.6, 0.9):
    t = support_chat_table(requests_per_month=1_000_000, cache_hit_rate=0.9, cheap_share=cheap_share, output_cap=150)
    print(f"{cheap_share:.0%} to gpt-3.5-turbo: ${t.final.cost.projection.per_month:,.0f}/month")

# %% [markdown]
# ## 11. Metering: count every call
#
# A dashboard of token spend is only as good as its arithmetic. A common mistake keeps the *last*
# response's usage: the loop overwrites it on every call, so the reported tokens are one call's, and the
# cache hit rate is that call's ratio. Here is the naive meter:

# %%
from course_lib.providers.base import ChatResult, Choice, Usage
from course_lib.providers.scripted import ScriptedProvider


def naive_meter(provider, calls: int) -> dict:
    """The common mistake: `usage` is overwritten on every call, so only the last one is reported."""
    usage = None
    for _ in range(calls):
        usage = provider.complete([{"role": "user", "content": "Where is my order?"}], max_tokens=300).usage
    return {"tokens": usage.prompt_tokens + usage.completion_tokens, "hit_rate": usage.cached_tokens / usage.prompt_tokens}


# %% [markdown]
# It looks right as long as every call is alike. The input that breaks it: two calls that hit the cache
# and a third that does not (a new system prompt was deployed, say). Scripted usages stand in for the
# three answers:

# %%
usages = [Usage(prompt_tokens=1200, completion_tokens=200, cached_tokens=1024),
          Usage(prompt_tokens=1200, completion_tokens=180, cached_tokens=1024),
          Usage(prompt_tokens=900, completion_tokens=150)]


def scripted_calls() -> ScriptedProvider:
    return ScriptedProvider([ChatResult(choices=[Choice(text="ok")], usage=u) for u in usages])


naive = naive_meter(scripted_calls(), len(usages))
true_tokens = sum(u.prompt_tokens + u.completion_tokens for u in usages)
true_hits = sum(u.cached_tokens for u in usages) / sum(u.prompt_tokens for u in usages)
print(f"naive meter: {naive['tokens']:,} tokens, cache hit rate {naive['hit_rate']:.0%}")
print(f"the three calls really used {true_tokens:,} tokens, {true_hits:.0%} of prompt tokens from the cache")

# %% [markdown]
# The fix is to accumulate: `Usage` objects add up (`a + b`), and `GuardedProvider` (used below for the
# guards) keeps a spend log priced from each call's real usage, whose hit rate covers every call:

# %%
from course_lib.guards import GuardedProvider, ManualClock

metered = GuardedProvider(scripted_calls(), model="gpt-4o", clock=ManualClock())
for _ in usages:
    metered.complete([{"role": "user", "content": "Where is my order?"}], max_tokens=300)
print(f"spend log: {len(metered.spend_log.records)} calls, hit rate {metered.spend_log.cache_hit_rate:.0%}, "
      f"${metered.spend_log.total:.5f}")
print(f"summed usage: {sum(usages, Usage())}")

# %% [markdown]
# The same mistake in an agent loop reports one iteration's tokens for a whole run (lesson 10 sums them).
#
# ## 12. Checkpoint: the 3 am runaway
#
# A bug in an agent loop makes it call the model again and again through the night. Suppose the loop
# starts at 3:00 am, sends 100 requests a minute, and runs until someone rolls the bug back at 3:35.
# Here is a concrete bug. A refunds agent loops until the model writes a line starting with
# `FINAL ANSWER:`. One step, replayed (the answer is scripted):

# %%
from course_lib.lessons.l08_token_economics.runaway import agent_done

step = llm.complete(agent_messages(), max_tokens=2000)
print(f"source={step.source}  finish_reason={step.finish_reason}  usage: {step.usage.prompt_tokens:,} + "
      f"{step.usage.completion_tokens:,} tokens  cost ${request_cost(step, 'gpt-4').total:.5f}")
print(f"final answer found: {agent_done(step)}")
print("…" + step.text[-160:])

# %% [markdown]
# The draft is cut at `max_tokens` before its final line. The loop reads "no final answer yet" as "not
# done" and sends the same request again, and the same deterministic draft comes back, at the cost above
# every time, with no end. `simulate_runaway` replays that loop on a manual clock (35 minutes take well
# under a second), answering from the same scripted draft. First, with no guards at all:

# %%
from course_lib.lessons.l08_token_economics.runaway import Incident, Protection, simulate_runaway

incident = Incident()  # 100 requests a minute from 3:00 for 35 minutes, GPT-4, max_tokens=2000
unguarded = simulate_runaway(incident, None, label="no guards")
print(f"{unguarded.calls:,} calls at ${unguarded.cost_per_call:.5f}; by 3:05 ${unguarded.spend_at(300):.2f}; "
      f"by 3:35 ${unguarded.total:,.2f}")

# %% [markdown]
# Now the guards. Suppose these settings: 100 requests per user per minute, $100 an hour, $1,000 a day.
# The anomaly detector compares the last minute with a normal night rate of 10 requests a minute and alerts
# at 5×. In the second run nobody answers the pages; in the third the engineer engages the kill switch
# four minutes after the first page.

# %%
breaker_only = simulate_runaway(incident, Protection(rate_limit_per_min=None, anomaly_threshold=None,
                                                     respond_after_s=None), label="breaker only")
guarded = simulate_runaway(incident, Protection(), label="all guards")
for run in (unguarded, breaker_only, guarded):
    at = {k: "—" if v is None else clock_label(run.start + v)
          for k, v in (("alert", run.first_alert), ("trip", run.breaker_trip), ("kill", run.kill_engaged))}
    print(f"{run.label:12} {run.calls:5,} calls  ${run.total:9.4f}  alert {at['alert']:7}  breaker {at['trip']:7}  "
          f"kill switch {at['kill']:7}  refused {sum(run.blocked.values())}")

# %% [markdown]
# The breaker refuses the call that *could* take spend past $100, before it runs: its estimate is the
# counted prompt plus `max_tokens`, so spend stops at most one call's cost under the cap, and never above it.
# The incident as timelines:

# %%
for run in (guarded, breaker_only):
    print(f"{run.label}:")
    for row in run.timeline():
        print(f"  {row['time']}  ${row['spent']:9.4f}  {row['event']}")

# %%
from course_lib.lessons.l08_token_economics.plots import runaway_figure

runaway_figure([unguarded, breaker_only, guarded], cap=100, burn_down_min=8)
plt.show()

# %% [markdown]
# ### A detector that never fires
#
# A common way to write the anomaly detector counts requests in the last *second* and alerts above
# 10 × a baseline of 10 requests a second. The runaway makes one or two requests in any second, so that
# detector never fires; and a baseline of 10 requests a second at this cost per call would itself cost far
# more than the hourly cap. Alert times for the first two minutes of the runaway:

# %%
first_minutes = Incident(duration_s=120)
settings = {
    "5x over 60 s, baseline 10/min": Protection(respond_after_s=None),
    "10x over 60 s, baseline 10/min": Protection(anomaly_threshold=10, respond_after_s=None),
    "10x over 1 s, baseline 10/s": Protection(anomaly_threshold=10, anomaly_window_s=1, baseline_per_min=600,
                                              respond_after_s=None),
}
for name, protection in settings.items():
    alert = simulate_runaway(first_minutes, protection).first_alert
    print(f"{name:32} {'never' if alert is None else f'after {alert:.1f} s'}")
print(f"normal traffic of 10 requests/s at ${unguarded.cost_per_call:.2f}: ${10 * 3600 * unguarded.cost_per_call:,.0f} an hour")

# %% [markdown]
# A sliding window fills gradually: a spike of *s* × the baseline trips a *k* × detector after about
# *k* / *s* of the window, so 5× on a 10× spike takes half a minute, 10× a whole minute. Pick the window
# and threshold from your real traffic, and let the budget breaker, which needs no baseline, be the hard stop.
#
# ### Four mistakes a budget guard can make
#
# - **Estimating input only** (prompt tokens × input rate), so a call's answer is invisible to the
#   breaker; for this agent that misses most of the real cost (next cell). `GuardedProvider` prices
#   prompt + `max_tokens`.
# - **Recording spend after each call**, so calls in flight are not counted and concurrent calls overshoot
#   the cap; `GuardedProvider` reserves each admitted call's estimate until it settles.
# - **Resetting the hourly budget with a timer** started at boot (drifting, never aligned to the hour), and
#   never resetting the daily one; the guards here use clock-aligned windows on an injected clock.
# - **Sleeping on a spike and then letting the call through**; the detector here alerts once per episode
#   and can block (`block=True`), and the kill switch is checked first.

# %%
input_only = count_message_tokens(agent_messages(), "gpt-4") * prices.get("gpt-4").input / 1e6
print(f"input-only estimate ${input_only:.4f} vs real cost ${unguarded.cost_per_call:.4f} "
      f"({input_only / unguarded.cost_per_call:.0%} of it)")

# %% [markdown]
# ### Try it
#
# Make the runaway faster (the per-user rate limit then caps it at 100 a minute: it slows the burn, but only
# the budget stops it), lower the cap, or make the engineer slower, then press the button to replay the
# night. The cell after the widget calls the same simulation directly for a runaway of 1,000 requests a
# minute.

# %% tags=["nbval-ignore-output"]
from course_lib.lessons.l08_token_economics.widgets import runaway_controls

runaway_controls()

# %%
fast = Incident(requests_per_minute=1000, duration_s=360)
for protection, label in ((None, "no guards"), (Protection(respond_after_s=None), "guards, nobody answers")):
    run = simulate_runaway(fast, protection, label=label)
    print(f"{label:24} {run.calls:6,} calls in 6 min  ${run.total:11,.4f}  refused {run.blocked}")

# %% [markdown]
# ## Evidence
#
# What backs each claim of this lesson. Nothing here is measured on a model: the figures are arithmetic
# on token counts, dated prices and stated assumptions, and the two model answers are scripted.

# %%
from course_lib.lessons._evidence import evidence_box
from course_lib.lessons.l08_token_economics.evidence import CLAIMS

evidence_box(CLAIMS)

# %% [markdown]
# ## Summary
#
# - Cost = uncached prompt × input rate + cached prompt × cached rate + completion × output rate, from the
#   *reported* usage and a *dated* price table. Count tokens with the model's tokenizer; 4 characters per
#   token is a guess that fails on code and most languages.
# - A reasoning model's hidden reasoning is part of the completion tokens: billed once, at the output rate,
#   and usually the larger part of them.
# - Caching discounts only the stable prompt prefix (and only above a provider's minimum length); routing
#   blends costs by the mix, between the cheapest and dearest model; `max_tokens` caps cost but cuts
#   answers; compress what dominates the prompt; the batch API halves the price of work that can wait.
# - Savings compound in order, and each depends on what the earlier ones left. State the assumptions and
#   compute the result.
# - Meter every call: accumulate usage, never keep the last response's.
# - A runaway is stopped by a budget breaker that checks *before* the call with an upper-bound estimate;
#   anomaly alerts and a kill switch bring a human in; a rate limit only slows the burn.
#
# **Exercise:** `exercises/08_token_economics.ipynb`: price a request with cached tokens, average a
# routing mix, and build a budget breaker on a fake clock. Grade it with
# `course grade exercises/08_token_economics.ipynb`.
