"""The grader's side of the channel to the learner's process: proxies, plain data, deadlines (exercises).

Checks run in the grader's process. What they receive as "the learner's function" is a
:class:`RemoteObject`: calling it sends the learner's process a request (see :mod:`.worker`) with the
arguments as plain data, and what comes back is decoded into plain Python values, a :class:`Record`
for a dataclass or model the grader does not know, a course_lib model rebuilt from its fields, an
exception rebuilt from its type name and message, or another :class:`RemoteObject`. No learner object
ever reaches the grader, so nothing the learner defines (``__eq__``, ``__hash__``, properties) runs
here. Every request has a deadline; a learner process that stops answering is declared broken.
"""

from __future__ import annotations

import builtins
import contextlib
import itertools
import socket
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from .sandbox import TimeLimitExceeded
from .worker import ChannelError, ChannelTimeout, recv_frame, send_frame

__all__ = [
    "Channel",
    "LearnerUnresponsive",
    "Record",
    "RemoteNamespace",
    "RemoteObject",
    "current_value",
    "deadline_in",
    "is_class",
    "learner_copy",
    "remote_where",
]

_local = threading.local()


class LearnerUnresponsive(Exception):
    """The learner's process stopped answering or broke the protocol; its channel is closed."""


@contextlib.contextmanager
def deadline_in(seconds: float | None) -> Iterator[float | None]:
    """Requests made inside the block must be answered within ``seconds`` (never later than an outer one)."""
    outer = getattr(_local, "deadline", None)
    mine = None if seconds is None else time.monotonic() + seconds
    current = mine if outer is None else (outer if mine is None else min(outer, mine))
    _local.deadline = current
    try:
        yield current
    finally:
        _local.deadline = outer


def _current_deadline(default: float) -> float:
    deadline = getattr(_local, "deadline", None)
    return deadline if deadline is not None else time.monotonic() + default


class Record:
    """A dataclass, named tuple or model from the learner's process, as read-only fields (exercises)."""

    __slots__ = ("_fields", "_tuple", "_type")

    def __init__(self, type_name: str, fields: dict[str, Any], as_tuple: bool = False) -> None:
        object.__setattr__(self, "_type", type_name)
        object.__setattr__(self, "_fields", dict(fields))
        object.__setattr__(self, "_tuple", as_tuple)

    def __getattr__(self, name: str) -> Any:
        fields = object.__getattribute__(self, "_fields")
        if name in fields:
            return fields[name]
        raise AttributeError(f"{object.__getattribute__(self, '_type')} has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a record from the learner's process is read-only")

    def __getitem__(self, key: Any) -> Any:
        if self._tuple and isinstance(key, (int, slice)):
            return list(self._fields.values())[key]
        raise TypeError(f"{self._type} is not subscriptable")

    def __iter__(self) -> Iterator[Any]:
        if not self._tuple:
            raise TypeError(f"{self._type} is not iterable")
        return iter(list(self._fields.values()))

    def __len__(self) -> int:
        if not self._tuple:
            raise TypeError(f"{self._type} has no len()")
        return len(self._fields)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Record):
            return self._fields == other._fields
        if self._tuple and isinstance(other, tuple):
            return tuple(self._fields.values()) == other
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self._fields.items())
        return f"{self._type}({inner})"


