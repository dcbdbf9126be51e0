"""Small lxml helpers shared by the request builder and the reply parser.

MAGDA qualifies only the operation element (``web:GeefPersoon``, ``...Response``); everything
below it is unqualified. The readers below match local names, so stray namespace declarations in a
reply (some mock messages have them) change nothing.
"""

from __future__ import annotations

from typing import Any

from lxml import etree  # type: ignore[import-untyped,unused-ignore]

# lxml ships no type information here; elements are typed loosely on purpose.
Element = Any

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
SOAP12_ENV = "http://www.w3.org/2003/05/soap-envelope"
ENVELOPE_NAMESPACES = (SOAP_ENV, SOAP12_ENV)

# No entities, no DTD, no network: replies come from outside.
PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, remove_comments=True
)


def local(element: Element) -> str:
    """The local name of an element ('' for comments and processing instructions)."""
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]  # Clark notation: "{namespace}local"


def namespace(element: Element) -> str | None:
    tag = element.tag
    if not isinstance(tag, str):
        return None
    ns = etree.QName(tag).namespace
    return None if ns is None else str(ns)


def elements(parent: Element | None) -> list[Element]:
    """The child elements (no comments or processing instructions)."""
    if parent is None:
        return []
    return [node for node in parent if isinstance(node.tag, str)]


def children(parent: Element | None, name: str) -> list[Element]:
    """Child elements with this local name."""
    if parent is None:
        return []
    return list(parent.iterchildren("{*}" + name))  # any namespace or none, in C


def child(parent: Element | None, *path: str) -> Element | None:
    """The first element along a path of local names, or None."""
    node = parent
    for name in path:
        if node is None:
            return None
        node = node.find("{*}" + name)
    return node


def text(parent: Element | None, *path: str) -> str | None:
    """The stripped text along a path of local names; None when absent or empty."""
    node = child(parent, *path) if path else parent
    if node is None or node.text is None:
        return None
    value = str(node.text).strip()
    return value or None


def attr(element: Element | None, name: str) -> str | None:
    if element is None:
        return None
    value = element.get(name)
    return None if value is None else str(value)


def sub(parent: Element, tag: str, value: object = None, **attributes: str) -> Element:
    """Append an unqualified child element, with ``str(value)`` as text when given."""
    element = etree.SubElement(parent, tag, attributes)
    if value is not None:
        element.text = str(value)
    return element


def new_root(tag: str, nsmap: dict[str | None, str]) -> Element:
    return etree.Element(tag, nsmap=nsmap)


def serialize(element: Element) -> bytes:
    return bytes(etree.tostring(element, xml_declaration=True, encoding="UTF-8"))


def parse_bytes(data: bytes) -> Element:
    """Parse a document; lxml's `XMLSyntaxError` propagates."""
    return etree.fromstring(data, PARSER)


XMLSyntaxError = etree.XMLSyntaxError
