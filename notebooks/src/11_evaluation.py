# %% [markdown]
# # 11 · Evaluation: test prompts like code
#
# **Objectives**
# - Keep **golden datasets** as files in the repository, and know why a test set must never be tuned on.
# - Score answers with **deterministic scorers** (exact match, includes, a pattern, JSON against a schema
#   with per-field accuracy), and trust a **model judge** only after measuring its agreement with people
#   (Cohen's kappa).
# - Run an eval over **epochs** and report a pass rate **with its uncertainty** (a Wilson interval).
# - Compare two versions of a versioned prompt file **case by case** (flips, a paired test) and let a
#   **regression gate** fail the change in CI.
# - Make a prompt file's acceptance criteria executable, gate a **model migration** canary → gradual, and
#   run the same eval on a **schedule** to catch drift.
# - Run it all on **Inspect** (`inspect_ai`), offline, and read the logs in Inspect's viewer.

# %% [markdown]
# ## The experiment behind this lesson
#
# The task is lesson 03's: pull the person's full name out of one sentence and answer with exactly
# `{"name": "..."}`. Two versions of the course's prompt file `name_extractor` ask for it: **1.0.0**, the
# instruction alone, and **2.0.0**, the same instruction with three worked examples. We ran both on
# **SmolLM2-135M-Instruct** (a 135-million-parameter model on a laptop CPU) over 44 labelled sentences,
# 5 samples each at temperature 0.7, and lesson 01's intent classifier over 20 labelled banking queries.
# Every answer is **recorded** from the real model (`scripts/recordings/11_evaluation_local.py`); Inspect
# replays them here.

# %% [markdown]
# ## Golden datasets are files
#
# An eval starts with cases whose right answer a person has written down. They live in the repository,
# one JSON object per line, reviewed like code:

# %%
from course_lib.evals.datasets import dataset_names, load_golden

for name in dataset_names():
    print(f"{name:<16} {len(load_golden(name)):>3} cases")
names = load_golden("names")
print(names[0])

# %% [markdown]
# `names` serves the name task, `intents` lesson 01's classifier, `contacts` lesson 07's extraction,
# `judge_labels` the judge below, `support_tickets` the support summariser's criteria.
#
# **Never tune on the test set.** Every time you change a prompt because a case failed, that case stops
# measuring how the prompt does on text it has not seen. Tune on a development set; keep a held-out set
# you run only to decide. This lesson's exercise does exactly that: its grader keeps sentences you never
# see.
#
# ## A first eval on Inspect
#
# Inspect runs a **task**: a dataset, a solver (here: call the model once) and scorers. The course's model
# API `course/...` answers through the course's providers: `course/replay` from recordings,
# `course/local` from SmolLM2 on this machine, `course/openai` from OpenAI. Each epoch replays its own
# recorded sample, so the numbers are the same on every run.
#
# Two versions of the name-extraction prompt are compared. Version 1.0.0 is the one in production: it
# was evaluated when it shipped, and its Inspect log is kept with the course
# (`course_lib/data/evals/logs/name_extraction_v1.0.0.eval`) and read back with `read_eval_log`, as a CI
# gate compares each candidate with the stored run of what is deployed. The candidate, 2.0.0, runs live
# here, 44 cases × 5 epochs.

# %%
from course_lib.lessons.l11_evaluation.runs import REPLAY_MODEL, run_names

v1 = run_names("1.0.0")
v2 = run_names("2.0.0")
for run, how in ((v1, "read from its log"), (v2, "run live")):
    rates = {scorer: f"{run.rate(scorer):.1%}" for scorer in run.scores}
    print(f"{run.task:<22} {how:<17} {sum(map(len, run.answers.values()))} answers  {rates}")

# %% [markdown]
# The same eval from a terminal (after `pip install`, the entry point makes `course/...` known to Inspect):
#
# ```bash
# inspect eval course_lib/evals/tasks.py@name_extraction -T version=1.0.0 \
#     --model course/replay/SmolLM2-135M-Instruct -M recordings=11_evaluation
# ```
#
# What the model really answered to the plain instruction, for the first sentence (5 epochs, recorded):

