"""Every provider role on a loopback fake of pipeline_tests/providers that answers as slowly as a hosted API."""

import argparse
import hashlib
import json
import random
import time
import uuid
import wave
from pathlib import Path

import numpy as np

from critical_path import Call
from pipeline_tests.providers.fake_did import FakeDid
from pipeline_tests.providers.fakes import SECONDS_PER_WORD, HostedLatency, openai_server, wav

KEY = f"sk-bench-{uuid.uuid4().hex}"
VOCABULARY = ("amber anchor bell bridge candle canal clock copper dawn dusk ember feather gate glass harbour hill "
              "keeper lamp lantern market mill moon night oak orchard path quay rain river roof sail square "
              "stair stone street tide tower valley wheel wind window").split()


def distinct_sentences(words: int, rng: random.Random) -> str:
    """`words` words in sentences of about eight, drawn at random: no two sentences of a script alike."""
    drawn = [rng.choice(VOCABULARY) for _ in range(max(1, words))]
    cuts = list(range(0, len(drawn), 8))
    if len(cuts) > 1 and len(drawn) - cuts[-1] < 4:
        cuts.pop()  # a short tail joins the sentence before it (a lone word would repeat)
    sentences = [" ".join(drawn[a:b]) for a, b in zip(cuts, [*cuts[1:], len(drawn)])]
    return " ".join(s[0].upper() + s[1:] + "." for s in sentences)


def with_distinct_cues(route):
    """The fake chat route, its scripts' segment texts redrawn word for word (the same lengths, so the same
    timing): the fake's own prose repeats sentences, which narration speaks once (95 cues, 46 requests for
    a 240 s video), where a real script repeats none."""
    def answer(server, seen):
        status, headers, content = route(server, seen)
        body = json.loads(content)
        try:
            script = json.loads(body["choices"][0]["message"]["content"])
        except ValueError:
            return status, headers, content
        if not isinstance(script, dict) or "segments" not in script:
            return status, headers, content
        rng = random.Random(seen.body)
        for segment in script["segments"]:
            segment["text"] = distinct_sentences(len(segment["text"].split()), rng)
        text = json.dumps(script)
        body["choices"][0]["message"]["content"] = text
        body["usage"]["completion_tokens"] = len(text.split())
        return status, headers, json.dumps(body).encode()
    return answer


SPOKEN = ("The harbour lamps were lit before the tide turned, and the market square emptied slowly. "
          "Somebody was still selling copper bells from a cart by the bridge, calling out prices nobody answered. "
          "Up on the hill the old mill kept turning in the wind, as it had every night for a hundred years. "
          "By midnight the only sound left was the river against the stones of the quay.")


def spoken_voice(work: Path) -> tuple[np.ndarray, int]:
    """A few sentences said by the offline voice: what the fake speech answers are cut from, so the audio the
    pipeline encodes is speech (a pure tone makes AAC encoders take other times than speech does)."""
    from pipeline.providers.speech import OfflineSpeech

    path = work / "voice.wav"
    OfflineSpeech().synthesize(SPOKEN, "en", None, path)
    with wave.open(str(path), "rb") as w:
        return np.frombuffer(w.readframes(w.getnframes()), np.int16), w.getframerate()


def spoken(route, voice: np.ndarray, rate: int):
    """The fake speech route answering with `voice`: as many seconds as the fake would speak, from a place
    that depends on the text."""
    def answer(server, seen):
        status, headers, content = route(server, seen)
        if status != 200:
            return status, headers, content
        text = seen.json()["input"]
        seconds = max(0.4, len(text.split()) * SECONDS_PER_WORD)
        start = int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "big") % len(voice)
        return status, headers, wav(seconds, rate, voice=voice, start=start)
    return answer


class Recorder:
    """A fake's latency model that also notes each call it timed (role, arrival, seconds, output tokens)."""

    def __init__(self, role: str, model: HostedLatency):
        self.role, self.model = role, model
        self.calls: list[Call] = []

    def __call__(self, seen, answer) -> float:
        seconds = self.model(seen, answer)
        tokens = 0
        if seen.path.endswith("/chat/completions") and answer[0] == 200:
            tokens = json.loads(answer[2])["usage"]["completion_tokens"]
        self.calls.append(Call(self.role, time.time(), seconds, tokens))
        return seconds


class Providers:
    """The loopback fakes of every provider role, each counting what it was asked."""

    def __init__(self, args: argparse.Namespace, work: Path):
        s = args.scale
        latency = HostedLatency(chat=args.chat * s, chat_per_100_tokens=args.chat_per_100_tokens * s,
                                speech=args.speech * s, image=args.image * s)
        self.recorders = {role: Recorder(role, latency) for role in ("text", "speech", "images")}
        self.servers = {role: openai_server(key=KEY, latency=r) for role, r in self.recorders.items()}
        chat = self.servers["text"].routes
        chat["/v1/chat/completions"] = with_distinct_cues(chat["/v1/chat/completions"])
        speech = self.servers["speech"].routes
        speech["/v1/audio/speech"] = spoken(speech["/v1/audio/speech"], *spoken_voice(work))
        self.clip = args.clip * s
        self.poll = args.poll * s
        self.did = FakeDid(KEY, seconds_to_done=self.clip)
        self.max_in_flight = {role: args.max_in_flight for role in ("text", "speech", "images", "avatar")}
        self.started: list = []

    def start(self) -> None:
        for server in [*self.servers.values(), self.did]:
            server.start()
            self.started.append(server)

    def stop(self) -> None:
        """The servers that started (stopping one that never served would wait for ever)."""
        while self.started:
            self.started.pop().stop()

    def env(self) -> dict[str, str]:
        """PIPELINE_<ROLE>_* variables pointing every role at its fake."""
        env = {"PIPELINE_RESPONSE_CACHE": "off", "PIPELINE_PUBLISHER_PROVIDER": "local"}
        for role, server in self.servers.items():
            prefix = f"PIPELINE_{role.upper()}_"
            env.update({prefix + "PROVIDER": "openai", prefix + "BASE_URL": f"{server.url}/v1",
                        prefix + "API_KEY": KEY, prefix + "MAX_IN_FLIGHT": str(self.max_in_flight[role])})
        env.update(PIPELINE_AVATAR_PROVIDER="did", PIPELINE_AVATAR_BASE_URL=self.did.url, PIPELINE_AVATAR_API_KEY=KEY,
                   PIPELINE_AVATAR_MAX_IN_FLIGHT=str(self.max_in_flight["avatar"]),
                   PIPELINE_AVATAR_POLL_INTERVAL=f"{self.poll:g}", PIPELINE_AVATAR_MAX_WAIT=f"{max(300, 4 * self.clip):g}")
        return env

    def reset_peaks(self) -> None:
        for server in self.servers.values():
            server.peak = 0

    def calls(self, since: float, until: float) -> list[Call]:
        calls = [c for r in self.recorders.values() for c in r.calls if since <= c.at <= until]
        calls += [Call("avatar", t["created"], self.clip) for t in list(self.did.talks.values())
                  if since <= t["created"] <= until]
        return calls
