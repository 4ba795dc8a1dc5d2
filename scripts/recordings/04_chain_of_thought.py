"""Scripted recordings of lesson 04 (labelled ``scripted``: written by the course, not by a model).

They illustrate what large models are reported to do: a wrong direct answer to 9.11 vs 9.8 and a
right step-by-step one, refund decisions as JSON whose day counts are sometimes wrong, and reasoning
streamed as one JSON step per line. The messages come from the same course_lib functions the
lesson calls, so the replay keys match.
"""

import json

from course_lib.cot import COMPARISONS, cot_messages, direct_messages
from course_lib.lessons.l04_chain_of_thought.refund import RefundOrder, refund_messages
from course_lib.lessons.l04_chain_of_thought.stream import stream_messages
from course_lib.providers.replay.recordings import RecordingStore

MODEL = "gpt-4o-mini"
store = RecordingStore("04_chain_of_thought")
question = COMPARISONS[0].question  # "Is 9.11 greater than 9.8?"

store.add_scripted(
    messages=direct_messages(question),
    params={"temperature": 0},
    responses=["Yes."],
    model=MODEL,
    note="A large model answering at once says 9.11 > 9.8: written by the course, not a measurement.",
)
store.add_scripted(
    messages=cot_messages(question),
    params={"temperature": 0},
    responses=[
        "Step 1: We compare two decimals, 9.11 and 9.8.\n"
        "Step 2: Write both with two decimal places: 9.11 and 9.80.\n"
        "Step 3: The whole parts are equal (9 = 9); compare the decimal parts: 0.11 < 0.80.\n"
        "Step 4: So 9.11 is less than 9.8.\n"
        "Answer: No"
    ],
    model=MODEL,
    note="A step-by-step answer to 9.11 vs 9.8 in the course's format (numbered steps, Answer line).",
)

ORDERS = [
    (
        RefundOrder(
            id="ORD-12345",
            purchased_at="2024-01-15",
            requested_at="2024-03-20",
            reason="Product defective",
            amount="299.99",
        ),
        {
            "step1_days_elapsed": 64,
            "step2_reason_category": "defective_product",
            "step3_policy_check": "PASSES - defective products may be refunded within 90 days; 64 < 90.",
            "step4_decision": "APPROVE",
            "step4_justification": "Defect reported inside the 90-day window.",
        },
        "A day count that misses 29 February: 64 claimed, 65 elapsed in the leap year 2024.",
    ),
    (
        RefundOrder(
            id="ORD-12346",
            purchased_at="2024-02-10",
            requested_at="2024-03-12",
            reason="Changed my mind, no longer needed",
            amount="89.00",
        ),
        {
            "step1_days_elapsed": 30,
            "step2_reason_category": "changed_mind",
            "step3_policy_check": "PASSES - change of mind is allowed within 30 days; 30 <= 30.",
            "step4_decision": "APPROVE",
            "step4_justification": "Requested on the last day of the 30-day window.",
        },
        "A confident day count that forgets 29 February: 30 claimed, 31 elapsed, so the verdict flips.",
    ),
    (
        RefundOrder(
            id="ORD-12347",
            purchased_at="2024-04-01",
            requested_at="2024-04-15",
            reason="Arrived with a cracked screen",
            amount="149.50",
        ),
        {
            "step1_days_elapsed": 14,
            "step2_reason_category": "shipping_damage",
            "step3_policy_check": "PASSES - shipping damage within 14 days; 14 <= 14.",
            "step4_decision": "APPROVE",
            "step4_justification": "Damage in transit reported on day 14, inside the window.",
        },
        "A correct answer exactly on the 14-day boundary.",
    ),
    (
        RefundOrder(
            id="ORD-12348",
            purchased_at="2024-07-01",
            requested_at="2024-07-09",
            reason="Ordered the wrong size",
            amount="25.00",
        ),
        {
            "step1_days_elapsed": 8,
            "step2_reason_category": "wrong_size",
            "step3_policy_check": "PASSES - size exchanges are usually allowed within 30 days.",
            "step4_decision": "APPROVE",
            "step4_justification": "Wrong size reported after 8 days.",
        },
        "The model invents a category the policy does not have.",
    ),
]
for order, claim, note in ORDERS:
    store.add_scripted(
        messages=refund_messages(order),
        params={"temperature": 0},
        responses=[json.dumps(claim, indent=2)],
        model=MODEL,
        note=note,
    )

STREAM_QUERY = (
    "I bought a blender on 2024-05-02 and it stopped working on 2024-06-20. Can I get my money back?"
)
steps = [
    {"step": "analyze", "content": "The customer wants a refund for a blender that stopped working."},
    {
        "step": "think",
        "content": "A blender that stops working is a defective product, and the policy allows "
        "refunds for defective products within 90 days of purchase.",
    },
    {"step": "solve", "content": "From 2 May to 20 June 2024 is 49 days, well inside the 90-day window."},
    {
        "step": "final",
        "content": "Yes. A blender that stops working counts as defective, and defective products can "
        "be refunded within 90 days of purchase; you bought yours 49 days ago. Reply with your order "
        "number and we will send a prepaid return label.",
    },
]
store.add_scripted(
    messages=stream_messages(STREAM_QUERY),
    params={"temperature": 0},
    responses=["".join(json.dumps(s) + "\n" for s in steps)],
    model=MODEL,
    note="Reasoning streamed as one JSON step per line, for the streaming checkpoint.",
)
print(f"wrote {len(store)} entries to {store.save()}")
