"""The shared text rules: which addresses are looked up or mailed, and what one line of text keeps."""

from __future__ import annotations

from functions.core import text


def test_an_address_mail_came_from_needs_no_top_level_label_but_charla_mails_only_full_ones():
    assert text.is_mail_address("ops@intranet") and not text.is_email("ops@intranet")
    assert text.is_mail_address("pat@example.com") and text.is_email("pat@example.com")
    for bad in ("", "no-at-sign", "two@@example.com", "pat @example.com", "a" * 65 + "@example.com", None, 7):
        assert not text.is_mail_address(bad)


def test_an_address_written_into_a_mail_header_may_not_end_or_quote_itself():
    for address in ('"pat"@example.com', "pat>@example.com", "pat@example.com<x"):
        assert text.is_mail_address(address)  # still found when looked up or erased
        assert not text.is_mail_address(address, in_headers=True)
    assert text.is_mail_address("pat@example.com", in_headers=True)


def test_one_line_with_a_limit_collapses_spaces_and_cuts():
    assert text.one_line("  Re:\r\n  invoice\t\x00 42  ", 200) == "Re: invoice 42"
    assert text.one_line("a\nb   c") == "a b   c"  # without a limit only control characters go
    assert text.one_line("x" * 300, 200) == "x" * 200


def test_multi_line_text_keeps_its_line_breaks_and_tabs_but_no_other_control_character():
    assert text.without_controls(" line one\n\tline two\x07\x1b ") == " line one\n\tline two "
    assert text.free_text(" line one\n\tline two\x07 ") == "line one\n\tline two"


def test_an_excerpt_is_cut_at_a_word_boundary_with_an_ellipsis():
    assert text.excerpt("Short enough", 80) == "Short enough"
    cut = text.excerpt("The parcel I ordered on Monday never arrived, and the tracking page says delivered", 40)
    assert cut == "The parcel I ordered on Monday never…" and len(cut) <= 40
    assert text.excerpt("Hello,  world and\tmore words", 14) == "Hello, world…"
    # A script without spaces is still cut to the limit.
    assert text.excerpt("配達されていません" * 10, 12) == "配達されていません配達…"
