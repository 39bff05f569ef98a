"""XML parsing that refuses DTDs and entities.

JUnit reports are CI artifacts, but a test step runs the project's own (and its dependencies')
code, which can write anything there. A DOCTYPE has no business in a test report, and refusing it
closes the entity-expansion ("billion laughs") and external-entity holes the way defusedxml does,
without the dependency: expat reports the declaration before any entity is expanded.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from xml.parsers import expat

from aikinklab_ops.errors import InputError


class _Refused(Exception):
    def __init__(self, what: str, line: int) -> None:
        super().__init__(what)
        self.what = what
        self.line = line


def parse_xml_bytes(data: bytes, name: str) -> ET.Element:
    """Parse ``data`` into an Element; an ``InputError`` names the file and line of any problem."""
    builder = ET.TreeBuilder()
    parser = expat.ParserCreate()

    def refuse(what: str) -> None:
        raise _Refused(what, parser.CurrentLineNumber)

    def start_doctype(*_: object) -> None:
        refuse("a DOCTYPE declaration")

    def entity_decl(*_: object) -> None:
        refuse("an entity declaration")

    def external_ref(*_: object) -> int:
        refuse("an external entity")
        return 0

    parser.StartDoctypeDeclHandler = start_doctype
    parser.EntityDeclHandler = entity_decl
    parser.ExternalEntityRefHandler = external_ref
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartElementHandler = builder.start
    parser.EndElementHandler = lambda tag: builder.end(tag)
    parser.CharacterDataHandler = builder.data
    parser.buffer_text = True
    try:
        parser.Parse(data, True)
    except _Refused as err:
        raise InputError(
            f"{name}:{err.line}: refusing {err.what} in a test report",
            hint="JUnit reports never need a DTD; check what wrote this file",
        ) from None
    except expat.ExpatError as err:
        raise InputError(
            f"{name}:{err.lineno}: not well-formed XML: {expat.ErrorString(err.code)} (column {err.offset + 1})",
            hint="the test run was probably interrupted while writing it; re-run the test step",
        ) from err
    root = builder.close()
    if root is None:  # pragma: no cover - expat raises for an empty document first
        raise InputError(f"{name}: no XML element found")
    return root


def parse_xml_file(path: Path) -> ET.Element:
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read: {err.strerror or err}") from err
    return parse_xml_bytes(data, str(path))
