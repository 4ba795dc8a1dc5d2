"""Exercise 09: other styles pass, stubs score zero, planted bugs fail (notebooks: test_exercises.py)."""

from __future__ import annotations

import time

import pytest
from exercise_support import StubClass, assert_fails, assert_stubs_fail, stub

from course_lib.grading import load_exercise
from course_lib.grading.checks import ex09
from course_lib.providers.base import ProviderError, RetryAfterTooLongError
from course_lib.retry import RetryPolicy

# --------------------------------------------------------------------------- correct implementations


def retry_ok(
    provider, messages, *, max_attempts=4, base_delay=0.5, max_delay=8.0, max_retry_after=60.0, deadline=None,
    sleep=time.sleep, clock=time.monotonic, **params,
):  # fmt: skip
    """A while-loop version that sums its own waits instead of reading the clock."""
    attempt, waited = 0, 0.0
    while True:
        attempt += 1
        try:
            return provider.complete(messages, **params)
        except ProviderError as error:
            if not error.retryable or attempt >= max_attempts:
                raise
            if error.retry_after is not None and error.retry_after > max_retry_after:
                raise RetryAfterTooLongError("too long", retry_after=error.retry_after) from error
            backoff = max(min(max_delay, base_delay * 2 ** (attempt - 1)), error.retry_after or 0.0)
            if deadline is not None and waited + backoff > deadline:
                raise RetryAfterTooLongError("past the deadline", retry_after=error.retry_after) from error
            waited += backoff
            sleep(backoff)


def retry_with_library(provider, messages, *, max_attempts=4, base_delay=0.5, max_delay=8.0, max_retry_after=60.0,
                       deadline=None, sleep=time.sleep, clock=time.monotonic, **params):  # fmt: skip
    """The course library's retry loop, jitter off, passes too: it follows the same rule."""
    policy = RetryPolicy(max_attempts=max_attempts, base_delay=base_delay, max_delay=max_delay, jitter=False,
                         max_retry_after=max_retry_after, deadline=deadline)  # fmt: skip
    start = clock()
    attempt = 0
    while True:
        attempt += 1
        try:
            return provider.complete(messages, **params)
        except ProviderError as error:
            if not policy.should_retry(error, attempt):
                raise
            sleep(policy.plan_wait(attempt, error.retry_after, elapsed=clock() - start))


def vram_ok(params_billion, bits, *, layers=0, kv_heads=0, head_dim=0, context_tokens=0, batch=1, kv_bits=16,
            overhead=0.10):  # fmt: skip
    if not bits > 0 or params_billion < 0:
        raise ValueError("bad size")
    weights_gb = params_billion * bits / 8  # billions of parameters x bytes = GB
    kv_gb = 2 * layers * kv_heads * head_dim * context_tokens * batch * (kv_bits / 8) / 1e9
    return weights_gb * (1 + overhead) + kv_gb * (1 + overhead)


