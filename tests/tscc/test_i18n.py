"""Both languages, everywhere: catalogue completeness and pages in Chinese."""

from pathlib import Path

import polib
import pytest
from django.conf import settings

from tscc.roles import Role

LOCALE = Path(settings.BASE_DIR) / "locale" / "zh_Hans" / "LC_MESSAGES"


@pytest.mark.parametrize("domain", ["django"])
def test_zh_hans_catalogue_is_complete_and_compiled(domain):
    po = polib.pofile(str(LOCALE / f"{domain}.po"))
    missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
    assert missing == [], f"untranslated or fuzzy in {domain}.po: {missing[:20]}"
    mo = polib.mofile(str(LOCALE / f"{domain}.mo"))
    compiled = {
        (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in mo
    }
    for entry in po.translated_entries():
        key = (entry.msgctxt, entry.msgid)
        assert key in compiled, f"{domain}.mo is stale (run make messages): {entry.msgid!r}"


def test_every_template_string_is_in_the_catalogue():
    """A string marked in a template or module but missing from the .po fails here."""
    import subprocess
    import sys
    import tempfile

    po = polib.pofile(str(LOCALE / "django.po"))
    known = {e.msgid for e in po}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "extract.pot"
        result = subprocess.run(  # noqa: S603
            [sys.executable, "-m", "tests.extract_messages", str(out)],
            cwd=settings.BASE_DIR,
            capture_output=True,
            text=True,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        extracted = {e.msgid for e in polib.pofile(str(out))}
    missing = sorted(extracted - known)
    assert missing == [], "Not in the catalogue (run make messages):\n" + "\n".join(missing)


@pytest.mark.django_db
def test_a_chinese_speaking_user_sees_chinese(client, make_user):
    client.force_login(make_user(role=Role.OPS_MANAGER, language="zh-hans"))
    html = client.get("/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert "概览" in html
    assert "Overview" not in html


@pytest.mark.django_db
def test_anonymous_visitor_gets_the_browser_language(client):
    html = client.get("/login/", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).content.decode()
    assert "登录" in html


@pytest.mark.django_db
def test_language_switch_keeps_the_choice_on_the_user(client, make_user):
    user = make_user(language="en")
    client.force_login(user)
    response = client.post("/language/", {"language": "zh-hans", "next": "/me/"})
    assert response.status_code == 302
    assert response["Location"] == "/me/"
    user.refresh_from_db()
    assert user.language == "zh-hans"
    assert "偏好" in client.get("/me/").content.decode()


@pytest.mark.django_db
def test_language_switch_refuses_unknown_languages_and_foreign_redirects(client, make_user):
    client.force_login(make_user(language="en"))
    assert client.post("/language/", {"language": "fr"}).status_code == 400
    response = client.post("/language/", {"language": "en", "next": "https://evil.example/"})
    assert response["Location"] == "/"
