"""The settings' optional ``[serveur]`` table, for ``xlfunding serve``: ``secret`` (the key of
the sponsors' links) and ``mot_de_passe_suivi`` (the staff page's password). Neither is part
of the fingerprint nor of the settings an annex keeps."""

from __future__ import annotations

KEYS = ("mot_de_passe_suivi", "secret")


def parse_server(value: object) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """The table's values, and its mistakes as (key, French message)."""
    if not isinstance(value, dict):
        return {}, [("serveur", "doit être une table [serveur]")]
    found, mistakes = {}, []
    for key, text in value.items():
        if key not in KEYS:
            mistakes.append((f"serveur.{key}", f"clé inconnue (attendu : {', '.join(KEYS)})"))
        elif not isinstance(text, str) or not text.strip():
            mistakes.append((f"serveur.{key}", f"doit être un texte non vide (trouvé : {text!r})"))
        else:
            found[key] = text.strip()
    return found, mistakes