class QuotasOk:
    """Another style: one dict per tenant holding (window, used)."""

    def __init__(self, limits, *, default_limit=10_000, window_s=86_400, clock=time.time):
        self._limits, self._default, self._window, self._clock = limits, default_limit, window_s, clock
        self._state: dict[str, tuple[int, int]] = {}

    def _used(self, tenant):
        window = int(self._clock() // self._window)
        current, used = self._state.get(tenant, (window, 0))
        return window, used if current == window else 0

    def remaining(self, tenant):
        return self._limits.get(tenant, self._default) - self._used(tenant)[1]

    def try_consume(self, tenant, tokens):
        if tokens < 1:
            raise ValueError("tokens")
        window, used = self._used(tenant)
        if used + tokens > self._limits.get(tenant, self._default):
            return False
        self._state[tenant] = (window, used + tokens)
        return True


def test_correct_implementations_in_another_style_pass() -> None:
    ex09.check_retry_call(retry_ok)
    ex09.check_retry_call(retry_with_library)
    ex09.check_vram_gb(vram_ok)
    ex09.check_quota_manager(QuotasOk)


def test_questions_registered_with_points() -> None:
    assert [(q.id, q.points, q.targets) for q in load_exercise(9)] == [
        ("9.1", 2, ("retry_call",)),
        ("9.2", 2, ("vram_gb",)),
        ("9.3", 2, ("QuotaManager",)),
    ]


# --------------------------------------------------------------------------- planted bugs


def test_retry_that_ignores_retry_after_fails() -> None:
    def ignores_retry_after(provider, messages, *, max_attempts=4, base_delay=0.5, max_delay=8.0,
                            sleep=time.sleep, clock=None, max_retry_after=60.0, deadline=None,
                            **params):  # fmt: skip
        for attempt in range(1, max_attempts + 1):
            try:
                return provider.complete(messages, **params)
            except ProviderError as error:
                if not error.retryable or attempt == max_attempts:
                    raise
                sleep(min(max_delay, base_delay * 2 ** (attempt - 1)))

    assert_fails(ex09.check_retry_call, ignores_retry_after, "waited 0.5", "retry_after=3.0", "at least")


def test_retry_that_retries_a_400_fails() -> None:
    def retries_everything(provider, messages, *, max_attempts=4, base_delay=0.5, max_delay=8.0,
                           sleep=time.sleep, clock=None, max_retry_after=60.0, deadline=None,
                            **params):  # fmt: skip
        for attempt in range(1, max_attempts + 1):
            try:
                return provider.complete(messages, **params)
            except ProviderError as error:
                if attempt == max_attempts:
                    raise
                sleep(max(min(max_delay, base_delay * 2 ** (attempt - 1)), error.retry_after or 0))

    assert_fails(ex09.check_retry_call, retries_everything, "400 Bad Request", "made 2 call(s)", "at once")


def test_retry_that_sleeps_after_the_last_attempt_fails() -> None:
    def sleeps_too_much(provider, messages, *, max_attempts=4, base_delay=0.5, max_delay=8.0,
                        sleep=time.sleep, clock=None, max_retry_after=60.0, deadline=None,
                            **params):  # fmt: skip
        for attempt in range(1, max_attempts + 1):
            try:
                return provider.complete(messages, **params)
            except ProviderError as error:
                if not error.retryable:
                    raise
                sleep(max(min(max_delay, base_delay * 2 ** (attempt - 1)), error.retry_after or 0))
                if attempt == max_attempts:
                    raise

    assert_fails(ex09.check_retry_call, sleeps_too_much, "waited [0.5, 1.0, 2.0, 4.0]", "expected 4 calls")


def test_retry_with_one_attempt_too_many_fails() -> None:
    def off_by_one(provider, messages, *, max_attempts=4, base_delay=0.5, max_delay=8.0, sleep=time.sleep,
                   **params):  # fmt: skip
        return retry_ok(provider, messages, max_attempts=max_attempts + 1, base_delay=base_delay,
                        max_delay=max_delay, sleep=sleep, **params)  # fmt: skip

    assert_fails(ex09.check_retry_call, off_by_one, "made 5 call(s)", "expected 4 calls")


def test_retry_with_a_constant_delay_fails() -> None:
    def constant(
        provider, messages, *, max_attempts=4, base_delay=0.5, max_delay=8.0, sleep=time.sleep, **params
    ):
        return retry_ok(provider, messages, max_attempts=max_attempts, base_delay=base_delay,
                        max_delay=base_delay, sleep=sleep, **params)  # fmt: skip

    assert_fails(ex09.check_retry_call, constant, "expected [0.5, 1.0]")


def test_retry_that_caps_retry_after_fails() -> None:
    def capped(
        provider, messages, *, max_attempts=4, base_delay=0.5, max_delay=8.0, sleep=time.sleep, **params
    ):
        def capped_sleep(seconds):
            sleep(min(seconds, max_delay))

        return retry_ok(provider, messages, max_attempts=max_attempts, base_delay=base_delay,
                        max_delay=max_delay, sleep=capped_sleep, **params)  # fmt: skip

    assert_fails(ex09.check_retry_call, capped, "retry_after wins over max_delay")


@pytest.mark.slow  # really sleeps 3 s: the point of the hint
def test_retry_with_real_sleep_is_stopped_with_a_hint() -> None:
    def real_sleep(provider, messages, *, sleep=time.sleep, **kwargs):
        return retry_ok(provider, messages, sleep=time.sleep, **kwargs)

    start = time.perf_counter()
    assert_fails(ex09.check_retry_call, real_sleep, "`sleep` function passed in")
    assert time.perf_counter() - start < 10


def test_vram_bits_as_bytes_fails() -> None:
    def bits_as_bytes(params_billion, bits, **kwargs):
        return vram_ok(params_billion, bits * 8, **kwargs)

    assert_fails(ex09.check_vram_gb, bits_as_bytes, "8 times too large", "bits are not bytes")


def test_vram_without_the_factor_two_fails() -> None:
    def keys_only(params_billion, bits, *, layers=0, kv_heads=0, head_dim=0, context_tokens=0, batch=1,
                  kv_bits=16, overhead=0.10):  # fmt: skip
        return vram_ok(params_billion, bits, layers=layers, kv_heads=kv_heads, head_dim=head_dim,
                       context_tokens=context_tokens, batch=batch, kv_bits=kv_bits / 2, overhead=overhead)  # fmt: skip

    assert_fails(ex09.check_vram_gb, keys_only, "a key AND a value")


def test_vram_in_gib_fails() -> None:
    def gib(params_billion, bits, **kwargs):
        return vram_ok(params_billion, bits, **kwargs) * 1e9 / 2**30

    assert_fails(ex09.check_vram_gb, gib, "GiB")


def test_vram_overhead_on_weights_only_fails() -> None:
    def weights_overhead(params_billion, bits, *, overhead=0.10, **kwargs):
        kv = vram_ok(0, bits, overhead=0.0, **kwargs)
        return vram_ok(params_billion, bits, overhead=overhead) + kv

    assert_fails(ex09.check_vram_gb, weights_overhead, "(weights + KV cache) × (1 + overhead)")


def test_vram_without_input_checks_fails() -> None:
    def trusting(params_billion, bits, **kwargs):
        return abs(vram_ok(params_billion, max(bits, 1e-9), **kwargs))

    assert_fails(ex09.check_vram_gb, trusting, "expected it to raise ValueError")


def test_quota_shared_across_tenants_fails() -> None:
    class Shared(QuotasOk):
        def _used(self, tenant):
            return super()._used("everyone")

        def try_consume(self, tenant, tokens):
            ok = tokens <= self.remaining(tenant)
            if tokens < 1:
                raise ValueError
            if ok:
                window, used = self._used(tenant)
                self._state["everyone"] = (window, used + tokens)
            return ok

    assert_fails(ex09.check_quota_manager, Shared, "each tenant has its own budget")


def test_quota_window_that_never_resets_fails() -> None:
    class NeverResets(QuotasOk):
        def _used(self, tenant):
            return 0, self._state.get(tenant, (0, 0))[1]

    assert_fails(ex09.check_quota_manager, NeverResets, "at t=3600 s", "resets when the window turns over")


def test_quota_window_from_first_use_fails() -> None:
    class Rolling(QuotasOk):
        """Starts a tenant's window at its first request instead of aligning it on the clock."""

        def _used(self, tenant):
            start, used = self._state.get(tenant, (None, 0))
            now = self._clock()
            if start is None or now - start >= self._window:
                return now, 0
            return start, used

    assert_fails(ex09.check_quota_manager, Rolling, "at t=3600 s", "not window_s after the first request")


def test_quota_that_consumes_refused_requests_fails() -> None:
    class Partial(QuotasOk):
        def try_consume(self, tenant, tokens):
            if tokens < 1:
                raise ValueError
            window, used = self._used(tenant)
            limit = self._limits.get(tenant, self._default)
            self._state[tenant] = (window, min(limit, used + tokens))
            return used + tokens <= limit

    assert_fails(ex09.check_quota_manager, Partial, "consumes nothing")


def test_quota_off_by_one_at_the_limit_fails() -> None:
    class Strict(QuotasOk):
        def try_consume(self, tenant, tokens):
            if tokens == self.remaining(tenant):
                return False
            return super().try_consume(tenant, tokens)

    assert_fails(ex09.check_quota_manager, Strict, "exactly the remaining quota still fits")


def test_quota_usage_in_a_class_attribute_fails() -> None:
    class ClassLevel:
        used: dict = {}  # noqa: RUF012 - the planted bug

        def __init__(self, limits, *, default_limit=10_000, window_s=86_400, clock=time.time):
            self.limits, self.default, self.window, self.clock = limits, default_limit, window_s, clock

        def remaining(self, tenant):
            key = (tenant, int(self.clock() // self.window))
            return self.limits.get(tenant, self.default) - self.used.get(key, 0)

        def try_consume(self, tenant, tokens):
            if tokens < 1:
                raise ValueError
            if tokens > self.remaining(tenant):
                return False
            key = (tenant, int(self.clock() // self.window))
            self.used[key] = self.used.get(key, 0) + tokens
            return True

    assert_fails(ex09.check_quota_manager, ClassLevel, "not in a class attribute")


def test_stubs_fail_with_a_hint_and_missing_names_are_reported() -> None:
    assert_stubs_fail(
        {
            "9.1": ("retry_call", stub),
            "9.2": ("vram_gb", stub),
            "9.3": ("QuotaManager", StubClass),
        },
        missing="9.2",
    )


def test_retry_without_a_ceiling_on_retry_after_fails() -> None:
    def no_ceiling(provider, messages, *, max_retry_after=60.0, **kwargs):
        return retry_ok(provider, messages, max_retry_after=float("inf"), **kwargs)

    assert_fails(
        ex09.check_retry_call, no_ceiling, "retry_after=61", "RetryAfterTooLongError", "without sleeping"
    )


def test_retry_that_ignores_the_deadline_fails() -> None:
    def no_deadline(provider, messages, *, deadline=None, **kwargs):
        return retry_ok(provider, messages, deadline=None, **kwargs)

    assert_fails(ex09.check_retry_call, no_deadline, "deadline=5.0", "RetryAfterTooLongError")


def test_retry_that_retries_a_bug_is_told_so_not_that_the_model_ran_out() -> None:
    def retries_anything(provider, messages, **kwargs):
        for attempt in range(4):
            try:
                return retry_ok(provider, messages, **kwargs)
            except ProviderError:
                raise
            except Exception:
                if attempt == 3:
                    raise

    message = assert_fails(
        ex09.check_retry_call, retries_anything, "ValueError (a bug, not a provider error)"
    )
    assert "ran out" not in message


def test_retry_with_other_default_limits_fails() -> None:
    def three_attempts(provider, messages, *, max_attempts=3, **kwargs):
        return retry_ok(provider, messages, max_attempts=max_attempts, **kwargs)

    assert_fails(ex09.check_retry_call, three_attempts, "with the defaults", "expected 4 calls")
