"""The password policy of new accounts, beyond length: no blank or control characters, not
the email, and not one of the passwords every attacker tries first.

``common-passwords.txt.gz`` beside this file is the list Django ships
(``django/contrib/auth/common-passwords.txt.gz``, Django 5.2): the 20,000 most common
passwords (19,640 once lowercased and deduplicated), compiled by Royce Williams
(https://gist.github.com/roycewilliams/226886fd01572964e1431ac8afc999ce). Copyright (c)
Django Software Foundation and individual contributors, BSD 3-clause licence.
"""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

from frameforge_api.core.guards import control_characters

COMMON_PASSWORDS = Path(__file__).with_name("common-passwords.txt.gz")
MIN_LOCAL_PART = 6  # a shorter one ("ann@…", "down@…") is refused only as the whole
# password: as a substring it would refuse too much ("planning", "redis is down 1")


@functools.cache
def common_passwords() -> frozenset[str]:
    with gzip.open(COMMON_PASSWORDS, "rt", encoding="utf-8") as lines:
        return frozenset(line.strip() for line in lines if line.strip())


def weakness(password: str, email: str | None) -> str | None:
    """Why ``password`` may not be used (for an account of ``email``), or None.

    Length and byte limits are checked by the caller; this is what a long password can
    still get wrong. Comparisons ignore case and blanks ("Pass Word 123" is "password123").
    """
    if not password.strip():
        return "use more than blank characters"
    if control_characters(password):
        return "do not use control characters (line breaks, tabs, NUL, …)"
    folded = password.casefold()
    if email and _contains_address(folded, email.casefold()):
        return "do not use your email address in your password"
    common = common_passwords()
    if folded.strip() in common or "".join(folded.split()) in common:
        return "this password is among the most common ones: choose another"
    return None


def _contains_address(password: str, address: str) -> bool:
    local = address.partition("@")[0]
    if address in password or password.strip() == local:
        return True
    return len(local) >= MIN_LOCAL_PART and local in password