class RemoteObject:
    """A function, class or object that lives in the learner's process (exercises)."""

    def __init__(self, channel: Channel, hid: int, info: Mapping[str, Any]) -> None:
        object.__setattr__(self, "_channel", channel)
        object.__setattr__(self, "_id", hid)
        object.__setattr__(self, "_info", dict(info))
        object.__setattr__(self, "__name__", str(info.get("name") or info.get("type") or "object"))

    @property
    def remote_type(self) -> str:
        """The learner's type name of the object."""
        return str(self._info.get("type", "object"))

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._channel.request({"op": "call", "handle": self._id}, args, kwargs)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return self._channel.request({"op": "getattr", "handle": self._id, "attr": name})

    def __setattr__(self, name: str, value: Any) -> None:
        self._channel.request({"op": "setattr", "handle": self._id, "attr": name, "value": value})

    def _special(self, method: str, *args: Any) -> Any:
        return self._channel.request({"op": "special", "handle": self._id, "method": method}, args)

    def __len__(self) -> int:
        if self._info.get("iterator"):
            raise TypeError("an iterator has no len()")
        n = self._special("__len__")
        if not isinstance(n, int) or isinstance(n, bool):
            raise TypeError("__len__ did not return an int")
        return n

    def __getitem__(self, key: Any) -> Any:
        return self._special("__getitem__", key)

    def __contains__(self, item: Any) -> bool:
        return self._special("__contains__", item) is True

    def __iter__(self) -> Iterator[Any]:
        it = self if self._info.get("iterator") else self._special("__iter__")
        if not isinstance(it, RemoteObject):
            yield from it
            return
        while True:
            step = it._special("__next__")
            if not isinstance(step, dict) or "__next__" not in step:
                return
            yield step["__next__"]

    def __next__(self) -> Any:
        step = self._special("__next__")
        if not isinstance(step, dict) or "__next__" not in step:
            raise StopIteration
        return step["__next__"]

    def __bool__(self) -> bool:
        return True

    def __repr__(self) -> str:
        kind = "class" if self._info.get("is_class") else "object"
        return f"<learner's {kind} {self.__name__}>" if kind == "class" else f"<learner's {self.remote_type}>"


def _stepper(iterator: Any) -> Callable[[], tuple[bool, Any]]:
    def step() -> tuple[bool, Any]:
        try:
            return True, next(iterator)
        except StopIteration:
            return False, None

    return step


def learner_copy(like: Any, value: Any) -> Any:
    """``value`` rebuilt in the process ``like`` lives in: the learner's, when ``like`` is remote (exercises).

    For checks that hand the learner's code a list to change in place and read it back with
    :func:`current_value`; in-process (tests) it is ``value`` itself.
    """
    return like._channel.make(value) if isinstance(like, RemoteObject) else value


def current_value(obj: Any) -> Any:
    """The value of ``obj`` now: read back from the learner's process for a copy made there (exercises)."""
    return obj._channel.value(obj) if isinstance(obj, RemoteObject) else obj


def is_class(obj: Any) -> bool:
    """True for a class, here or in the learner's process."""
    if isinstance(obj, RemoteObject):
        return bool(obj._info.get("is_class"))
    return isinstance(obj, type)


def remote_where(exc: BaseException) -> str | None:
    """Where in the learner's code an exception rebuilt from the learner's process was raised, if it was."""
    return getattr(exc, "_course_where", None)


class _RemoteError:
    """Marker base of exception classes made up for a learner's own exception types."""


_EXC_CACHE: dict[tuple[str, type], type] = {}


def _resolve_class(module: str, qualname: str) -> type | None:
    if module == "builtins":
        found = getattr(builtins, qualname, None)
        return found if isinstance(found, type) else None
    if not module.startswith("course_lib.") or module.startswith("course_lib.grading"):
        return None
    import importlib

    try:
        obj: Any = importlib.import_module(module)
        for part in qualname.split("."):
            obj = getattr(obj, part)
    except Exception:
        return None
    return obj if isinstance(obj, type) else None


