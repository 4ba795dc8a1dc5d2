"""Real replies of SmolLM2-135M-Instruct to lesson 12's attack corpus under four defences.

    course record --into 12_security --upstream local --start-local -- scripts/recordings/12_security_local.py

Sends the twelve payloads and three benign emails of :mod:`course_lib.lessons.l12_security.corpus`
through the four defences of :mod:`course_lib.lessons.l12_security.experiment` and the structured one with a free-text route (75 calls, temperature 0,
at most 60 tokens a reply, 80 for the structured one), and prints the attack-success table the lesson
then computes from the recordings.
"""

from course_lib.lessons.l12_security.experiment import LOCAL_MODEL, attack_table, run_corpus
from course_lib.providers.registry import get_provider

outcomes = run_corpus(get_provider(model=LOCAL_MODEL))
for o in outcomes:
    print(f"{o.defence:<10} {o.item_id:<11} {o.verdict:<7} {o.text[:90]!r}")
for cell in attack_table(outcomes):
    print(
        f"{cell.defence:<10} {cell.category:<21} attack {cell.attack}/{cell.n} (echo {cell.echoed})  task {cell.task}  failure {cell.failure}"
    )
