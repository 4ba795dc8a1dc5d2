"""Experiment of lesson 01: is SmolLM2-135M good enough to be the pipeline's intent classifier?

Sends the classifier prompt the banking pipeline uses (course_lib.routing.classification_messages)
for every query of the lesson's labelled batch that no FAQ rule answers, at temperature 0, and
compares the parsed category with the label. The lesson recomputes the accuracy from the replayed
answers. Run under recording:

    COURSE_PROVIDER=record COURSE_RECORD_UPSTREAM=local COURSE_RECORD_TO=01_gigo \\
        python scripts/experiments/01_classifier.py
"""

from course_lib.classify import classification_messages, parse_classification
from course_lib.lessons.l01_gigo.banking import load_banking_kb
from course_lib.lessons.l01_gigo.scenario import BANKING_BATCH
from course_lib.providers.registry import get_provider

PARAMS = {"temperature": 0, "max_tokens": 30}

kb = load_banking_kb()
provider = get_provider(model="SmolLM2-135M-Instruct")
labelled = [(q, label) for q, label in BANKING_BATCH if label != "FAQ"]
right = 0
for query, label in labelled:
    reply = provider.complete(classification_messages(query, kb.categories, domain="banking"), **PARAMS)
    category, confidence = parse_classification(reply.text, kb.categories, default="OTHER")
    right += category == label
    print(f"{label:9} {category:9} {confidence:4.2f} {reply.text[:60]!r}")
print(f"accuracy: {right}/{len(labelled)}")
