"""The design choices that keep the course fast, and smoke tests that keep the benchmark scripts working.

No timing assertions here: the benchmarks measure, these tests guard *why* the numbers are good
(work overlaps, expensive objects are built once, heavy libraries load lazily) and run every
benchmark function with tiny parameters so the scripts cannot rot.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import types
from pathlib import Path

import nbformat
import pytest

BENCH_DIR = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH_DIR))

import bench_embeddings  # noqa: E402
import bench_fanout  # noqa: E402
import bench_grading  # noqa: E402
import bench_import  # noqa: E402
import bench_lessons  # noqa: E402
import bench_local  # noqa: E402
import bench_replay  # noqa: E402
import bench_test_suite  # noqa: E402
import common  # noqa: E402
import run_all  # noqa: E402

MESSAGES = [{"role": "user", "content": "How many minutes to drain 150 jobs at 12 a minute?"}]


def _replay_file(tmp_path: Path, samples: int = 1, temperature: float | None = None) -> Path:
    from course_lib.providers.replay.recordings import RecordingStore

    store = RecordingStore(tmp_path / "perf.jsonl")
    store.add_scripted(
        messages=MESSAGES,
        responses=[f"Answer: {12 + i}" for i in range(samples)],
        params={"temperature": temperature} if temperature is not None else None,
        note="test",
    )
    return store.save()


# --------------------------------------------------------------------------- design guards


def _loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    probe = f"{code}\nimport sys\nprint([m for m in {modules!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().replace("'", '"'))


@pytest.mark.parametrize(
    ("code", "heavy"),
    [
        # The embedding module is imported by retrieval; the model, tokenizer and chromadb load on first use.
        ("import course_lib.embeddings", ("numpy", "onnxruntime", "tokenizers", "chromadb")),
        # get_provider is exported from course_lib; building the SDK client waits until it is called.
        ("import course_lib.providers.registry", ("openai", "httpx2", "anthropic", "tiktoken")),
        ("import course_lib.voting", ("numpy", "tiktoken", "httpx2", "tokenizers")),
        # `course grade` builds this parser before it grades: it must not pay for the SDKs or papermill.
        (
            "import course_lib.cli.main; course_lib.cli.main.build_parser()",
            ("openai", "httpx2", "chromadb", "matplotlib", "numpy", "onnxruntime", "papermill", "nbclient"),
        ),
    ],
)
def test_heavy_libraries_load_only_on_first_use(code, heavy):
    assert _loaded_after(code, heavy) == []


def test_sample_answers_overlaps_requests_through_the_real_replay_stack(tmp_path, monkeypatch):
    """voting -> OpenAIProvider.acomplete -> AsyncOpenAI -> replay's async handler: all N wait together."""
    from course_lib.providers.registry import get_provider
    from course_lib.providers.replay import transport as replay
    from course_lib.voting import sample_answers

    n = 5
    state = {"in_flight": 0, "peak": 0}
    everyone_waiting = asyncio.Event()

    async def barrier_sleep(delay: float) -> None:
        # Stands in for the simulated latency: returns once all n requests are waiting at once.
        state["in_flight"] += 1
        state["peak"] = max(state["peak"], state["in_flight"])
        if state["in_flight"] >= n:
            everyone_waiting.set()
        try:
            await asyncio.wait_for(everyone_waiting.wait(), timeout=2)
        except TimeoutError:
            pass
        finally:
            state["in_flight"] -= 1

    fake_asyncio = types.SimpleNamespace(
        **{k: getattr(asyncio, k) for k in dir(asyncio) if not k.startswith("_")}
    )
    fake_asyncio.sleep = barrier_sleep
    monkeypatch.setattr(replay, "asyncio", fake_asyncio)
    provider = get_provider(
        recordings=_replay_file(tmp_path, samples=n, temperature=0.7),
        latency=replay.LatencyModel(ttft_s=0.5),
        env={},
    )
    samples = asyncio.run(sample_answers(provider, MESSAGES, n, concurrency=n))
    assert state["peak"] == n
    assert [s.answer for s in samples] == [str(12 + i) for i in range(n)]


