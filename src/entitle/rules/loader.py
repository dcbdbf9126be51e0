"""Load a benefit file: YAML with positions → schema validation → checked `Benefit`.

Every mistake is reported as `file:line:column: message`; all mistakes of a file are collected,
not just the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from entitle.rules.catalogue import Catalogue, default_catalogue
from entitle.rules.expr import (
    Env,
    ExprError,
    Lit,
    Name,
    Node,
    ParamType,
    T,
    branch_ends,
    check,
    parse,
    walk,
)
from entitle.rules.model import (
    Benefit,
    BenefitFile,
    Condition,
    ConditionSpec,
    DatedValue,
    LevelSpec,
    Output,
    OutputSpec,
    Parameter,
    ParameterSpec,
    Period,
    Text,
)


@dataclass(frozen=True)
class Problem:
    """One mistake in a rule file."""

    path: str
    line: int  # 1-based
    column: int  # 1-based
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


class RuleFileError(ValueError):
    """A rule file that cannot be loaded; holds every problem found."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


Loc = tuple[str | int, ...]


class _Located:
    """Maps a path of keys in the YAML document to its line and column."""

    def __init__(self, path: str, root: Any, text: str) -> None:
        self.path = path
        self.root = root
        self.lines = text.splitlines()

    def position(self, loc: Loc, value: bool = True) -> tuple[int, int]:
        node = self.root
        line, col = 0, 0
        for i, key in enumerate(loc):
            last = i == len(loc) - 1
            if isinstance(node, CommentedMap) and key in node and key not in node.lc.data:
                break  # a key merged in with `<<:` has no position of its own
            if isinstance(node, CommentedMap) and key in node:
                line, col = node.lc.value(key) if (value or not last) else node.lc.key(key)
                node = node[key]
            elif isinstance(node, CommentedMap) and _date_key(node, key) is not None:
                real = _date_key(node, key)
                line, col = node.lc.key(real)
                node = node[real]
            elif isinstance(node, CommentedSeq) and isinstance(key, int) and key < len(node):
                line, col = node.lc.item(key)
                node = node[key]
            else:
                break
        return line + 1, col + 1

    def problem(self, loc: Loc, message: str, value: bool = True) -> Problem:
        line, col = self.position(loc, value)
        return Problem(self.path, line, col, message)

    def expr_problem(self, loc: Loc, source: str, error: ExprError) -> Problem:
        """Place an expression error on the character it points at in the file."""
        line, col = self.position(loc)  # 1-based start of the scalar (or its block indicator)
        scalar = self._scalar(loc)
        if isinstance(scalar, LiteralScalarString | FoldedScalarString):
            segments = self._block_segments(line)
            quote = ""
        else:
            quote = (
                '"'
                if isinstance(scalar, DoubleQuotedScalarString)
                else "'"
                if isinstance(scalar, SingleQuotedScalarString)
                else ""
            )
            segments = self._flow_segments(line, col + len(quote))
        line, col = _locate(segments, error.offset, quote)
        return Problem(self.path, line, col, error.message)

    def _block_segments(self, indicator_line: int) -> list[tuple[int, int, str]]:
        """(line, column, text) of each content line of a block scalar after its indicator."""
        segments: list[tuple[int, int, str]] = []
        indent = None
        for number in range(indicator_line + 1, len(self.lines) + 1):
            raw = self.lines[number - 1]
            stripped = raw.lstrip(" ")
            if not stripped:
                segments.append((number, 1, ""))
                continue
            width = len(raw) - len(stripped)
            if indent is None:
                indent = width
            if width < indent:
                break
            segments.append((number, indent + 1, raw[indent:]))
        return segments

    def _flow_segments(self, line: int, col: int) -> list[tuple[int, int, str]]:
        """(line, column, text) of a plain or quoted scalar's source lines."""
        first = self.lines[line - 1] if line - 1 < len(self.lines) else ""
        segments = [(line, col, first[col - 1 :])]
        for number in range(line + 1, len(self.lines) + 1):
            raw = self.lines[number - 1]
            stripped = raw.lstrip(" ")
            if not stripped or ":" in stripped.split(" ", 1)[0] or stripped.startswith("#"):
                break
            segments.append((number, len(raw) - len(stripped) + 1, stripped))
        return segments

    def _scalar(self, loc: Loc) -> Any:
        node = self.root
        for key in loc:
            try:
                node = node[key]
            except (KeyError, IndexError, TypeError):
                return None
        return node


