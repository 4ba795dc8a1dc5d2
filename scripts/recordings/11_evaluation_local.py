"""Lesson 11's measurements on SmolLM2-135M-Instruct, recorded (run under record).

    course record --into 11_evaluation --upstream local --start-local -- scripts/recordings/11_evaluation_local.py

It records, one call at a time, exactly the requests the lesson's Inspect tasks send
(``course_lib.evals.tasks``), so ``--model course/replay`` replays them: (1) the 44 golden name
sentences through versions 1.0.0 and 2.0.0 of the ``name_extractor`` prompt, 5 samples each at
temperature 0.7; (2) the 20 labelled banking intents through lesson 01's classifier prompt, 5 samples
each; (3) the model judge's verdicts on the 30 human-labelled answers, at temperature 0; (4) the
support summariser's answers to the 10 golden tickets, at temperature 0 (lesson 03's criteria).
"""

import sys

from course_lib.classify import classification_messages
from course_lib.evals.datasets import load_golden
from course_lib.evals.scorers import judge_messages
from course_lib.evals.tasks import NAME_PARAMS
from course_lib.lessons.l01_gigo.banking import load_banking_kb
from course_lib.lessons.l11_evaluation.intents import INTENT_PARAMS
from course_lib.lessons.l11_evaluation.runs import EPOCHS, JUDGE_PARAMS, LOCAL_MODEL, SUMMARY_PARAMS, VERSIONS
from course_lib.prompt_files import load_prompt, load_prompt_version
from course_lib.providers.registry import get_provider

provider = get_provider(model=LOCAL_MODEL)


def ask(messages, params):
    return provider.complete(messages, **params).text


for version in VERSIONS:
    prompt = load_prompt_version("name_extractor", version)
    for case in load_golden("names"):
        answers = [ask(prompt.messages(case.input), NAME_PARAMS) for _ in range(EPOCHS)]
        print(version, case.id, answers, flush=True)

categories = load_banking_kb().categories
for case in load_golden("intents"):
    messages = classification_messages(case.input, categories, domain="banking")
    print(case.id, [ask(messages, INTENT_PARAMS) for _ in range(EPOCHS)], flush=True)

for item in load_golden("judge_labels"):
    print(item.id, ask(judge_messages(item.input, item.answer), JUDGE_PARAMS), flush=True)

summariser = load_prompt("customer_support_summariser")
for ticket in load_golden("support_tickets"):
    print(ticket.id, ask(summariser.messages(ticket.input), SUMMARY_PARAMS), flush=True)
sys.exit(0)