def test_minilm_onnx_session_is_created_once_and_reused(monkeypatch):
    import onnxruntime

    from course_lib import embeddings

    created = []
    real = onnxruntime.InferenceSession

    def counting_session(*args, **kwargs):
        created.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(onnxruntime, "InferenceSession", counting_session)
    embeddings._session.cache_clear()
    embeddings._tokenizer.cache_clear()
    try:
        embeddings.embed(["first text"])
        embeddings.embed(["second text", "third text"])
        function = embeddings.minilm_embedding_function()
        function(["through the chromadb embedding function"])
        embeddings.minilm_embedding_function()(["and a second function object"])
        assert len(created) == 1
        assert embeddings._tokenizer.cache_info().misses == 1
    finally:
        embeddings._session.cache_clear()  # later tests build their own, unpatched session


def test_replay_reads_the_recordings_file_once_not_per_request(tmp_path):
    from course_lib.providers.replay.scope import sample_scope
    from course_lib.providers.replay.transport import ReplayTransport

    path = _replay_file(tmp_path, samples=3)
    transport = ReplayTransport(path)
    client, aclient = transport.openai_client(), transport.async_openai_client()
    path.unlink()  # a transport that re-read the file per request would now fail

    answers = [client.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES) for _ in range(2)]

    async def one() -> str:
        with sample_scope(2):
            reply = await aclient.chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
        return reply.choices[0].message.content

    assert [a.choices[0].message.content for a in answers] == ["Answer: 12", "Answer: 13"]
    assert asyncio.run(one()) == "Answer: 14"


def test_replay_hit_is_a_key_lookup_not_a_scan(tmp_path, monkeypatch):
    """Searching the entries for the nearest request is for explaining a miss, never for a hit."""
    from course_lib.providers.replay import transport as replay

    def no_scan(*args, **kwargs):
        raise AssertionError("the entries were searched one by one")

    transport = replay.ReplayTransport(_replay_file(tmp_path))
    monkeypatch.setattr(transport, "miss_message", no_scan)
    for name in ("similarity", "nearest_request", "field_diff"):  # whichever helpers the module uses
        if hasattr(replay, name):
            monkeypatch.setattr(replay, name, no_scan)
    body = {"model": "gpt-4o-mini", "messages": MESSAGES}
    _entry, sample, index = transport.lookup("chat.completions", body)
    assert index == 0 and sample["choices"][0]["message"]["content"] == "Answer: 12"
    with pytest.raises(AssertionError, match="one by one"):  # a miss does search: the guard is wired
        transport.lookup("chat.completions", {**body, "model": "gpt-4o"})


# --------------------------------------------------------------------------- common helpers


def test_summarize_median_spread_and_quartiles():
    s = common.summarize([5.0, 1.0, 4.0, 2.0, 3.0])
    assert (s["median"], s["min"], s["max"], s["q1"], s["q3"], s["n"]) == (3.0, 1.0, 5.0, 2.0, 4.0, 5)
    assert common.summarize([7.0])["q1"] == 7.0
    with pytest.raises(ValueError, match="at least one"):
        common.summarize([])


def test_budget_status_direction_and_errors():
    assert common.row("t", [1.0, 3.0], "s", budget=2.0)["status"] == "PASS"
    assert common.row("t", [3.0, 3.0], "s", budget=2.0)["status"] == "FAIL"
    assert common.row("r", [1.6], "×", budget=1.5)["status"] == "FAIL"
    assert common.row("x", [90.0], "req/s", budget=100.0)["status"] == "FAIL"
    assert common.row("x", [110.0], "req/s", budget=100.0)["status"] == "PASS"
    assert common.row("t", [1.0], "s", budget=2.0, error="boom")["status"] == "FAIL"
    assert common.row("t", [], "s", budget=2.0, error="boom")["median"] is None
    assert common.row("t", [1.0], "s")["status"] is None


