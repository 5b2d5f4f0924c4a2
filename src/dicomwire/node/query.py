"""C-FIND and retrieve lookups over the index (PS3.4 C.4.1, C.4.2, C.4.3).

A request is first *planned*: every key of the identifier is classified by
the level it belongs to in the information model and by where its value
comes from (an indexed column, an aggregate, or the stored file's header),
and the hierarchical rules are checked. Keys on indexed columns become SQL
conditions; keys on computed attributes or on header attributes are matched
in Python on the answer that is built anyway.

Hierarchical queries (PS3.4 C.4.1.2.1, C.4.2.2.1): a key of a level above
the query level must be that level's Unique Key with a single value, or be
universal (a return key); a key of a level below the query level must be
universal and comes back empty. Otherwise :class:`QueryError`. Relational
queries (C.4.1.2.2, C.4.2.2.2) lift the first rule. Deliberately lenient: a
missing Unique Key of a level above is not an error (the lower keys still
narrow the search).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydicom import config
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.tag import BaseTag

from .catalog import (
    COMPUTED,
    COMPUTED_BY_TAG,
    INDEXED,
    INDEXED_BY_TAG,
    INSTANCE_AVAILABILITY,
    LEVEL_ENTITY,
    MODELS,
    UNIQUE_KEYS,
    Attribute,
    entities_up_to,
    entity_level,
)
from .identifiers import (
    NOT_MATCHED,
    SPECIFIC_CHARACTER_SET,
    answer_element,
    element_text,
    element_vr,
    has_matching_keys,
    key_tags,
)
from .matching import Exact, Key, parse_key

Source = Literal["indexed", "computed", "header", "availability", "below"]


class QueryError(ValueError):
    """The identifier cannot be answered in this model (PS3.4 C.4.1.2: 0xA900 / 0xC000)."""


@dataclass(frozen=True)
class KeySpec:
    """One key of a request: where it sits in the model and where its value comes from."""

    tag: BaseTag
    vr: str
    level: str | None  # None: the model has no level for it (below the query level)
    source: Source
    key: Key
    attribute: Attribute | None = None
    computed: str | None = None


@dataclass(frozen=True)
class Plan:
    """A validated request: the level, the entities it joins, and its keys."""

    model: str
    level: str
    entities: tuple[str, ...]
    keys: tuple[KeySpec, ...]

    @property
    def entity(self) -> str:
        return LEVEL_ENTITY[self.level]


def query_level(identifier: Dataset, model: str) -> str:
    """The Query/Retrieve Level of ``identifier``, checked against ``model``."""
    if model not in MODELS:
        raise QueryError(f"unknown information model {model!r}")
    level = (element_text(identifier, BaseTag(0x00080052)) or "").strip(" ").upper()
    if level not in MODELS[model]:
        raise QueryError(
            f"Query/Retrieve Level {level or 'missing'!r} is not one of "
            f"{', '.join(MODELS[model])} in this model"
        )
    return level


def plan_find(identifier: Dataset, model: str, relational: bool) -> Plan:
    """Classify and check every key of a C-FIND identifier."""
    level = query_level(identifier, model)
    if level == "FRAME":
        raise QueryError("FRAME is a retrieve level only")
    specs = []
    for tag in key_tags(identifier):
        if tag in NOT_MATCHED:
            continue
        spec = _spec(identifier, tag, model, level)
        _check_hierarchy(spec, level, relational)
        specs.append(spec)
    return Plan(model, level, tuple(entities_up_to(model, level)), tuple(specs))


def _spec(identifier: Dataset, tag: BaseTag, model: str, level: str) -> KeySpec:
    attribute = INDEXED_BY_TAG.get(int(tag))
    vr = attribute.vr if attribute else element_vr(identifier, tag)
    key = (
        parse_key(vr, element_text(identifier, tag))
        if vr != "SQ"
        else _sequence_key(identifier, tag)
    )
    if attribute is not None:
        where = entity_level(model, attribute.entity)
        source: Source = "indexed" if _reachable(model, where, level) else "below"
        return KeySpec(tag, vr, where, source, key, attribute=attribute)
    computed = COMPUTED_BY_TAG.get(int(tag))
    if computed is not None:
        entity, vr = COMPUTED[computed]
        where = entity_level(model, entity)
        source = "computed" if _reachable(model, where, level) else "below"
        return KeySpec(tag, vr, where, source, key, computed=computed)
    if tag == INSTANCE_AVAILABILITY:
        return KeySpec(tag, vr, level, "availability", key)
    return KeySpec(tag, vr, level, "header", key)


def _reachable(model: str, where: str | None, level: str) -> bool:
    """Whether a key of level ``where`` has a value for a match at ``level``."""
    order = list(MODELS[model])
    return where is not None and order.index(where) <= order.index(level)


def _sequence_key(identifier: Dataset, tag: BaseTag) -> Key:
    """A sequence key is 'values' when it has item keys to match (C.2.2.2.6)."""
    items = identifier[tag].value or []
    return Key("values") if items and has_matching_keys(items[0]) else Key("universal")


def _check_hierarchy(spec: KeySpec, level: str, relational: bool) -> None:
    if spec.key.is_universal:
        return
    name = spec.attribute.keyword if spec.attribute else spec.computed or str(spec.tag)
    if spec.source == "below" or spec.level is None:
        raise QueryError(f"{name} is below the {level} level")
    if relational or spec.level == level:
        return
    if UNIQUE_KEYS[spec.level] != name:
        raise QueryError(f"{name} of the {spec.level} level needs relational queries")
    if not is_single_value(spec.key):
        raise QueryError(f"{name} must be a single value above the {level} level")


def is_single_value(key: Key) -> bool:
    """One value to match exactly: what a Unique Key above the level may hold."""
    return key.kind == "values" and len(key.terms) == 1 and isinstance(key.terms[0], Exact)


def is_uid_list(key: Key) -> bool:
    """Single values only (List of UID Matching, C.2.2.2.2)."""
    return key.kind == "values" and all(isinstance(t, Exact) for t in key.terms)


def uid_values(key: Key) -> list[str]:
    return [t.value for t in key.terms if isinstance(t, Exact)]


def unique_key_values(
    identifier: Dataset, model: str, level: str, relational: bool
) -> dict[str, list[str]]:
    """The Unique Keys a retrieve names, by keyword (PS3.4 C.4.2.2.1, C.4.3.2.1).

    The key of the retrieve level is required, as one value or a list of
    UIDs; keys above it are optional and, unless ``relational``, single
    values. Any other key of the identifier is ignored.
    """
    order = list(MODELS[model])
    out: dict[str, list[str]] = {}
    for name in order[: order.index(level) + 1]:
        keyword = UNIQUE_KEYS[name]
        attribute = INDEXED[keyword]
        key = parse_key(attribute.vr, element_text(identifier, BaseTag(attribute.tag)))
        if key.is_universal:
            if name == level:
                raise QueryError(f"a {level} retrieve needs {keyword}")
            continue
        if not is_uid_list(key) or (attribute.vr != "UI" and not is_single_value(key)):
            raise QueryError(f"{keyword} must be a single value or a list of UIDs")
        if name != level and not relational and not is_single_value(key):
            raise QueryError(f"{keyword} must be a single value above the {level} level")
        out[keyword] = uid_values(key)
    return out


def python_keys(identifier: Dataset, plan: Plan) -> Dataset:
    """The keys matched in Python on the answers (computed, header, availability).

    An answer holds the stored value of each of these keys (for a sequence,
    the matching items), so matching the answer is matching the entity.
    """
    keys = Dataset()
    for spec in plan.keys:
        if spec.source in ("computed", "header", "availability") and not spec.key.is_universal:
            keys[spec.tag] = identifier.get_item(spec.tag)  # undecoded: "" may not be an IS
    return keys


def needs_headers(plan: Plan) -> bool:
    return any(spec.source == "header" for spec in plan.keys)


def build_answer(
    identifier: Dataset, plan: Plan, values: dict[str, Any], header: Dataset | None
) -> Dataset:
    """One response identifier (PS3.4 C.4.1.1.3.2): the requested keys, the level,
    the Unique Keys of the level and above, Specific Character Set as requested."""
    out = Dataset()
    if SPECIFIC_CHARACTER_SET in identifier:
        out.add(identifier[SPECIFIC_CHARACTER_SET])
    out.add(DataElement(0x00080052, "CS", plan.level, validation_mode=config.IGNORE))
    for spec in plan.keys:
        out.add(_element(identifier, spec, values, header))
    for name in list(MODELS[plan.model])[: list(MODELS[plan.model]).index(plan.level) + 1]:
        attribute = INDEXED[UNIQUE_KEYS[name]]
        if attribute.tag not in out:
            out.add(indexed_element(attribute.tag, attribute.vr, values[attribute.column]))
    return out


_PLAIN_TEXT_VRS = frozenset(
    {"AE", "CS", "DA", "DT", "LO", "LT", "SH", "ST", "TM", "UC", "UI", "UT"}
)


def indexed_element(tag: int, vr: str, value: Any) -> DataElement:
    """An element from an indexed value; empty if the stored text is not valid for
    ``vr`` (an IS that is no integer), rather than failing the whole query."""
    # Indexed values were checked when they were stored: validating (and, for
    # plain text, converting) them again costs more than the rest of an answer.
    plain = isinstance(value, str) and vr in _PLAIN_TEXT_VRS and "\\" not in value
    try:
        return DataElement(tag, vr, value, already_converted=plain, validation_mode=config.IGNORE)
    except (ValueError, TypeError, OverflowError):
        return DataElement(tag, vr, None)


def _element(
    identifier: Dataset, spec: KeySpec, values: dict[str, Any], header: Dataset | None
) -> DataElement:
    if spec.source == "indexed" and spec.attribute is not None:
        return indexed_element(spec.tag, spec.vr, values[spec.attribute.column])
    if spec.source == "computed" and spec.computed is not None:
        return indexed_element(spec.tag, spec.vr, values.get(spec.computed))
    if spec.source == "availability":
        return DataElement(spec.tag, "CS", "ONLINE")
    if spec.source == "header" and header is not None:
        return answer_element(identifier, header, spec.tag)
    return DataElement(spec.tag, spec.vr, [] if spec.vr == "SQ" else None)