# %%
print(names[0].input)
for answer in v1.answers[names[0].id]:
    print("   [recorded]", repr(answer[:70]))

# %% [markdown]
# ## Deterministic scorers
#
# A scorer turns an answer into pass or fail. The cheapest are plain functions, and they never disagree
# with themselves:

# %%
from course_lib.evals.scorers import exact_json_name, exact_match, includes, pattern_match

answer = 'Sure! {"name": "Grace Whitfield"}'
print("exact match     ", exact_match(answer, "Grace Whitfield"))
print("includes        ", includes(answer, "Grace Whitfield"))
print("pattern         ", pattern_match(answer, r'\{"name": "[^"]+"\}'))
print("exact JSON name ", exact_json_name(answer, "Grace Whitfield"))

# %% [markdown]
# The name eval uses two of them: `exact_json` (the answer a parser needs) and `name_included` (the model
# found the name, in whatever shape). Valid is not correct, and the JSON scorer says which fields are
# right. Lesson 07's schema-constrained replies (recorded from SmolLM2) against the `contacts` golden set:

# %%
from course_lib import get_provider
from course_lib.evals.scorers import json_fields
from course_lib.lessons.l07_structured_output.constrained import constrained_outputs
from course_lib.lessons.l07_structured_output.layers import Contact

contacts = load_golden("contacts")
small07 = get_provider(model="SmolLM2-135M-Instruct", recordings="07_structured_output")
replies = constrained_outputs(small07, [c.input for c in contacts])
scored = [json_fields(r, Contact, c.target) for r, c in zip(replies, contacts)]
print(f"valid {sum(s.valid for s in scored)}/{len(scored)}, all fields right {sum(s.correct for s in scored)}/{len(scored)}")
for field in contacts[0].target:
    print(f"  {field:<6} right in {sum(s.fields[field] for s in scored):>2}/{len(scored)}")

# %% [markdown]
# Per-field accuracy says where to work: which field the model gets wrong, not only that something is.
#
# ## Epochs: one run of a stochastic function proves little
#
# At temperature 0.7 the same prompt gives different answers. A pass rate from one sample per case is
# one draw; the **Wilson interval** says how far the true rate may be from it (95 %). More epochs narrow
# it. Move the sliders: a criterion is met only when the whole interval lies above the threshold, failed
# when it lies below, and undecided in between. How many epochs does a verdict need, and near which
# thresholds does it never come?

# %% tags=["nbval-ignore-output"]
from course_lib.lessons.l11_evaluation.widgets import epochs_report, epochs_widget

by_version = {"1.0.0": v1.scores["exact_json"], "2.0.0": v2.scores["exact_json"]}
epochs_widget(by_version, 5)

# %%
print(epochs_report(by_version, 1, 0.85))
print(epochs_report(by_version, 5, 0.85))

# %% [markdown]
# Against 85 %, one epoch leaves version 2.0.0 undecided; five epochs show it falls short. The picture,
# both scorers, all five epochs:

# %%
import matplotlib.pyplot as plt

from course_lib.lessons.l11_evaluation.plots import plot_pass_rates

rates = {f"v{run.task.split('_v')[-1]}": {s: run.passed(s) for s in run.scores} for run in (v1, v2)}
plot_pass_rates(rates, threshold=0.9, title="SmolLM2-135M, 44 sentences x 5 epochs (recorded)")
plt.show()

# %% [markdown]
# ## A model judge, checked before it is trusted
#
# Some criteria have no regular expression ("is this summary faithful?"), so a model grades the answer
# against a rubric. A judge is a model too: before its verdicts count, compare them with a person's on
# a labelled set. Thirty answers written by the course and labelled by a person, graded by SmolLM2
# (recorded):

# %%
from course_lib.evals.scorers import JUDGE_RUBRIC
from course_lib.lessons.l11_evaluation.judge import judge_agreement