def test_values_are_formatted_in_readable_units():
    assert common.format_value(0.0025, "s") == "2.50 ms"
    assert common.format_value(14.2e-6, "s") == "14.2 µs"
    assert common.format_value(21.54, "s") == "21.5 s"
    assert common.format_value(1.0912, "×") == "1.09×"
    assert common.format_value(1234.0, "req/s") == "1,234 req/s"
    assert common.format_value(None, "s") == "—"
    r = common.row("q", [0.005, 0.006, 0.007, 0.008], "s", spread="IQR")
    assert common.format_spread(r).endswith("ms (IQR)")


def test_markdown_table_marks_failures():
    table = common.markdown_table([common.row("lesson | 03", [12.0], "s", budget=10.0, detail="slow")])
    assert "**FAIL**" in table and "≤ 10.0 s" in table and "lesson \\| 03" in table


# --------------------------------------------------------------------------- benchmark smoke tests


def _check_result(result: dict, name: str) -> None:
    assert result["name"] == name
    assert result["skipped"] is None
    assert result["rows"], "no measurements"
    for r in result["rows"]:
        assert r["n"] >= 1 and r["median"] is not None, r["label"]
        assert r["status"] in (None, "PASS", "FAIL")
    json.dumps(result)  # results.json must be able to hold it


def test_bench_import_smoke():
    result = bench_import.run(runs=2, provider_runs=1)
    _check_result(result, "import")
    assert common.budget_rows(result)[0]["budget"] == 0.3


def test_bench_replay_smoke():
    result = bench_replay.run(requests=6, runs=1, entries=3, lookups=5, provider_requests=3)
    _check_result(result, "replay")
    assert {r["unit"] for r in result["rows"]} == {"req/s", "s"}


def test_bench_fanout_smoke():
    result = bench_fanout.run(ns=(1, 3), latency_s=0.01, runs=1, default_concurrency=2)
    _check_result(result, "fanout")
    budgets = common.budget_rows(result)
    assert [r["label"] for r in budgets] == [
        "N=1, default settings (all in flight)",
        "N=3, default settings (all in flight)",
    ]
    assert all(r["budget"] == 1.5 and r["unit"] == "×" for r in budgets)


@pytest.mark.slow
def test_bench_embeddings_smoke():
    result = bench_embeddings.run(docs=3, runs=1, queries=2, builds=1)
    _check_result(result, "embeddings")
    assert result["rows"][0]["unit"] == "docs/s"


def _notebook(path: Path, *sources: str) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_bench_lessons_smoke_times_cells_and_reports_a_broken_lesson(tmp_path):
    good = _notebook(tmp_path / "01_good.ipynb", "x = 1", "y = x + 1")
    bad = _notebook(tmp_path / "02_bad.ipynb", "raise ValueError('lesson broke')")
    assert bench_lessons.lesson_paths(tmp_path) == [good, bad]
    result = bench_lessons.run([good, bad], runs=1)
    ok, broken, startup = result["rows"]
    assert ok["status"] == "PASS" and ok["n"] == 1 and "slowest cells" in ok["detail"]
    assert broken["status"] == "FAIL" and "lesson broke" in broken["error"]
    assert startup["label"].startswith("kernel start-up") and startup["budget"] is None


def test_bench_grading_smoke_with_a_stand_in_command(tmp_path):
    path = _notebook(tmp_path / "05_votes.ipynb", "pass")
    assert bench_grading.solution_paths(tmp_path) == [path]
    assert bench_grading.grade_command(path)[-2:] == ["grade", str(path)]
    ok = bench_grading.run([path], runs=2, command=lambda p: [sys.executable, "-c", "pass"])
    _check_result(ok, "grading")
    assert ok["rows"][0]["n"] == 2 and ok["rows"][0]["status"] == "PASS"
    below = bench_grading.run(
        [path], runs=1, command=lambda p: [sys.executable, "-c", "print('Total: 3/8'); raise SystemExit(1)"]
    )
    assert below["rows"][0]["status"] == "FAIL"
    assert below["rows"][0]["error"] == "exit 1: Total: 3/8"


