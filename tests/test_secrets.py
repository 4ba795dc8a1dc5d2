"""Key-shaped text is found per token family, refused before a request is sent, and never recorded.

Every fake token here is assembled at run time, so no key-shaped text sits in the repository.
"""

from __future__ import annotations

import json
import random
import string

import httpx2
import openai
import pytest

from course_lib.guards.secrets import FAKE_SECRET_MARKER, SecretFound, check_text, find_secrets
from course_lib.providers.openai_adapter import OpenAIProvider
from course_lib.providers.replay.recorder import RecordingTransport, SecretInRequestError
from course_lib.providers.replay.recordings import RecordingStore, SecretInRecordingError

RNG = random.Random(16)


def chars(n: int, alphabet: str = string.ascii_letters + string.digits) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


UPPER = string.ascii_uppercase + string.digits
B64 = string.ascii_letters + string.digits + "/+"

#: family -> a made-up token of the real shape, embedded in a sentence.
SAMPLES = {
    "github": lambda: "token " + "gh" + "p_" + chars(36),
    "github-pat": lambda: "github" + "_pat_" + chars(22) + "_" + chars(59),
    "github-app": lambda: "gh" + "s_" + chars(36),
    "aws-access-key": lambda: "id AK" + "IA" + chars(16, UPPER),
    "aws-secret-key": lambda: "aws_secret_access_key = " + chars(40, B64),
    "slack": lambda: "xo" + "xb-" + chars(11, string.digits) + "-" + chars(24),
    "slack-user": lambda: "xo" + "xp-" + chars(12, string.digits) + "-" + chars(20),
    "google": lambda: "key=AI" + "za" + chars(35),
    "huggingface": lambda: "use h" + "f_" + chars(34),
    "openai": lambda: "s" + "k-" + chars(48),
    "openai-project": lambda: "s" + "k-proj-" + chars(40) + "_" + chars(20),
    "anthropic": lambda: "s" + "k-ant-api03-" + chars(80),
    "private-key": lambda: "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIE",
    "bearer": lambda: "Authorization: Be" + "arer " + chars(30),
    "assignment": lambda: "please call it with api" + "_key=" + chars(24),
    "password": lambda: "db password: " + chars(14),
}
FAMILY = {
    "github-pat": "github",
    "github-app": "github",
    "slack-user": "slack",
    "openai-project": "openai",
    "password": "assignment",
}


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_token_family_is_found(name):
    text = f"Here is the config: {SAMPLES[name]()} (do not share)."
    families = {m.family for m in find_secrets(text)}
    assert FAMILY.get(name, name) in families
    with pytest.raises(SecretFound, match=r"shaped like a credential"):
        check_text(text, what="the prompt")


@pytest.mark.parametrize(
    "text",
    [
        "The API key is stored in the vault; ask the platform team for access.",
        "Install scikit-learn (sk-learn) and set password: <your password> in the form.",
        "AKIA is the prefix AWS access keys start with; hf_ is Hugging Face's.",
        "Bearer tokens expire. The header is called Authorization.",
        "Use api_key=os.environ['OPENAI_API_KEY'] rather than a literal.",
        "The refund was 1234567890123456789012345678901234567890 cents.",
    ],
)
def test_ordinary_prose_is_not_flagged(text):
    assert find_secrets(text) == []


@pytest.mark.parametrize("name", ["openai", "github", "assignment", "aws-secret-key"])
def test_the_course_marker_allows_its_own_fakes(name):
    real_shape = SAMPLES[name]()
    fake = real_shape[: len(real_shape) - 12] + FAKE_SECRET_MARKER
    assert find_secrets(fake) == []
    assert find_secrets(real_shape) != []


def test_the_packaged_recordings_hold_nothing_key_shaped():
    from course_lib.providers.replay.recordings import RECORDINGS_DIR

    for path in RECORDINGS_DIR.glob("*.jsonl"):
        assert find_secrets(path.read_text(encoding="utf-8")) == [], path.name


def recording_client(tmp_path):
    sent: list[bytes] = []

    def upstream(request: httpx2.Request) -> httpx2.Response:
        sent.append(request.content)
        body = {
            "id": "c1",
            "object": "chat.completion",
            "created": 0,
            "model": "m",
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": "noted"}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6},
        }
        return httpx2.Response(
            200, headers={"content-type": "application/json"}, content=json.dumps(body).encode()
        )

    store = RecordingStore(tmp_path / "rec.jsonl")
    recorder = RecordingTransport(store, httpx2.MockTransport(upstream), server="test")
    client = openai.OpenAI(
        api_key="test", base_url="http://rec.invalid/v1", max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(recorder.handle)),
    )  # fmt: skip
    return OpenAIProvider(client, model="m"), store, sent


@pytest.mark.parametrize("name", ["github", "aws-access-key", "slack", "google", "huggingface", "assignment"])
def test_recording_refuses_a_secret_before_sending_it(tmp_path, name):
    provider, store, sent = recording_client(tmp_path)
    with pytest.raises(SecretInRequestError, match="Nothing was sent"):
        provider.complete([{"role": "user", "content": f"Check this: {SAMPLES[name]()}"}])
    assert sent == []  # never reached the server, so never billed
    assert not store.path.exists()
    provider.complete([{"role": "user", "content": "A clean question."}])
    assert len(sent) == 1 and store.path.exists()


def test_recording_keeps_the_course_marked_fake(tmp_path):
    provider, store, sent = recording_client(tmp_path)
    fake = "s" + "k-" + FAKE_SECRET_MARKER + "-" + "0" * 16
    provider.complete([{"role": "user", "content": f"Spot the leaked key in: {fake}"}])
    assert len(sent) == 1 and fake in store.path.read_text(encoding="utf-8")


def test_store_refuses_any_family_on_write(tmp_path):
    store = RecordingStore(tmp_path / "s.jsonl")
    for name in ("github", "aws-access-key", "huggingface"):
        with pytest.raises(SecretInRecordingError):
            store.add_scripted(
                messages=[{"role": "user", "content": "q"}], responses=[SAMPLES[name]()], note="leak"
            )