small = get_provider(model="SmolLM2-135M-Instruct", recordings="11_evaluation")
agreement = judge_agreement(small)
print(JUDGE_RUBRIC)
print(f"agrees with the person on {agreement.agree}/{agreement.items}; says pass {agreement.judge_passes} times "
      f"(the person: {agreement.human_passes}); Cohen's kappa {agreement.kappa:.2f}")

# %% [markdown]
# Raw agreement flatters a judge that always gives the same verdict: it is right whenever the label
# happens to match. **Cohen's kappa** subtracts the agreement chance alone would give: 1 is perfect, 0 is
# no better than chance. This judge is not fit to grade anything; a larger model might be, and the same
# thirty labels would tell. Measure first, trust after.
#
# ## Two versions, case by case
#
# Version 2.0.0 added worked examples. Which cases moved, and could the difference be chance? Pair the
# answers (same sentence, same epoch) and count the flips:

# %%
from course_lib.evals.gate import gate
from course_lib.lessons.l11_evaluation.compare import case_table

change = gate(v1.scores["exact_json"], v2.scores["exact_json"])
print(change.report())
print("cases that moved most (passes out of 5, before → after):",
      [f"{c}: {a}→{b}" for c, a, b in case_table(v1.scores["exact_json"], v2.scores["exact_json"])[:5]])

# %% [markdown]
# The **exact McNemar test** looks only at the pairs that disagree: if the change did nothing, a lost
# answer and a gained one are equally likely, like a coin. The gate blocks a release when the candidate
# loses significantly more than it gains. Rolling back from 2.0.0 to 1.0.0 is such a change:

# %%
rollback = gate(v2.scores["exact_json"], v1.scores["exact_json"])
print(rollback.report())

# %% [markdown]
# In CI the same gate is a command whose exit code fails the build:
#
# ```bash
# python -m course_lib.evals.gate --baseline 2.0.0 --candidate 1.0.0   # exit 1: blocked
# ```

# %% [markdown]
# ## Criteria you can run
#
# A prompt file's acceptance criteria each name the eval that measures them, so "does 2.0.0 meet its
# criteria?" is a function call, not a meeting (the first recorded sample of each case):

# %%
from course_lib.evals.criteria import measure_criteria
from course_lib.evals.tasks import NAME_PARAMS
from course_lib.prompt_files import load_prompt_version

for version in ("1.0.0", "2.0.0"):
    prompt = load_prompt_version("name_extractor", version)
    measured = measure_criteria(prompt, get_provider(model="SmolLM2-135M-Instruct", recordings="11_evaluation"), **NAME_PARAMS)
    print(version, {k: f"{v:.1%}" for k, v in measured.items()}, prompt.check(measured))

# %% [markdown]
# ## An eval that says "not this model"
#
# Lesson 01 used SmolLM2 as its intent classifier. Its eval, 20 labelled queries x 5 epochs:

# %%
from course_lib.evals.stats import wilson_interval
from course_lib.lessons.l11_evaluation.runs import run_intents

intents = run_intents()
k, n = intents.passed("intent_match")
low, high = wilson_interval(k, n)
print(f"right intent {k}/{n} = {k / n:.0%} (95% CI {low:.0%}–{high:.0%}); chance with 7 categories ≈ {1 / 7:.0%}")

# %% [markdown]
# Fewer than half of its answers name the right intent, where a tier that routes customers needs well
# over nine in ten: no prompt tweak closes a gap that size. The eval's verdict is about the model: this
# one is not fit to be the classifier. That is a useful result too, and it cost a few minutes instead of
# a production incident.
#
# ## The same eval gates a migration
#
# Lesson 02 moved business code between models without touching it. Whether the new model is as good is
# this eval's question, asked in stages: a canary (5 % of traffic), then 25 %, 50 %, all of it. A stable
# hash of the case id routes each case, as a router routes users. Simulated here with answers we have:
# first a candidate that is **the same model drawn again** (epochs paired differently), then a candidate
# that **ignores worked examples** (its traffic replays version 1.0.0's recorded answers):