class Channel:
    """Requests to one learner process over a connected socket, each with a deadline (exercises)."""

    def __init__(self, sock: socket.socket, *, default_timeout: float = 10.0) -> None:
        self.sock = sock
        self.default_timeout = default_timeout
        self.broken: str | None = None
        self._ids = itertools.count(1)
        self._lock = threading.RLock()
        self._callbacks: dict[int, Callable[..., Any]] = {}
        self._callback_ids: dict[int, int] = {}
        self._providers: dict[int, Any] = {}
        self._models: dict[str, type] = {}
        self._keep: list[Any] = []

    # -- encoding what the grader sends
    def encode(self, value: Any, depth: int = 0) -> Any:
        if depth > 60:
            raise ValueError("value nested too deeply to send")
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, RemoteObject):
            return {"__ref__": value._id}
        spec = getattr(value, "course_spec", None)
        if callable(spec) and not isinstance(value, type):
            pid = id(value)
            self._providers[pid] = value
            self._keep.append(value)
            return {"__provider__": {"id": pid, **self.encode_plain(spec(), depth + 1)}}
        if isinstance(value, BaseException):
            return {"__exception__": self._exception_record(value, depth)}
        if hasattr(type(value), "__next__") and not isinstance(value, (str, bytes, list, tuple, dict)):
            return {"__iterator__": {"id": self._register(_stepper(value))}}
        if isinstance(value, (list,)):
            return [self.encode(v, depth + 1) for v in value]
        if isinstance(value, tuple):
            return {"__tuple__": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, dict):
            return {
                "__dict__": [[self.encode(k, depth + 1), self.encode(v, depth + 1)] for k, v in value.items()]
            }
        if isinstance(value, (set, frozenset)):
            return {"__set__": [self.encode(v, depth + 1) for v in value]}
        if isinstance(value, bytes):
            import base64

            return {"__bytes__": base64.b64encode(value).decode("ascii")}
        if isinstance(value, type) and hasattr(value, "model_json_schema"):
            name = value.__qualname__
            self._models[name] = value
            return {"__model_class__": {"name": name, "schema": value.model_json_schema()}}
        if hasattr(value, "model_dump") and not isinstance(value, type):
            cls = type(value)
            return {"__model__": {"module": cls.__module__, "qualname": cls.__qualname__,
                                  "data": self.encode(value.model_dump(), depth + 1)}}  # fmt: skip
        if callable(value):
            return {
                "__callback__": {"id": self._register(value), "name": getattr(value, "__name__", "callback")}
            }
        raise TypeError(f"cannot send a {type(value).__name__} to the learner's process")

    def _register(self, fn: Callable[..., Any]) -> int:
        cid = self._callback_ids.get(id(fn))
        if cid is None:
            cid = next(self._ids)
            self._callback_ids[id(fn)] = cid
            self._callbacks[cid] = fn
            self._keep.append(fn)
        return cid

    def encode_plain(self, spec: Mapping[str, Any], depth: int) -> dict[str, Any]:
        return {k: (v if k in ("kind", "faults", "model", "repeat_last", "retry_after") else self.encode(v, depth))
                for k, v in spec.items()}  # fmt: skip

    def _exception_record(self, exc: BaseException, depth: int) -> dict[str, Any]:
        cls = type(exc)
        attrs = {k: v for k, v in vars(exc).items() if not k.startswith("_")}
        return {"module": cls.__module__, "qualname": cls.__qualname__,
                "args": self.encode(list(exc.args), depth + 1), "attrs": self.encode(attrs, depth + 1)}  # fmt: skip

    # -- decoding what the learner sends
    def decode(self, value: Any, depth: int = 0) -> Any:
        if depth > 80:
            raise LearnerUnresponsive("a value from the learner's process is nested too deeply")
        if value is None or isinstance(value, (bool, int, float, str)):
            return value
        if isinstance(value, list):
            return [self.decode(v, depth + 1) for v in value]
        if not isinstance(value, dict) or len(value) != 1:
            raise LearnerUnresponsive("the learner's process sent a value the grader does not understand")
        ((tag, body),) = value.items()
        if tag == "__dict__":
            out = {}
            for k, v in body:
                key = self.decode(k, depth + 1)
                try:
                    hash(key)
                except TypeError:
                    key = repr(key)
                out[key] = self.decode(v, depth + 1)
            return out
        if tag == "__tuple__":
            return tuple(self.decode(v, depth + 1) for v in body)
        if tag == "__set__":
            items = [self.decode(v, depth + 1) for v in body]
            try:
                return set(items)
            except TypeError:
                return items
        if tag == "__bytes__":
            import base64

            return base64.b64decode(str(body))
        if tag == "__record__":
            return self._record(body, depth)
        if tag == "__exception__":
            return self.exception(body)
        if tag == "__handle__":
            return RemoteObject(self, int(body["id"]), body)
        if tag in ("__next__", "__stop__"):
            return {tag: self.decode(body, depth + 1) if tag == "__next__" else True}
        raise LearnerUnresponsive(f"the learner's process sent an unknown tag {str(tag)[:40]!r}")

    def _record(self, body: Mapping[str, Any], depth: int) -> Any:
        fields = self.decode(body.get("fields", {"__dict__": []}), depth + 1)
        if not isinstance(fields, dict):
            raise LearnerUnresponsive("a record without fields")
        module, qualname = str(body.get("module", "")), str(body.get("qualname", "object"))
        cls = self._models.get(qualname) if module == "<grader>" else None
        if cls is None and body.get("model"):
            cls = _resolve_class(module, qualname)
        if cls is None and module.startswith("course_lib."):
            cls = _resolve_class(module, qualname)
        if cls is not None:
            try:
                if hasattr(cls, "model_validate"):
                    return cls.model_validate(fields)
                return cls(**fields)
            except Exception:
                pass
        return Record(
            qualname.rsplit(".", 1)[-1], {str(k): v for k, v in fields.items()}, bool(body.get("tuple"))
        )

    def exception(self, body: Mapping[str, Any]) -> BaseException:
        """Rebuild an exception from the learner's process: the nearest class the grader knows by name."""
        mro = [tuple(x) for x in body.get("mro", []) if isinstance(x, list) and len(x) == 2]
        mro = mro or [(str(body.get("module", "builtins")), str(body.get("qualname", "Exception")))]
        base: type = Exception
        for module, qualname in mro:
            found = _resolve_class(str(module), str(qualname))
            if found is not None and issubclass(found, BaseException):
                base = found
                break
        if issubclass(base, (SystemExit, KeyboardInterrupt, GeneratorExit)) or not issubclass(
            base, Exception
        ):
            base = RuntimeError if not issubclass(base, SystemExit) else base
        name = str(mro[0][1]).rsplit(".", 1)[-1]
        cls = base
        if base.__name__ != name:
            key = (name, base)
            if key not in _EXC_CACHE:
                _EXC_CACHE[key] = type(name, (base, _RemoteError), {"__module__": "learner"})
            cls = _EXC_CACHE[key]
        exc = cls.__new__(cls)
        try:
            args = self.decode(body.get("args", []))
        except LearnerUnresponsive:
            args = [body.get("message", "")]
        exc.args = tuple(args) if isinstance(args, list) else (str(body.get("message", "")),)
        try:
            attrs = self.decode(body.get("attrs", {"__dict__": []}))
        except LearnerUnresponsive:
            attrs = {}
        for key, val in (attrs or {}).items():
            if isinstance(key, str) and not key.startswith("_"):
                with contextlib.suppress(Exception):
                    setattr(exc, key, val)
        message = str(body.get("message", ""))[:2000]
        with contextlib.suppress(Exception):
            if str(exc) != message:
                exc._course_message = message
        exc._course_where = str(body.get("where", ""))
        return exc

    # -- the conversation
    def _fail(self, why: str) -> LearnerUnresponsive:
        self.broken = why
        with contextlib.suppress(OSError):
            self.sock.close()
        return LearnerUnresponsive(why)

    def request(
        self, message: dict[str, Any], args: Any = (), kwargs: Mapping[str, Any] | None = None
    ) -> Any:
        """Send one request and wait for its reply, answering callbacks meanwhile; decode the reply."""
        if self.broken:
            raise LearnerUnresponsive(self.broken)
        deadline = _current_deadline(self.default_timeout)
        began = time.monotonic()
        with self._lock:
            rid = next(self._ids)
            body = dict(message, id=rid)
            if args:
                body["args"] = self.encode(list(args))
            if kwargs:
                body["kwargs"] = self.encode(dict(kwargs))
            if "value" in body:
                body["value"] = self.encode(body["value"])
            try:
                send_frame(self.sock, body, deadline)
                reply = self._wait(rid, deadline)
            except ChannelTimeout:
                self._cancel(rid)
                raise TimeLimitExceeded(round(max(deadline - began, 0.0), 2)) from None
            except ChannelError as exc:
                raise self._fail(f"the notebook's process stopped answering ({exc})") from None
            except BaseException:
                self._fail("grading was interrupted in the middle of a request")
                raise
        self._sync_providers(reply.get("providers"))
        if "missing" in reply:
            raise KeyError(str(reply["missing"]))
        if "error" in reply:
            error = reply["error"]
            if not isinstance(error, dict):
                raise self._fail("the learner's process sent a malformed error")
            raise self.exception(error)
        return self.decode(reply.get("ok"))

    def _wait(self, rid: int, deadline: float) -> dict[str, Any]:
        while True:
            frame = recv_frame(self.sock, deadline)
            if not isinstance(frame, dict):
                raise ChannelError("a message that is not an object")
            op = frame.get("op")
            if op == "reply" and frame.get("id") == rid:
                return frame
            if op == "callback":
                self._answer_callback(frame, deadline)
            # stale replies (for requests given up on), pongs and anything else are dropped

    def _answer_callback(self, frame: Mapping[str, Any], deadline: float) -> None:
        fn = self._callbacks.get(frame.get("cid")) if isinstance(frame.get("cid"), int) else None
        reply: dict[str, Any] = {"op": "callback_reply", "cbid": frame.get("cbid")}
        try:
            if fn is None:
                raise LookupError("no such callback")
            args = self.decode(frame.get("args", []))
            kwargs = self.decode(frame.get("kwargs", {"__dict__": []}))
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise TypeError("bad callback arguments")
            reply["ok"] = self.encode(fn(*args, **{str(k): v for k, v in kwargs.items()}))
        except LearnerUnresponsive:
            raise
        except Exception as exc:
            reply["error"] = self._exception_record(exc, 0)
        send_frame(self.sock, reply, deadline)

    def _cancel(self, rid: int) -> None:
        """Ask the learner's process to stop request ``rid``; if it cannot even say so, it is broken."""
        try:
            send_frame(self.sock, {"op": "cancel", "id": rid}, time.monotonic() + 1.0)
            ping = next(self._ids)
            send_frame(self.sock, {"op": "ping", "id": ping}, time.monotonic() + 1.0)
            end = time.monotonic() + 2.0
            while True:
                frame = recv_frame(self.sock, end)
                if isinstance(frame, dict) and frame.get("op") == "pong" and frame.get("id") == ping:
                    return
                if isinstance(frame, dict) and frame.get("op") == "callback":
                    self._answer_callback(frame, end)
        except ChannelError:
            self._fail("the notebook's process stopped answering after a time limit")

    def _sync_providers(self, state: Any) -> None:
        if not isinstance(state, dict):
            return
        from ..providers.scripted import Call

        def calls(records: Any) -> list[Call]:
            out = []
            for rec in records if isinstance(records, list) else []:
                if isinstance(rec, dict):
                    messages = self.decode(rec.get("messages"))
                    params = self.decode(rec.get("params"))
                    out.append(Call(messages if isinstance(messages, list) else [],
                                    params if isinstance(params, dict) else {}))  # fmt: skip
            return out

        for key, entry in state.items():
            provider = self._providers.get(int(key)) if str(key).isdigit() else None
            if provider is None or not isinstance(entry, dict):
                continue
            if "count" in entry and isinstance(entry["count"], int):
                provider.calls = entry["count"]
            if "calls" in entry:
                provider.calls = calls(entry["calls"])
            if "inner_calls" in entry and getattr(provider, "inner", None) is not None:
                provider.inner.calls = calls(entry["inner_calls"])

    def make(self, value: Any) -> RemoteObject:
        """A copy of ``value`` built in the learner's process (a list the learner's code may change)."""
        got = self.request({"op": "make", "value": value})
        if not isinstance(got, RemoteObject):
            raise self._fail("the learner's process did not make the value asked for")
        return got

    def value(self, obj: RemoteObject) -> Any:
        """The current value of a learner-side object, as plain data."""
        return self.request({"op": "value", "handle": obj._id})

    def lookup(self, name: str) -> Any:
        """The learner's object called ``name`` (decoded), or KeyError when the notebook has none."""
        return self.request({"op": "lookup", "name": name})

    def quit(self, result: Any = None) -> None:
        """Tell the learner's process grading is over (with an inline result to show, if any)."""
        if self.broken:
            return
        with contextlib.suppress(ChannelError, OSError):
            send_frame(self.sock, {"op": "quit", "result": result}, time.monotonic() + 2.0)
        self.broken = "closed"


class RemoteNamespace(Mapping[str, Any]):
    """The learner's notebook namespace, looked up name by name over a channel (exercises)."""

    def __init__(self, channel: Channel) -> None:
        self.channel = channel
        self._cache: dict[str, Any] = {}

    def __getitem__(self, name: str) -> Any:
        if name not in self._cache:
            self._cache[name] = self.channel.lookup(name)
        return self._cache[name]

    def __contains__(self, name: object) -> bool:
        try:
            self[str(name)]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._cache)

    def __len__(self) -> int:
        return len(self._cache)