def _locate(segments: list[tuple[int, int, str]], offset: int, quote: str) -> tuple[int, int]:
    """Map an offset in a scalar's parsed text to a line and column of its source.

    Source lines are joined by one character (a newline or a folded space); inside quotes an escape
    (`\\x` in double quotes, `''` in single quotes) is two source characters for one parsed one.
    """
    remaining = offset
    for number, start, text in segments:
        source_col = 0
        while source_col < len(text) and remaining > 0:
            pair = text[source_col : source_col + 2]
            step = (
                2 if (quote == '"' and pair[:1] == "\\") or (quote == "'" and pair == "''") else 1
            )
            source_col += step
            remaining -= 1
        if remaining == 0:
            return number, start + source_col
        remaining -= 1  # the line break
    last = segments[-1] if segments else (1, 1, "")
    return last[0], last[1] + len(last[2])


def _date_key(mapping: CommentedMap, key: object) -> object | None:
    if isinstance(key, str):
        for real in mapping:
            if isinstance(real, date) and real.isoformat() == key:
                return real
    return None


def _read_yaml(path: Path, text: str) -> Any:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.allow_duplicate_keys = False
    try:
        return yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = f"YAML syntax: {exc.problem or exc.context}"
        if "duplicate" in str(exc):
            message = f"duplicate key: {exc.problem}"
        raise RuleFileError([Problem(str(path), line, col, message)]) from None
    except ReaderError as exc:  # a character YAML does not allow (NUL, control characters)
        line, col = _line_col(text, exc.position)
        message = f"YAML syntax: character U+{exc.character:04X} is not allowed"
        raise RuleFileError([Problem(str(path), line, col, message)]) from None
    except Exception as exc:  # ruamel's constructors fail in many ways, all without a position:
        # 2024-02-30, an integer of 5,000 digits, `!!bool maybe`, `!!int ''` …
        line, col, value = _failed_node(exc)
        shown = f" {value[:40]!r}{'…' if len(value) > 40 else ''}" if value else ""
        reason = f": {exc}" if isinstance(exc, ValueError | YAMLError) and str(exc) else ""
        message = f"YAML value{shown} cannot be read{reason}"
        raise RuleFileError([Problem(str(path), line, col, message)]) from None