def test_pytest_summary_is_parsed():
    line = "== 2 failed, 812 passed, 3 skipped, 1 error, 4 warnings in 250.12s (0:04:10) =="
    assert bench_test_suite.summary_line(f"....\n{line}\n") == line.strip("= ")
    assert bench_test_suite.counts(line) == {
        "failed": 2,
        "passed": 812,
        "skipped": 3,
        "error": 1,
        "warning": 4,
    }
    assert bench_test_suite.summary_line("no summary here") == ""
    output = (
        "x\nFAILED tests/test_a.py::test_one - AssertionError\nERROR tests/test_b.py\n  FAILED not this\n"
    )
    assert bench_test_suite.failures(output) == [
        "FAILED tests/test_a.py::test_one - AssertionError",
        "ERROR tests/test_b.py",
    ]


@pytest.mark.slow
def test_bench_test_suite_smoke_on_a_tiny_suite(tmp_path):
    (tmp_path / "test_tiny.py").write_text(
        "import pytest\n\ndef test_a():\n    assert True\n\ndef test_b():\n    assert 1 + 1 == 2\n\n"
        "@pytest.mark.skip(reason='tiny')\ndef test_c():\n    pass\n",
        encoding="utf-8",
    )
    result = bench_test_suite.run(pytest_args=["-q", "-p", "no:cacheprovider", "test_tiny.py"], cwd=tmp_path)
    _check_result(result, "test_suite")
    assert result["rows"][0]["counts"] == {"passed": 2, "skipped": 1}
    assert result["rows"][0]["budget"] == 600.0


def test_bench_local_is_skipped_with_a_note_without_the_extra(monkeypatch):
    from course_lib.providers import local

    monkeypatch.setattr(local, "local_extra_installed", lambda: False)
    result = bench_local.run(runs=1)
    assert result["rows"] == [] and "local extra" in result["skipped"]


@pytest.mark.local
@pytest.mark.slow
def test_bench_local_smoke(local_server):
    result = bench_local.run(url=local_server.url, runs=1, max_tokens=8)
    _check_result(result, "local")
    assert [r["unit"] for r in result["rows"]] == ["s", "s", "tok/s", "tok/s"]


# --------------------------------------------------------------------------- run_all


README = "# Course\n\nIntro.\n\n<!-- bench:start -->\nold table\n<!-- bench:end -->\n\n## Layout\n"


def test_readme_table_is_replaced_between_the_markers_only():
    out = run_all.replace_between_markers(README, "| new |")
    assert out == README.replace("old table", "| new |")
    assert run_all.replace_between_markers(out, "| newer |") == README.replace("old table", "| newer |")


@pytest.mark.parametrize(
    "text",
    [
        "# Course\n",
        "<!-- bench:start -->\n",
        "<!-- bench:end -->\n<!-- bench:start -->\n",
        README + README,
    ],
)
def test_missing_or_misplaced_markers_fail_clearly(text):
    with pytest.raises(run_all.MarkerError, match=r"bench:start.*bench:end.*--no-readme"):
        run_all.replace_between_markers(text, "table")


