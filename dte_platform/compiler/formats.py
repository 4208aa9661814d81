"""String ``logicalTypeOptions.format`` values as patterns in the contract dialect (RE2, see
:mod:`dte_platform.compiler.patterns`), so they run vectorised in the engines like any pattern.

The network formats follow their RFCs and are tested against Python's own parsers: IPv4 as
``ipaddress`` reads it (no leading zeros), IPv6 by the RFC 3986 grammar with an optional RFC 4007
zone (``fe80::1%eth0``), URI by the RFC 3986 grammar (scheme, optional authority, path, query,
fragment, percent-encoding; no spaces or other characters outside the grammar).
"""

from __future__ import annotations

_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
IPV4 = rf"{_OCTET}(?:\.{_OCTET}){{3}}"
_H16 = r"[0-9A-Fa-f]{1,4}"
_LS32 = rf"(?:{_H16}:{_H16}|{IPV4})"


def _ipv6() -> str:
    """RFC 3986 ``IPv6address``: one alternative per position of the ``::``."""
    alternatives = [rf"(?:{_H16}:){{6}}{_LS32}", rf"::(?:{_H16}:){{5}}{_LS32}"]
    tails = [rf"(?:{_H16}:){{{n}}}{_LS32}" if n else _LS32 for n in (4, 3, 2, 1, 0)]
    tails += [_H16, ""]
    for before, tail in enumerate(tails):
        head = _H16 if before == 0 else rf"(?:{_H16}:){{0,{before}}}{_H16}"
        alternatives.append(rf"(?:{head})?::{tail}")
    return "(?:" + "|".join(alternatives) + ")"


IPV6 = _ipv6()
_ZONE = r"(?:%[0-9A-Za-z._~\-]+)?"

_PCT = r"%[0-9A-Fa-f]{2}"
_UNRESERVED_SUB = r"A-Za-z0-9\-._~!$&'()*+,;="
_PCHAR = rf"(?:[{_UNRESERVED_SUB}:@]|{_PCT})"
_SEGMENT = rf"{_PCHAR}*"
_USERINFO = rf"(?:[{_UNRESERVED_SUB}:]|{_PCT})*@"
_HOST = rf"(?:\[{IPV6}\]|(?:[{_UNRESERVED_SUB}]|{_PCT})*)"
_AUTHORITY_PATH = rf"//(?:{_USERINFO})?{_HOST}(?::[0-9]*)?(?:/{_SEGMENT})*"
_OTHER_PATH = rf"(?:/(?:{_PCHAR}+(?:/{_SEGMENT})*)?|{_PCHAR}+(?:/{_SEGMENT})*)?"
_QUERY = rf"(?:\?(?:{_PCHAR}|[/?])*)?"
_FRAGMENT = rf"(?:#(?:{_PCHAR}|[/?])*)?"
URI = rf"[A-Za-z][A-Za-z0-9+.\-]*:(?:{_AUTHORITY_PATH}|{_OTHER_PATH}){_QUERY}{_FRAGMENT}"

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?"

#: format name -> the pattern a value of that format matches, anchored
FORMATS = {
    "email": r"^[^@\s]+@[^@\s]+\.[^@\s]+$",
    "uuid": r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$",
    "uri": rf"^{URI}$",
    "ipv4": rf"^{IPV4}$",
    "ipv6": rf"^{IPV6}{_ZONE}$",
    "hostname": rf"^{_LABEL}(?:\.{_LABEL})*$",
}