# %%
from course_lib.lessons.l11_evaluation.compare import rollout, rotate_epochs

incumbent = v2.scores["exact_json"]
for label, candidate in (("same model, new draw", rotate_epochs(incumbent)), ("ignores examples", v1.scores["exact_json"])):
    print(label)
    for stage in rollout(incumbent, candidate):
        verdict = "no cases routed" if stage.result is None else stage.result.reason
        print(f"  {stage.share:>4.0%} of traffic, {stage.cases:>2} cases: {'proceed' if stage.passed else 'ROLL BACK'} ({verdict})")

# %% [markdown]
# The candidate that loses almost every answer is stopped at the canary: two cases, ten paired answers,
# all lost, are already significant. A subtler regression needs the larger stages' evidence, which is
# why the stages grow; the new draw of the same model passes every stage, because the gate asks for a
# regression beyond chance, not for identical answers.
#
# ## Drift: the same eval on a schedule
#
# A hosted model can change under the same name. `.github/workflows/drift.yml` runs this eval every night
# on the live model and compares it, answer by answer, with the recorded baseline:
#
# ```bash
# python -m course_lib.evals.gate --baseline 2.0.0 --candidate 2.0.0 \
#     --baseline-model course/replay/SmolLM2-135M-Instruct --model course/local/SmolLM2-135M-Instruct
# ```
#
# How large a drop can 44 cases x 5 epochs see? Lesson 09's power analysis, for this set's size and the
# measured rate:

# %%
from math import ceil, comb


def prob_below(n: int, p: float, threshold: float) -> float:
    """P(the rate measured on n answers < threshold) when the true rate is p (lesson 09)."""
    cut = ceil(threshold * n - 1e-9)
    return sum(comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(cut))


answers, baseline = v2.passed("exact_json")[1], v2.rate("exact_json")
for drop in (0.05, 0.10):
    threshold = baseline - drop / 2
    print(f"n={answers}, baseline {baseline:.1%}, page below {threshold:.1%}: false alarm "
          f"{prob_below(answers, baseline, threshold):.1%}; misses a real drop of {drop:.0%}: "
          f"{1 - prob_below(answers, baseline - drop, threshold):.1%}")

# %% [markdown]
# ## Reading the logs in Inspect's viewer
#
# Every eval run live above wrote an Inspect log (to `COURSE_EVAL_LOGS`, or a folder in your temp
# directory); the baseline's log is the file named above. Open them in Inspect's viewer with:
#
# ```bash
# inspect view --log-dir "$(python -c 'from course_lib.lessons.l11_evaluation.runs import log_dir; print(log_dir())')"
# ```
#
# It lists each run with its scores; click one to read every sample: the messages sent, the model's
# answer, and each scorer's verdict.
#
# ![Inspect's log viewer on this lesson's name-extraction eval](../docs/screenshot-inspect-view.png)
#
# ## What backs each claim

# %%
from course_lib.lessons._evidence import evidence_box
from course_lib.lessons.l11_evaluation.evidence import CLAIMS

evidence_box(CLAIMS)

# %% [markdown]
# ## Summary
#
# - Golden sets are files in the repository; tune on one set, decide on another.
# - Deterministic scorers first (exact, includes, pattern, schema with per-field accuracy); a model judge
#   only after its agreement with people is measured, by kappa, not raw agreement.
# - A pass rate without an interval is one draw: run epochs and report the Wilson interval.
# - Compare versions pair by pair; the exact McNemar test tells a regression from noise, and the gate turns
#   it into an exit code CI can act on, for prompt changes, migrations and drift alike.
#
# **Exercise:** `exercises/11_evaluation.ipynb`: a field-by-field scorer, a pass rate with its interval,
# the regression gate, and a prompt of your own that must beat a threshold on the real local model.
# Grade it with `course grade exercises/11_evaluation.ipynb`.
#
# Next: **12 · Security** (`notebooks/12_security.ipynb`).