def test_main_stops_before_measuring_when_the_readme_has_no_markers(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text("# no markers\n", encoding="utf-8")
    assert run_all.main(["--only", "import", "--readme", str(readme), "--out", str(tmp_path)]) == 2
    assert "bench:start" in capsys.readouterr().err
    assert not (tmp_path / "results.json").exists()


def _canned(name: str, seconds: float, budget: float | None) -> dict:
    return common.make_result(
        name, f"Canned {name}", [common.row(f"{name} row", [seconds], "s", budget=budget)]
    )


def test_run_all_writes_results_markdown_and_readme_and_keeps_earlier_results(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    runners = {
        "import": lambda: _canned("import", 0.01, 0.3),
        "grading": lambda: _canned("grading", 20.0, 15.0),
        "replay": lambda: (_ for _ in ()).throw(RuntimeError("replay broke")),
    }
    data = run_all.run_all(["import", "grading", "replay"], out_dir=tmp_path, readme=readme, runners=runners)
    capsys.readouterr()
    assert [(b["benchmark"], b["status"]) for b in data["budgets"]] == [
        ("import", "PASS"),
        ("grading", "FAIL"),
    ]
    assert (
        data["benchmarks"]["replay"]["crashed"] and "replay broke" in data["benchmarks"]["replay"]["skipped"]
    )
    assert data["machine"]["cores"] and data["machine"]["python"]
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert saved["budgets"] == data["budgets"]
    text = readme.read_text(encoding="utf-8")
    assert text.startswith("# Course\n\nIntro.\n\n<!-- bench:start -->\n") and text.endswith(
        "<!-- bench:end -->\n\n## Layout\n"
    )
    assert "| grading one exercise | ≤ 15.0 s | 20.0 s | **FAIL** |" in text
    assert "## Canned grading" in (tmp_path / "RESULTS.md").read_text(encoding="utf-8")

    again = run_all.run_all(["import"], out_dir=tmp_path, readme=None, runners=runners)
    capsys.readouterr()
    assert again["benchmarks"]["grading"]["carried_over"] is True
    assert "carried_over" not in again["benchmarks"]["import"]


def test_failed_lessons_under_load_are_rerun_and_the_better_run_kept(tmp_path, monkeypatch):
    lesson = _notebook(tmp_path / "03_slow.ipynb", "pass")
    monkeypatch.setattr(bench_lessons, "lesson_paths", lambda folder=None: [lesson])
    monkeypatch.setattr(
        bench_lessons, "run", lambda paths, runs: {"rows": [common.row("03_slow", [8.0], "s", budget=10.0)]}
    )
    slow = common.row("03_slow", [14.0], "s", budget=10.0)
    slow["load_after"] = [5.0, 4.0, 3.0]
    calm = common.row("03_slow", [14.0], "s", budget=10.0)
    calm["load_after"] = [0.5, 0.5, 0.5]
    result = run_all.rerun_loaded_lessons({"rows": [slow, calm], "notes": []}, cores=2, runs=1)
    assert result["rows"][0]["median"] == 8.0 and result["rows"][0]["status"] == "PASS"
    assert "re-run" in result["rows"][0]["detail"] and "re-run" in result["notes"][0]
    assert result["rows"][1] is calm  # failed at low load: a real result, not re-run


def test_render_rewrites_the_tables_from_results_json_without_measuring(tmp_path, capsys):
    readme = tmp_path / "README.md"
    readme.write_text(README, encoding="utf-8")
    assert run_all.main(["--render", "--out", str(tmp_path), "--readme", str(readme)]) == 2  # nothing yet
    run_all.run_all(
        ["import"], out_dir=tmp_path, readme=None, runners={"import": lambda: _canned("import", 0.5, 0.3)}
    )
    assert run_all.main(["--render", "--out", str(tmp_path), "--readme", str(readme)]) == 0
    out = capsys.readouterr().out
    assert "FAIL  import course_lib: 500 ms (≤ 300 ms)" in out
    assert "| import course_lib | ≤ 300 ms | 500 ms | **FAIL** |" in readme.read_text(encoding="utf-8")


def test_results_from_another_machine_are_not_carried_over(tmp_path, capsys):
    runners = {
        "import": lambda: _canned("import", 0.01, 0.3),
        "grading": lambda: _canned("grading", 5.0, 15.0),
    }
    run_all.run_all(["grading"], out_dir=tmp_path, readme=None, runners=runners)
    saved = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    saved["machine"]["cpu_model"] = "some other CPU"
    (tmp_path / "results.json").write_text(json.dumps(saved), encoding="utf-8")
    data = run_all.run_all(["import"], out_dir=tmp_path, readme=None, runners=runners)
    assert list(data["benchmarks"]) == ["import"]
    assert "another machine" in capsys.readouterr().out
