"""Checking the identifiers metadata holds: SPDX license expressions and ORCID iDs."""

from __future__ import annotations

import re

from ..errors import MetadataError

ORCID = re.compile(r"(?:https?://orcid\.org/)?(\d{4}-\d{4}-\d{4}-\d{3}[\dX])")
LICENSE_REF = re.compile(r"(?:DocumentRef-[A-Za-z0-9.-]+:)?LicenseRef-[A-Za-z0-9.-]+")
SPDX_HINT = "an SPDX expression such as MIT, Apache-2.0, CC-BY-4.0 or GPL-3.0-or-later WITH GCC-exception-3.1 " \
            "(https://spdx.org/licenses/); a licence of your own is LicenseRef-NAME"


def orcid(text: str) -> str:
    """The ORCID iD in *text* (``0000-0002-1825-0097`` or its https://orcid.org/ URL), checksum checked.

    Raises:
        MetadataError: not an ORCID iD, or its check digit is wrong.
    """
    match = ORCID.fullmatch(text.strip())
    if match is None:
        raise MetadataError(f"{text!r} is not an ORCID iD", hint="an ORCID iD looks like 0000-0002-1825-0097")
    digits = match.group(1).replace("-", "")
    total = 0
    for digit in digits[:-1]:
        total = (total + int(digit)) * 2
    check = (12 - total % 11) % 11
    if digits[-1] != ("X" if check == 10 else str(check)):
        raise MetadataError(f"{text!r} is not an ORCID iD: its check digit is wrong",
                            hint="copy it from the person's orcid.org page")
    return match.group(1)


def spdx_expression(text: str) -> str:
    """*text* as a normalised SPDX license expression (``mit or apache-2.0`` -> ``MIT OR Apache-2.0``).

    Raises:
        MetadataError: an unknown license id or a malformed expression.
    """
    from license_expression import get_spdx_licensing

    try:
        info = get_spdx_licensing().validate(text, strict=True)
    except Exception:  # noqa: BLE001 - license-expression 30.4 fails on some malformed input (an AND at the end)
        raise MetadataError(f"license {text!r}: a malformed expression", hint=SPDX_HINT) from None
    unknown = [s for s in info.invalid_symbols if s and not LICENSE_REF.fullmatch(s)]
    if info.normalized_expression and not info.errors:
        return info.normalized_expression
    if info.invalid_symbols and not unknown and all(e.startswith("Unknown license key") for e in info.errors):
        return " ".join(text.split())  # only LicenseRef- ids, which no list holds: kept as written
    problem = f"unknown license id {', '.join(unknown)}" if unknown else "a malformed expression"
    raise MetadataError(f"license {text!r}: {problem}", hint=SPDX_HINT)
