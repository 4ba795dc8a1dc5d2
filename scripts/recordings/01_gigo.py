"""Scripted recordings of lesson 01 (labelled ``scripted``: written by the course, not by a model).

They illustrate what a capable small model (the intent classifier, ``gpt-4o-mini``) and a
large model (``gpt-4o``) do in the tiered banking pipeline. The requests are exactly the ones the
pipeline sends: the script runs :class:`~course_lib.lessons.l01_gigo.banking.BankingPipeline` on the lesson's batch
against scripted providers and stores each call it made.

    python scripts/recordings/01_gigo.py
"""

from __future__ import annotations

import json

from course_lib.lessons.l01_gigo.banking import BankingPipeline, run_batch
from course_lib.lessons.l01_gigo.scenario import BANKING_BATCH
from course_lib.providers.replay.recordings import RecordingStore
from course_lib.providers.scripted import ScriptedProvider

SMALL, LARGE = "gpt-4o-mini", "gpt-4o"

#: The classifier's verdict on each query that no FAQ rule answers: (category, confidence).
VERDICTS: dict[str, tuple[str, float]] = {
    "Money not showing": ("BALANCE", 0.55),
    "my paycheck deposit is still pending": ("DEPOSIT", 0.93),
    "the app shows an old balance": ("BALANCE", 0.91),
    "why was my card declined at the supermarket": ("CARD", 0.94),
    "I deposited a check yesterday, when can I use the money?": ("DEPOSIT", 0.9),
    "I sent a wire to my landlord on Monday and it still hasn't arrived": ("TRANSFER", 0.95),
    "there is a charge of $89 on my account I don't recognise": ("FRAUD", 0.92),
    "can I pay off my personal loan early?": ("LOAN", 0.96),
    "I want to complain about an overdraft fee": ("OTHER", 0.8),
    "someone called me asking for the code you texted and I gave it to them": ("FRAUD", 0.97),
    "it's not there": ("OTHER", 0.35),
}

#: The answer model's replies, one per generation (a second one only where the first fails the checks).
ANSWERS: dict[str, list[str]] = {
    "Money not showing": [
        "Let's find it. If you expected a deposit, look under Activity > Pending: direct deposits are "
        "available the day they arrive and checks within two business days [DEP-01]. If the app shows an "
        "old balance, pull down on the Accounts screen to refresh it, or sign out and back in [BAL-01]. "
        "If it was a transfer, tell me when it was sent and I will check its status."
    ],
    "my paycheck deposit is still pending": [
        "Direct deposits are available on the day they arrive [DEP-01]. If yours still shows under "
        "Activity > Pending, your employer's payment may not have settled yet; check again after 17:00. "
        "If it is still pending tomorrow, ask your employer for the payment's trace number."
    ],
    "the app shows an old balance": [
        "Pull down on the Accounts screen to refresh it; if the figure is still old, sign out and back in "
        "to clear the app's cache [BAL-01]. The web site reads the same data, so it is a quick way to compare."
    ],
    "why was my card declined at the supermarket": [
        "The usual reasons are a frozen card, a reached daily limit ($3,000 for purchases), an expired "
        "card, or a payment waiting for you to confirm it in the app [CRD-01]. Open Cards in the app to see "
        "which applies; you can change your limits under Cards > Limits."
    ],
    "I deposited a check yesterday, when can I use the money?": [
        "If you deposited it before 20:00 Eastern on a business day, the first $225 is available today "
        "and the rest within two business days [DEP-01]. Accounts open less than 30 days may see a hold of "
        "up to five business days; the app shows any hold and its release date [DEP-02]."
    ],
    "I sent a wire to my landlord on Monday and it still hasn't arrived": [
        "Domestic wires sent before 15:00 Eastern arrive the same business day [TRF-01], so yours is "
        "overdue. Open a trace in the app under Payments > History > Trace; a trace takes up to five "
        "business days [TRF-02]. I can confirm the wire's status and reference for your landlord's bank."
    ],
    "there is a charge of $89 on my account I don't recognise": [
        "Sorry about that! We will refund the $89 within three days, so there is nothing to worry about.",
        "Freeze your card in the app now, then report the charge under Activity > Report a problem or "
        "call 1-800-555-0142 [FRD-01]. The fraud team reviews every report and decides what happens "
        "next; I cannot promise an outcome or a date, but the report starts that review today.",
    ],
    "can I pay off my personal loan early?": [
        "Yes. Early repayment of a personal loan carries no fee [LON-01]. You can pay the balance in the "
        "app under Loans > Pay off, or ask the lending team for the exact payoff amount for a given date."
    ],
    "I want to complain about an overdraft fee": [
        "I can open a complaint case for you now. Fee reversals are decided by the customer care team "
        "after review; you will get a reference number and an answer within ten business days [GEN-01]."
    ],
    "someone called me asking for the code you texted and I gave it to them": [
        "Don't worry: we will reimburse anything they took. Just keep an eye on your account.",
        "I'm not sure what they could reach with that code; maybe change your password to be safe.",
    ],
    "it's not there": [
        "I'd like to help, but I need a little more to go on. Is it a deposit, a transfer, or the balance "
        "in the app that is not showing? Tell me which, and roughly when, and I will look into it."
    ],
}


def classify(messages: list[dict], params: dict) -> str:
    """The classifier's JSON reply for the query in the last message."""
    category, confidence = VERDICTS[messages[-1]["content"]]
    return json.dumps({"category": category, "confidence": confidence})


def answer(messages: list[dict], params: dict) -> str:
    """The answer model's reply: the n-th scripted answer for the n-th generation of this query."""
    attempt = sum(1 for m in messages if m["role"] == "assistant")
    return ANSWERS[messages[1]["content"]][attempt]


def main() -> None:
    """Run the pipeline on the batch against scripted providers and store every call as a scripted entry."""
    classifier = ScriptedProvider(classify, model=SMALL)
    small = ScriptedProvider(answer, model=SMALL)
    large = ScriptedProvider(answer, model=LARGE)
    pipeline = BankingPipeline(small=small, large=large, classifier=classifier)
    report = run_batch(pipeline, [q for q, _ in BANKING_BATCH])
    store = RecordingStore("01_gigo")
    notes = {
        id(
            classifier
        ): "Scripted intent classifier (a gpt-4o-mini-class model) for the tiered banking pipeline.",
        id(small): "Scripted small-model answer in the banking pipeline, grounded in the injected policies.",
        id(large): "Scripted large-model answer in the banking pipeline; some fail validation on purpose.",
    }
    for provider in (classifier, small, large):
        for call in provider.calls:
            store.add_scripted(
                messages=call.messages,
                params=call.params,
                responses=[(classify if provider is classifier else answer)(call.messages, call.params)],
                model=provider.model,
                note=notes[id(provider)],
            )
    for row in report.by_tier():
        print(f"{row['tier']:6} {row['count']:3}")
    print(f"wrote {len(store)} entries to {store.save()}")


if __name__ == "__main__":
    main()
