"""Scripted recordings of lesson 00 (labelled ``scripted``: written by the course, not by a model)."""

from course_lib.providers.replay.recordings import RecordingStore

store = RecordingStore("00_setup")
SYSTEM = "You are a concise assistant for software engineers."
store.add_scripted(
    messages=[
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": "In one sentence: what is a large language model, to a backend engineer?",
        },
    ],
    params={"temperature": 0},
    responses=[
        "A function that takes a sequence of tokens and returns a probability distribution over the next "
        "token, sampled repeatedly: a stochastic function you call over HTTP."
    ],
    note="Illustrates a first call; written by the course to show the shape of an answer.",
)
store.add_scripted(
    messages=[{"role": "user", "content": "Name one colour."}],
    params={"temperature": 1.0},
    responses=["Blue.", "Teal.", "Crimson.", "Blue."],
    note="Four samples of the same request at temperature 1, to show sample numbering in replay.",
)
print(f"wrote {len(store)} entries to {store.save()}")
