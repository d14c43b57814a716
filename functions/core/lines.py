"""What Charla itself writes into a chat (system lines) and a mailed transcript, in each language it speaks.

A system line is stored as a `code` with `params` (names, numbers), so each reader sees it in their
own language: the console renders the code from its own catalogue, the visitor gets the text in the
chat's visitor language, and `text` keeps the English for anything that reads only text (webhooks,
exports, tickets made from a chat, lines stored before codes existed).
The console's catalogues (agent-ui/src/lang, keys `sys_<code>`) must say the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field

LANGUAGES = ("en", "es")

CATALOGUE: dict[str, dict[str, str]] = {
    "en": {
        "closed_by": "{name} closed the chat.",
        "visitor_closed": "The visitor closed the chat.",
        "left_message": "The visitor left a message instead of waiting.",
        "agent_closed": "The agent closed the chat.",
        "closed": "The chat was closed.",
        "idle_closed": "The chat closed after {minutes} minutes without messages.",
        "transferred": "{by} transferred the chat to {to}.",
        "joined": "{name} joined the chat.",
        "took_over": "{previous} did not answer within {seconds} s; {name} takes over.",
        "handed_over": "{previous} is no longer available; {name} takes over.",
        "visitor_left_closed": "The visitor left; the chat closed after {minutes} minutes without them.",
        "missed": "{previous} did not answer within {seconds} s and no longer gets new chats.",
        "missed_took_over": (
            "{previous} did not answer within {seconds} s and no longer gets new chats; {name} takes over."
        ),
        # the mailed transcript
        "transcript_subject": "Your chat transcript",
        "transcript_head": "Chat {chat_id}, started {started} ({zone})",
        "visitor": "You",
        "agent": "Agent",
        "transcript_file": "[file] {name}",
    },
    "es": {
        "closed_by": "{name} ha cerrado el chat.",
        "visitor_closed": "El visitante ha cerrado el chat.",
        "left_message": "El visitante ha dejado un mensaje en lugar de esperar.",
        "agent_closed": "El agente ha cerrado el chat.",
        "closed": "El chat se ha cerrado.",
        "idle_closed": "El chat se ha cerrado tras {minutes} minutos sin mensajes.",
        "transferred": "{by} ha transferido el chat a {to}.",
        "joined": "{name} se ha unido al chat.",
        "took_over": "{previous} no respondió en {seconds} s; {name} se encarga.",
        "handed_over": "{previous} ya no está disponible; {name} se encarga.",
        "visitor_left_closed": "El visitante se fue; el chat se ha cerrado tras {minutes} minutos sin él.",
        "missed": "{previous} no respondió en {seconds} s y ya no recibe chats nuevos.",
        "missed_took_over": "{previous} no respondió en {seconds} s y ya no recibe chats nuevos; {name} se encarga.",
        "transcript_subject": "La transcripción de tu chat",
        "transcript_head": "Chat {chat_id}, iniciado el {started} ({zone})",
        "visitor": "Tú",
        "agent": "Agente",
        "transcript_file": "[archivo] {name}",
    },
}

CODES = frozenset(
    (
        "closed_by",
        "visitor_closed",
        "left_message",
        "agent_closed",
        "closed",
        "idle_closed",
        "transferred",
        "joined",
        "took_over",
        "handed_over",
        "visitor_left_closed",
        "missed",
        "missed_took_over",
    )
)


def language(value: object) -> str:
    """The language Charla speaks closest to a browser's tag (`es-AR` -> `es`), else English."""
    if isinstance(value, str):
        base = value.strip().lower().replace("_", "-").split("-")[0]
        if base in CATALOGUE:
            return base
    return "en"


def say(key: str, lang: str, **params: object) -> str:
    text = CATALOGUE.get(lang, CATALOGUE["en"]).get(key) or CATALOGUE["en"][key]
    return text.format(**{k: "" if v is None else v for k, v in params.items()})


@dataclass(frozen=True)
class Line:
    """A system line: its code and the parameters the catalogue fills in."""

    code: str
    params: dict[str, str] = field(default_factory=dict)

    def text(self, lang: str = "en") -> str:
        return say(self.code, lang, **self.params)


def line(code: str, **params: object) -> Line:
    assert code in CODES, code
    return Line(code, {k: str(v) for k, v in params.items()})
