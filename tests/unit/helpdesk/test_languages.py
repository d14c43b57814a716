"""The welcome text and the offline form's labels per language, as the admin writes them."""

from __future__ import annotations

import pytest

from functions.admin import settings_checks
from functions.core import settings
from functions.core.errors import CharlaError
from functions.helpdesk import offline_form
from functions.visitors import widget_config


def test_the_defaults_speak_spanish_to_a_spanish_widget_and_english_otherwise(aws):
    assert [f["label"] for f in offline_form.fields("es")] == ["Nombre", "Correo electrónico", "Mensaje"]
    assert [f["label"] for f in offline_form.fields("en")] == ["Name", "Email", "Message"]
    assert [f["label"] for f in offline_form.fields("fr")] == ["Name", "Email", "Message"]
    public = widget_config.widget_settings()
    assert public["welcome"] == "Hi! How can we help?"
    assert public["welcome_by_lang"] == {"es": "¡Hola! ¿En qué podemos ayudarte?"}


def test_an_admin_edits_the_spanish_welcome_and_labels(aws):
    checked = settings_checks.CHECKS["translations"](
        "translations", {"es": {"welcome": "¡Buenas!", "labels": {"name": "Tu nombre"}}}
    )
    settings.save_settings({"translations": checked})
    assert widget_config.widget_settings()["welcome_by_lang"] == {"es": "¡Buenas!"}
    assert [f["label"] for f in offline_form.fields("es")] == ["Tu nombre", "Email", "Message"]


@pytest.mark.parametrize(
    "value",
    [
        [],
        {"fr": {"welcome": "Salut"}},
        {"en": {"welcome": "Hi"}},
        {"es": {"colour": "red"}},
        {"es": {"welcome": "x" * 301}},
        {"es": {"labels": {"Name!": "Nombre"}}},
        {"es": {"labels": {"name": ""}}},
        {"es": {"labels": {"name": "x" * 61}}},
        {"es": {"labels": ["Nombre"]}},
    ],
)
def test_bad_translations_are_refused_naming_the_key(aws, value):
    with pytest.raises(CharlaError) as refused:
        settings_checks.CHECKS["translations"]("translations", value)
    assert refused.value.code == "bad_request" and "translations" in refused.value.message