def _line_col(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of a character offset."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _failed_node(exc: BaseException) -> tuple[int, int, str]:
    """Line, column and text of the YAML node ruamel was constructing when it failed (its
    constructors take it as ``node``; ruamel reports these failures without a position)."""
    found = None
    trace = exc.__traceback__
    while trace is not None:
        node = trace.tb_frame.f_locals.get("node")
        if getattr(node, "start_mark", None) is not None:
            found = node
        trace = trace.tb_next
    if found is None:
        return 1, 1, ""
    value = found.value if isinstance(found.value, str) else ""
    return found.start_mark.line + 1, found.start_mark.column + 1, value


def _plain(data: Any) -> Any:
    """Turn ruamel's round-trip containers into plain Python values."""
    if isinstance(data, dict):
        return {(k if isinstance(k, date | int) else str(k)): _plain(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain(v) for v in data]
    if isinstance(data, str):
        return str(data)
    return data


def load_benefit(path: Path, catalogue: Catalogue | None = None) -> Benefit:
    """Load and check one benefit file; raise `RuleFileError` listing every mistake."""
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, line_start = raw.count(b"\n", 0, exc.start) + 1, raw.rfind(b"\n", 0, exc.start) + 1
        col = len(raw[line_start : exc.start].decode("utf-8", "replace")) + 1
        message = f"not UTF-8 text: byte 0x{raw[exc.start]:02x} cannot be read"
        raise RuleFileError([Problem(str(path), line, col, message)]) from None
    root = _read_yaml(path, text)
    where = _Located(str(path), root, text)
    if not isinstance(root, CommentedMap):
        raise RuleFileError([Problem(str(path), 1, 1, "a benefit file must be a mapping")])
    try:
        spec = BenefitFile.model_validate(_plain(root))
    except ValidationError as exc:
        errors = exc.errors()
        relevant = [err for err in errors if not _other_branch(err)] or errors
        problems = list(dict.fromkeys(_schema_problem(where, err) for err in relevant))
        raise RuleFileError(problems) from None
    return _Builder(spec, where, catalogue or default_catalogue()).build()


def _other_branch(err: Any) -> bool:
    """An error of the union alternative the author clearly did not mean (text vs mapping)."""
    structured = isinstance(err.get("input"), dict | list)
    if err["type"] in ("string_type", "literal_error"):
        return structured
    if err["type"] in ("model_type", "dict_type", "model_attributes_type"):
        return isinstance(err.get("input"), str)
    return False


def _schema_problem(where: _Located, err: Any) -> Problem:
    loc = tuple(err["loc"])
    # Pydantic reports union alternatives as extra loc parts (e.g. 'ConditionSpec', 'str').
    # The first part is always a top-level field as written (it may start with a capital).
    clean = loc[:1] + tuple(
        p for p in loc[1:] if not (isinstance(p, str) and (p[:1].isupper() or p in _UNION_TAGS))
    )
    kind = err["type"]
    field = ".".join(str(p) for p in clean) or "file"
    if kind == "missing":
        return where.problem(clean[:-1], f"missing required field '{clean[-1]}'")
    if kind == "extra_forbidden":
        return where.problem(clean, f"unknown field '{clean[-1]}'", value=False)
    return where.problem(clean, f"{field}: {err['msg']}")


_UNION_TAGS = {"str", "list[Period]", "dict[date,any]", "literal['calendar-year','school-year']"}


class _Builder:
    def __init__(self, spec: BenefitFile, where: _Located, catalogue: Catalogue) -> None:
        self.spec = spec
        self.where = where
        self.catalogue = catalogue
        self.problems: list[Problem] = []
        self.broken: dict[str, ParamType] = {}  # parameters that failed: typed loosely, no cascades
        self.cyclic: set[str] = set()  # conditions in a cycle: reported once

    def build(self) -> Benefit:
        spec = self.spec
        parameters = {
            name: p for name, raw in spec.parameters.items() if (p := self.parameter(name, raw))
        }
        env = Env(
            subject=spec.subject,
            facts={name: fact.type for name, fact in self.catalogue.items()},
            params={p.name: ParamType(p.kind, p.type, p.key) for p in parameters.values()}
            | self.broken,
        )
        conditions = self.conditions(env)
        eligible = self.expression(("eligible",), spec.eligible, env, {T.BOOL})
        outputs = self.outputs(env)
        roots = [o.node for o in outputs.values()] + ([eligible] if eligible else [])
        if not self.problems:  # unused names are only meaningful in an otherwise sound file
            self.unused_conditions(conditions, roots)
            self.unused_parameters(parameters, [c.node for c in conditions.values()] + roots)
        if self.problems:
            raise RuleFileError(self.problems)
        assert eligible is not None
        guidance = {
            outcome: text
            for outcome, text in spec.guidance.model_dump().items()
            if text is not None
        }
        legal = spec.legal_basis
        return Benefit(
            id=spec.id,
            version=spec.version,
            title=spec.title.model_dump(),
            description=spec.description.model_dump() if spec.description else {},
            authority=spec.authority,
            legal_basis={"text": _text(legal.text), "url": legal.url},
            purpose=spec.purpose,
            subject=spec.subject,
            validity=spec.validity
            if isinstance(spec.validity, str)
            else spec.validity.model_dump(),
            parameters=parameters,
            conditions=conditions,
            eligible_source=spec.eligible,
            eligible=eligible,
            outputs=outputs,
            guidance=guidance,
            path=self.where.path,
        )

    # ----------------------------------------------------------------- parameters

    def parameter(self, name: str, raw: ParameterSpec) -> Parameter | None:
        loc: Loc = ("parameters", name)
        kind = raw.type if raw.type in ("table", "bands") else "scalar"
        if kind != "scalar":
            self.broken[name] = ParamType(kind, T(raw.value) if raw.value else T.ANY, T.ANY)
        if kind == "scalar":
            vtype = T(raw.type)
        elif raw.value is None:
            self.problems.append(
                self.where.problem(loc, f"parameter '{name}': a {kind} needs 'value: <type>'")
            )
            return None
        else:
            vtype = T(raw.value)
        key = None
        if kind == "table":
            if raw.key is None:
                self.problems.append(
                    self.where.problem(loc, f"parameter '{name}': a table needs 'key: int|text'")
                )
                return None
            key = T(raw.key)
        self.broken.pop(name, None)
        periods = self.periods(loc, raw.values)
        values = []
        for start, end, value, vloc in periods:
            converted = self.convert(name, kind, vtype, key, value, vloc)
            if converted is not None:
                values.append(DatedValue(start, end, converted))
        description = raw.description
        return Parameter(
            name=name,
            kind=kind,
            type=vtype,
            key=key,
            unit=raw.unit,
            description=_text_dict(description),
            values=tuple(values),
        )

    def periods(
        self, loc: Loc, values: dict[date, Any] | list[Period]
    ) -> list[tuple[date, date | None, Any, Loc]]:
        if isinstance(values, dict):
            starts = sorted(values)
            # the map form: each value holds until the next start
            out: list[tuple[date, date | None, Any, Loc]] = [
                (start, None, values[start], (*loc, "values", start.isoformat()))
                for start in starts
            ]
            if not out:
                self.problems.append(
                    self.where.problem(loc, "a parameter needs at least one value")
                )
            return out
        out2: list[tuple[date, date | None, Any, Loc]] = []
        ordered = sorted(enumerate(values), key=lambda iv: iv[1].from_)
        for (i, period), nxt in zip(ordered, [*ordered[1:], None], strict=True):
            ploc: Loc = (*loc, "values", i)
            if period.until is not None and period.until < period.from_:
                self.problems.append(
                    self.where.problem(
                        ploc, f"period ends ({period.until}) before it starts ({period.from_})"
                    )
                )
            if nxt is not None:
                j, following = nxt
                if period.until is None or period.until >= following.from_:
                    self.problems.append(
                        self.where.problem(
                            (*loc, "values", j),
                            f"overlapping dates: the period from {following.from_} starts "
                            f"before the period from {period.from_} ends "
                            f"({period.until or 'open-ended'})",
                        )
                    )
            out2.append((period.from_, period.until, period.value, (*ploc, "value")))
        if not out2:
            self.problems.append(self.where.problem(loc, "a parameter needs at least one value"))
        return out2

    def convert(self, name: str, kind: str, vtype: T, key: T | None, value: Any, loc: Loc) -> Any:
        try:
            if kind == "scalar":
                return _scalar(vtype, value)
            if kind == "table":
                if not isinstance(value, dict) or not value:
                    raise ValueError("a table value is a non-empty mapping of key: value")
                assert key is not None
                return {_scalar(key, k): _scalar(vtype, v) for k, v in value.items()}
            return _bands(vtype, value)
        except ValueError as exc:
            self.problems.append(self.where.problem(loc, f"parameter '{name}': {exc}"))
            return None

    # ----------------------------------------------------------------- expressions

    def conditions(self, env: Env) -> dict[str, Condition]:
        raw = self.spec.conditions
        order = self.condition_order()
        env.pending_conditions = frozenset(raw)
        out: dict[str, Condition] = {}
        for name in order:
            spec = raw[name]
            source, text, loc = (
                (spec.when, spec.text.model_dump(), ("conditions", name, "when"))
                if isinstance(spec, ConditionSpec)
                else (spec, {"nl": name, "en": name}, ("conditions", name))
            )
            env.pending_conditions = frozenset(raw) - set(out) - {name} - self.cyclic
            node = None if name in self.cyclic else self.expression(loc, source, env, {T.BOOL})
            guidance: dict[str, dict[str, str]] = {}
            if isinstance(spec, ConditionSpec) and spec.guidance is not None:
                guidance = {
                    mark: value.model_dump()
                    for mark, value in (
                        ("no", spec.guidance.no),
                        ("unknown", spec.guidance.unknown),
                    )
                    if value is not None
                }
            if node is not None:
                out[name] = Condition(name, source, node, text, guidance)
            env.conditions[name] = T.BOOL  # even when broken, so its users do not cascade
        env.pending_conditions = frozenset()
        return out

    def condition_order(self) -> list[str]:
        """Conditions sorted so that each comes after the ones it uses; cycles are reported."""
        raw = self.spec.conditions
        uses: dict[str, set[str]] = {}
        for name, spec in raw.items():
            source = spec.when if isinstance(spec, ConditionSpec) else spec
            try:
                tree = parse(source)
            except ExprError:
                uses[name] = set()
                continue
            uses[name] = {
                n.parts[0]
                for n in walk(tree)
                if isinstance(n, Name) and len(n.parts) == 1 and n.parts[0] in raw
            }
        order: list[str] = []
        state: dict[str, int] = {}

        def visit(name: str, trail: list[str]) -> None:
            if state.get(name) == 2:
                return
            if state.get(name) == 1:
                members = trail[trail.index(name) :]
                self.cyclic.update(members)
                cycle = " → ".join([*members, name])
                self.problems.append(
                    self.where.problem(("conditions", name), f"conditions form a cycle: {cycle}")
                )
                return
            state[name] = 1
            for used in sorted(uses[name]):
                visit(used, [*trail, name])
            state[name] = 2
            order.append(name)

        for name in raw:
            visit(name, [])
        return order

    def outputs(self, env: Env) -> dict[str, Output]:
        out: dict[str, Output] = {}
        for name, spec in self.spec.outputs.items():
            loc: Loc
            if isinstance(spec, OutputSpec):
                source, declared, text = spec.value, spec.type, _text_dict(spec.text)
                loc = ("outputs", name, "value")
            else:
                source, declared, text = spec, None, {"nl": name, "en": name}
                loc = ("outputs", name)
            allowed = {T(declared)} if declared else set(T) - {T.ANY}
            if declared in ("number", "money"):
                allowed |= {T.INT}
            node = self.expression(loc, source, env, allowed)
            if node is None:
                continue
            levels: tuple[Any, ...] = ()
            words: dict[Any, dict[str, str]] = {}
            if isinstance(spec, OutputSpec) and spec.levels is not None:
                values = [lv.value if isinstance(lv, LevelSpec) else lv for lv in spec.levels]
                levels = self.levels(("outputs", name, "levels"), node, values)
                words = {
                    lv.value: _text_dict(lv.text) for lv in spec.levels if isinstance(lv, LevelSpec)
                }
            out[name] = Output(
                name, source, node, T(declared) if declared else node.type, text, levels, words
            )
        return out

    def levels(self, loc: Loc, node: Node, levels: list[Any]) -> tuple[Any, ...]:
        """An output's ordered levels: every branch must end in a listed literal."""
        if node.type not in (T.TEXT, T.INT):
            self.problems.append(self.where.problem(loc, "levels need a text or int output"))
            return ()
        if len(set(levels)) != len(levels) or not levels:
            self.problems.append(self.where.problem(loc, "levels must be distinct, at least one"))
            return ()
        for leaf in branch_ends(node):
            if not isinstance(leaf, Lit) or leaf.value not in levels:
                shown = repr(leaf.value) if isinstance(leaf, Lit) else "a computed value"
                self.problems.append(
                    self.where.problem(
                        loc,
                        f"every branch of the output must end in one of the levels; {shown} "
                        "is not one of them",
                    )
                )
                return ()
        return tuple(levels)

    def expression(self, loc: Loc, source: str, env: Env, allowed: set[T]) -> Node | None:
        try:
            node = check(parse(source), env)
        except ExprError as exc:
            self.problems.append(self.where.expr_problem(loc, source, exc))
            return None
        if node.type != T.ANY and node.type not in allowed:
            wanted = " or ".join(sorted(allowed))
            self.problems.append(
                self.where.expr_problem(
                    loc, source, ExprError(f"type mismatch: expected {wanted}, got {node.type}", 0)
                )
            )
            return None
        return node

    def unused_conditions(self, conditions: dict[str, Condition], roots: list[Node]) -> None:
        """Every condition must count: used by `eligible`, an output or a used condition."""
        used: set[str] = set()
        stack = list(roots)
        while stack:
            for n in walk(stack.pop()):
                if isinstance(n, Name) and n.kind == "cond" and n.target not in used:
                    used.add(n.target)
                    stack.append(conditions[n.target].node)
        for name in conditions:
            if name not in used:
                self.problems.append(
                    self.where.problem(
                        ("conditions", name), f"condition '{name}' is never used", value=False
                    )
                )

    def unused_parameters(self, parameters: dict[str, Parameter], roots: list[Node]) -> None:
        used = {
            n.target
            for root in roots
            for n in walk(root)
            if isinstance(n, Name) and n.kind == "param"
        }
        for name in parameters:
            if name not in used:
                self.problems.append(
                    self.where.problem(
                        ("parameters", name), f"parameter '{name}' is never used", value=False
                    )
                )


def _text(value: Text | str) -> dict[str, str]:
    return value.model_dump() if isinstance(value, Text) else {"nl": value, "en": value}


def _text_dict(value: Text | str | None) -> dict[str, str]:
    return {} if value is None else _text(value)


def _scalar(vtype: T, value: Any) -> Any:
    if value is None:
        raise ValueError(f"a {vtype} value is missing")
    if vtype == T.BOOL:
        if not isinstance(value, bool):
            raise ValueError(f"expected true/false, got {value!r}")
        return value
    if vtype in (T.INT, T.NUMBER, T.MONEY):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"expected a number, got {value!r}")
        if vtype == T.INT:
            if isinstance(value, float) and not value.is_integer():
                raise ValueError(f"expected a whole number, got {value!r}")
            return int(value)
        if vtype == T.MONEY:
            return round(value * 100)
        return float(value)
    if vtype == T.DATE:
        if not isinstance(value, date):
            raise ValueError(f"expected a date YYYY-MM-DD, got {value!r}")
        return value
    if isinstance(value, bool | dict | list):
        raise ValueError(f"expected text, got {value!r}")
    return str(value)


def _bands(vtype: T, value: Any) -> tuple[tuple[float | None, Any], ...]:
    if not isinstance(value, list) or not value:
        raise ValueError("bands are a list of {below: X, value: V}, the last one without 'below'")
    bands: list[tuple[float | None, Any]] = []
    previous = None
    for i, band in enumerate(value):
        if not isinstance(band, dict) or "value" not in band or set(band) - {"below", "value"}:
            raise ValueError(f"band {i + 1}: write {{below: X, value: V}}")
        below = band.get("below")
        last = i == len(value) - 1
        if below is None and not last:
            raise ValueError(f"band {i + 1}: only the last band may omit 'below'")
        if below is not None:
            if isinstance(below, bool) or not isinstance(below, int | float):
                raise ValueError(f"band {i + 1}: 'below' must be a number")
            if previous is not None and below <= previous:
                raise ValueError(f"band {i + 1}: 'below' must increase ({below} after {previous})")
            previous = below
        bands.append((float(below) if below is not None else None, _scalar(vtype, band["value"])))
    return tuple(bands)
