"""Valid Chinese identifiers made from their parts, for demo data and tests. Pure.

Every value made here passes its check in `cityops.datahub.standards`, which computes the check characters:
the generators and the checks share one function per standard, so they cannot drift apart.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Final

from cityops.datahub.standards import CREDIT_CODE_ALPHABET, credit_code_check_char, resident_id_check_char

__all__ = [
    "AUTHORITY_CIVIL_AFFAIRS",
    "AUTHORITY_MARKET_REGULATION",
    "AUTHORITY_ORGANISATION",
    "KIND_COOPERATIVE",
    "KIND_ENTERPRISE",
    "KIND_INDIVIDUAL_BUSINESS",
    "credit_code",
    "organisation_code",
    "resident_id",
]

# Registration authorities and organisation kinds (GB 32100-2015, appendix A), the ones demo data uses.
AUTHORITY_ORGANISATION: Final = "1"  # 机构编制: 1 机关, 2 事业单位, 3 群众团体, 9 其他
AUTHORITY_CIVIL_AFFAIRS: Final = "5"  # 民政: 1 社会团体, 2 民办非企业单位, 3 基金会, 9 其他
AUTHORITY_MARKET_REGULATION: Final = "9"  # 工商 / 市场监管: the kinds below
KIND_ENTERPRISE: Final = "1"  # 企业
KIND_INDIVIDUAL_BUSINESS: Final = "2"  # 个体工商户
KIND_COOPERATIVE: Final = "3"  # 农民专业合作社

# GB 11714-1997 organisation code: 8 body characters (digits, uppercase letters A=10 … Z=35) + check character.
_ORG_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_ORG_BODY: Final = re.compile(r"[0-9A-Z]{8}")
_REGION: Final = re.compile(r"[0-9]{6}")


def resident_id(region_code: str, birth: date, sequence: int) -> str:
    """An 18-character citizen ID (GB 11643-1999): region, birth date, 3-digit sequence, check character.

    The sequence's last digit is the 17th digit of the ID, odd for men and even for women.
    """
    if _REGION.fullmatch(region_code) is None:
        raise ValueError(f"a region code has 6 digits, got {region_code!r}")
    if not 0 <= sequence <= 999:
        raise ValueError(f"the sequence is 0–999, got {sequence}")
    if birth.year < 1000:
        raise ValueError(f"the birth year has 4 digits, got {birth.year}")
    first17 = f"{region_code}{birth.year:04d}{birth.month:02d}{birth.day:02d}{sequence:03d}"
    return first17 + resident_id_check_char(first17)


def organisation_code(body8: str) -> str:
    """The 9-character organisation code (GB 11714): the 8 body characters and their check character."""
    if _ORG_BODY.fullmatch(body8) is None:
        raise ValueError(f"an organisation code body has 8 digits or uppercase letters, got {body8!r}")
    return body8 + _organisation_check_char(body8)


def _organisation_check_char(body8: str) -> str:
    total = sum(int(char, 36) * weight for char, weight in zip(body8, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def credit_code(authority: str, kind: str, region_code: str, organisation_code: str) -> str:
    """An 18-character unified social credit code (GB 32100-2015).

    `authority` is the registration authority (9 for market regulation…), `kind` the organisation kind within
    it (1 enterprise, 2 individual business…), `region_code` the registering authority's 6-digit division
    code and `organisation_code` the 9-character GB 11714 code, its own check character included (see
    `organisation_code()`).
    """
    for what, part in (("authority", authority), ("kind", kind)):
        if len(part) != 1 or part not in CREDIT_CODE_ALPHABET:
            raise ValueError(f"the {what} is one character of {CREDIT_CODE_ALPHABET}, got {part!r}")
    if _REGION.fullmatch(region_code) is None:
        raise ValueError(f"a region code has 6 digits, got {region_code!r}")
    if len(organisation_code) != 9 or any(char not in CREDIT_CODE_ALPHABET for char in organisation_code):
        raise ValueError(f"the organisation code has 9 characters of {CREDIT_CODE_ALPHABET}, "
                         f"got {organisation_code!r}")
    if _organisation_check_char(organisation_code[:8]) != organisation_code[8]:
        raise ValueError(f"the organisation code {organisation_code!r} has a wrong check character; "
                         "make it with organisation_code()")
    first17 = f"{authority}{kind}{region_code}{organisation_code}"
    return first17 + credit_code_check_char(first17)

