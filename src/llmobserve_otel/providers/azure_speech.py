"""Azure AI Speech over REST: text-to-speech per character, short-audio speech-to-text per audio hour.

The Speech SDK (azure-cognitiveservices-speech) is a native library speaking its own WebSocket
protocol from C++, out of reach of Python transport hooks; this module covers the REST APIs.

TTS (https://learn.microsoft.com/azure/ai-services/speech-service/rest-text-to-speech): POST
`https://{region}.tts.speech.microsoft.com/cognitiveservices/v1` with an SSML body. Billable
characters (https://learn.microsoft.com/azure/ai-services/speech-service/text-to-speech#pricing-note):
everything inside the SSML except the `<speak>` and `<voice>` tags, markup and white space
included, one per Unicode code point, and each Chinese character (hanzi, kanji, hanja) counts two.
The voice name is the model (`...Neural`, `...:DragonHDLatestNeural`).

STT (https://learn.microsoft.com/azure/ai-services/speech-service/rest-speech-to-text-short): POST
`https://{region}.stt.speech.microsoft.com/speech/recognition/{mode}/cognitiveservices/v1`; the
JSON answer's `Duration` (100-nanosecond ticks) is the recognized speech, recorded in seconds.
"""

from __future__ import annotations

import re
from typing import Any

from llmobserve_otel.providers._json import as_str, dig
from llmobserve_otel.providers._types import Route, Usage

NAME = "azure_speech"
HOSTS = ("*.tts.speech.microsoft.com", "*.stt.speech.microsoft.com")
TRANSPORTS = ("https",)
SDK = None  # the Speech SDK is native code: raw HTTP (REST) is what can be captured
COVERAGE_NOTE = "REST only: the Speech SDK is native code speaking its own WebSocket protocol from C++; STT billed from the recognized `Duration` (a lower bound of the audio sent); prices not read from a stored copy of the page"

TTS = Route("tts", kind="speech")
STT = Route("transcription", kind="speech")
_STT_PATH = re.compile(r"/speech/recognition/(?:conversation|interactive|dictation)/cognitiveservices/v1/?")
_VOICE = re.compile(r"<voice\b[^>]*>(.*?)</voice\s*>", re.DOTALL)
_SPEAK = re.compile(r"<speak\b[^>]*>(.*?)</speak\s*>", re.DOTALL)
_VOICE_NAME = re.compile(r"""<voice\b[^>]*\bname\s*=\s*["']([^"']+)["']""")
_HAN = re.compile(
    r"[\u2e80-\u2fdf\u3005\u3007\u3021-\u3029\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
)
_TICKS_PER_SECOND = 10_000_000


def match(method: str, path: str) -> Route | None:
    if method != "POST":
        return None
    if path.rstrip("/") == "/cognitiveservices/v1":
        return TTS
    return STT if _STT_PATH.fullmatch(path) else None


def billable_characters(ssml: str) -> int:
    """Characters Azure bills for an SSML document (see the module docstring for the rule)."""
    voices = _VOICE.findall(ssml)
    if voices:
        text = "".join(voices)
    else:
        speak = _SPEAK.search(ssml)
        text = speak.group(1) if speak else ssml
    return len(text) + len(_HAN.findall(text))


def request_info(route: Route, body: Any) -> dict[str, Any]:
    if route is not TTS or not isinstance(body, str):
        return {}
    voice = _VOICE_NAME.search(body)
    return {"model": voice.group(1) if voice else None, "units": {"characters": billable_characters(body)}}


def parse_json(route: Route, body: Any) -> Usage | None:
    if route is not STT or not isinstance(body, dict):
        return None
    status = as_str(body.get("RecognitionStatus"))
    usage = Usage(finish_reasons=[status] if status else [])
    ticks = dig(body, "Duration")
    if isinstance(ticks, int) and not isinstance(ticks, bool) and ticks >= 0:
        usage.units["seconds"] = ticks / _TICKS_PER_SECOND
    return usage
