"""Safe YAML loading that remembers where every value came from.

Documents are loaded with PyYAML's ``SafeLoader`` (nothing is ever executed), so
``Document.data`` is exactly what ``yaml.safe_load`` would return.  Alongside the
data we keep the 1-based line of every key and list item, so that problems found
later (at a key path such as ``("spec", "template", "spec", "containers", 0)``)
can be reported as ``file:line``.
"""

from __future__ import annotations

import os
from collections.abc import Hashable
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping, Sequence

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from statefulsim.errors import Problem, ScenarioError
from statefulsim.io.files import MAX_YAML_BYTES, InputFileError, check_path, decode_utf8, read_input

Path = tuple[str | int, ...]

_MERGE_TAG = "tag:yaml.org,2002:merge"
_VALUE_TAG = "tag:yaml.org,2002:value"

# Aliases can make the number of key paths grow exponentially ("billion laughs").
# Past this many recorded positions, a node reached a second time through an alias
# is not expanded again; ``line_for`` then falls back to the alias's own line.
_MAX_POSITIONS = 100_000

#: At most this many values may be added by expanding aliases (each use of an alias adds the
#: values of its anchor again): a "billion laughs" document is refused before anything reads it.
MAX_ALIAS_VALUES = 100_000
#: The deepest nesting of mappings and lists accepted (Kubernetes objects are about 15 deep).
MAX_DEPTH = 100
#: Python refuses to convert longer integer literals (``sys.get_int_max_str_digits()``).
MAX_INT_DIGITS = 4300


@dataclass(frozen=True)
class Document:
    """One YAML document: its data, the line of every key path, its file and stream index."""

    data: Any
    positions: Mapping[tuple[str | int, ...], int]
    file: str
    index: int


class _Loader(yaml.SafeLoader):
    """``SafeLoader`` that also records where each alias used as a list item was written.

    The composer hands back the anchored node itself for an alias, so without this the
    line of ``- *name`` would be the line of the anchor.  Construction is untouched.
    """

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.alias_lines: dict[tuple[int, int], int] = {}

    def compose_node(self, parent: Node | None, index: int) -> Node | None:
        if isinstance(parent, SequenceNode) and self.check_event(yaml.AliasEvent):
            mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
            node = super().compose_node(parent, index)
            if mark is not None:
                self.alias_lines[(id(parent), index)] = mark.line + 1
            return node
        return super().compose_node(parent, index)


def _bounded_int(loader: yaml.SafeLoader, node: ScalarNode) -> int:
    """An integer, refusing literals too long for Python to convert (with the node's line)."""
    if sum(c.isalnum() for c in str(node.value)) > MAX_INT_DIGITS:
        raise yaml.constructor.ConstructorError(
            None, None, f"an integer of more than {MAX_INT_DIGITS} digits cannot be read", node.start_mark)
    value: int = yaml.constructor.SafeConstructor.construct_yaml_int(loader, node)
    return value


#: libyaml's parser when available (same results, much faster); used where no lines are kept.
_FAST_LOADER: Any = type("_FastLoader", (getattr(yaml, "CSafeLoader", yaml.SafeLoader),), {})
for _loader in (_Loader, _FAST_LOADER):
    _loader.add_constructor("tag:yaml.org,2002:int", _bounded_int)


def safe_load(text: str, file: str = "<yaml>") -> Any:
    """``yaml.safe_load(text)`` with the same bounds as :func:`load_documents` (alias expansion,
    nesting, integer length); raises ScenarioError naming ``file``."""
    loader = _FAST_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        problem = _expansion_problem(node, {}, file)
        if problem is not None:
            raise ScenarioError([problem])
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        raise ScenarioError([_yaml_problem(exc, text, file)]) from None
    except (RecursionError, ValueError) as exc:
        reason = "the document is nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ScenarioError([Problem((), reason, file=file)]) from None
    finally:
        loader.dispose()


def load_documents(text: str, file: str) -> list[Document]:
    """Load every non-empty document of a YAML stream; raise ScenarioError if it is malformed."""
    documents: list[Document] = []
    duplicates: list[Problem] = []
    loader: _Loader | None = None
    try:
        loader = _Loader(text)
        index = 0
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node() guarantees a document
                break
            problem = _expansion_problem(node, loader.alias_lines, file)
            if problem is not None:
                raise ScenarioError([problem])
            duplicates.extend(_duplicate_keys(loader, node, file))
            data = loader.construct_document(node)
            if data is not None:
                positions: dict[Path, int] = {(): _line(node)}
                _walk(loader, node, (), positions, set(), set())
                documents.append(Document(data, positions, file, index))
            index += 1
    except yaml.YAMLError as exc:
        raise ScenarioError([_yaml_problem(exc, text, file)]) from None
    except RecursionError:
        line = loader.get_mark().line + 1 if loader is not None else None
        raise ScenarioError([Problem((), "the document is nested too deeply", file=file, line=line)]) from None
    finally:
        if loader is not None:
            loader.dispose()
    if duplicates:
        raise ScenarioError(duplicates)
    return documents


def load_file(path: str | os.PathLike[str]) -> list[Document]:
    """Read a UTF-8 YAML file and load its documents (see :func:`load_documents`).

    The file must be a regular file of at most ``MAX_YAML_BYTES`` (statefulsim.io.files)."""
    try:
        name = check_path(path)
        text = decode_utf8(read_input(name, MAX_YAML_BYTES), name)
    except InputFileError as exc:
        raise ScenarioError([Problem((), exc.reason, file=exc.path or None, line=exc.line)]) from None
    return load_documents(text, name)


def line_for(doc: Document, path: Sequence[str | int]) -> int | None:
    """The line of the longest prefix of ``path`` that has a position in ``doc``.

    A string path item also matches a non-string key with the same ``str()``
    (problem paths often hold ``"1"`` for the YAML key ``1``).
    """
    positions = doc.positions
    resolved: Path = ()
    for item in path:
        candidate = resolved + (item,)
        if candidate in positions:
            resolved = candidate
            continue
        match = _stringified_match(positions, resolved, item) if isinstance(item, str) else None
        if match is None:
            break
        resolved = match
    return positions.get(resolved)


def locate(problems: Iterable[Problem], doc: Document, prefix: tuple[str | int, ...] = ()) -> list[Problem]:
    """Attach ``doc``'s file and lines to problems whose path starts with ``prefix``.

    The part of a problem's path after ``prefix`` is looked up in ``doc``.  Problems
    that already have a line, or already name a different file, were located before
    and are returned unchanged.  Other problems only get ``doc.file`` if they have no file.
    """
    out: list[Problem] = []
    n = len(prefix)
    for problem in problems:
        already_located = problem.line is not None or problem.file not in (None, doc.file)
        if already_located:
            out.append(problem)
        elif tuple(problem.path[:n]) == tuple(prefix):
            out.append(replace(problem, file=doc.file, line=line_for(doc, problem.path[n:])))
        elif problem.file is None:
            out.append(replace(problem, file=doc.file))
        else:
            out.append(problem)
    return out


# ---------------------------------------------------------------- internals


def _line(node: Node) -> int:
    """1-based start line of a node."""
    mark = node.start_mark
    return mark.line + 1 if mark is not None else 1


def _key(loader: _Loader, key_node: Node) -> Any:
    """The constructed value of a mapping key node, as safe_load builds it."""
    if isinstance(key_node, ScalarNode) and key_node.tag == _VALUE_TAG:
        return key_node.value  # the "=" key, which SafeConstructor turns into a str
    return loader.construct_document(key_node)


def _hashable(value: Any) -> bool:
    """Whether a constructed key can be a dict key (safe_load rejects it otherwise)."""
    return isinstance(value, Hashable)


def _walk(
    loader: _Loader,
    node: Node,
    path: Path,
    positions: dict[Path, int],
    on_path: set[int],
    expanded: set[int],
) -> None:
    """Record the line of every key path below ``node`` (after merge keys were flattened)."""
    ident = id(node)
    if ident in on_path or (ident in expanded and len(positions) >= _MAX_POSITIONS):
        return  # an alias cycle, or an alias bomb past the budget
    expanded.add(ident)
    on_path.add(ident)
    try:
        if isinstance(node, MappingNode):
            # Later pairs win, exactly as in the constructed dict (merged pairs come first).
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                    continue
                key = _key(loader, key_node)
                if not _hashable(key):
                    continue
                child: Path = path + (key,)
                positions[child] = _line(key_node)
                _walk(loader, value_node, child, positions, on_path, expanded)
        elif isinstance(node, SequenceNode):
            for i, item in enumerate(node.value):
                child = path + (i,)
                positions[child] = loader.alias_lines.get((ident, i), _line(item))
                _walk(loader, item, child, positions, on_path, expanded)
    finally:
        on_path.discard(ident)


def _children(node: Node, alias_lines: Mapping[tuple[int, int], int]) -> list[tuple[Node, int]]:
    """The child nodes of a mapping (keys and values) or a list, each with the line it is written on."""
    if isinstance(node, MappingNode):
        out: list[tuple[Node, int]] = []
        for key_node, value_node in node.value:
            out.append((key_node, _line(key_node)))
            if key_node.tag != _MERGE_TAG or value_node is not node:  # "<<: *self" merges nothing
                out.append((value_node, _line(key_node)))
        return out
    if isinstance(node, SequenceNode):
        return [(item, alias_lines.get((id(node), i), _line(item))) for i, item in enumerate(node.value)]
    return []


def _expansion_problem(root: Node, alias_lines: Mapping[tuple[int, int], int], file: str) -> Problem | None:
    """A problem when aliases add more than MAX_ALIAS_VALUES values, refer to themselves, or the
    document nests deeper than MAX_DEPTH; None otherwise.  Linear in the number of nodes."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    first_use: dict[int, tuple[int, int]] = {id(root): (0, 0)}
    active: set[int] = set()
    added = 0
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        ident = id(node)
        children = _children(node, alias_lines)
        if not leaving:
            active.add(ident)
            stack.append((node, True))
            for i, (child, line) in reversed(list(enumerate(children))):
                cid = id(child)
                if cid in active:
                    return Problem((), "an alias refers to a value that contains it (a recursive alias)",
                                   file=file, line=line)
                if cid not in first_use:
                    first_use[cid] = (ident, i)
                    stack.append((child, False))
            continue
        active.discard(ident)
        total, deepest = 1, 0
        for i, (child, line) in enumerate(children):
            cid = id(child)
            total += size.get(cid, 1)
            deepest = max(deepest, depth.get(cid, 1))
            if first_use[cid] != (ident, i):  # a use of an alias: its anchor's values again
                added += size.get(cid, 1)
                if added > MAX_ALIAS_VALUES:
                    return Problem((), f"aliases expand the document by more than {MAX_ALIAS_VALUES} values "
                                       "(an alias bomb?); write the values out instead", file=file, line=line)
        size[ident], depth[ident] = total, deepest + 1
        if deepest + 1 > MAX_DEPTH:
            return Problem((), f"the document is nested more than {MAX_DEPTH} levels deep", file=file,
                           line=_line(node))
    return None


def _duplicate_keys(loader: _Loader, root: Node, file: str) -> list[Problem]:
    """Problems for keys written twice in one mapping (checked before merge keys are flattened)."""
    problems: list[Problem] = []
    seen_nodes: set[int] = set()
    stack: list[tuple[Node, Path]] = [(root, ())]
    while stack:
        node, path = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, SequenceNode):
            stack.extend((item, path + (i,)) for i, item in reversed(list(enumerate(node.value))))
        elif isinstance(node, MappingNode):
            first_lines: dict[Any, int] = {}
            children: list[tuple[Node, Path]] = []
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    # Merged mappings contribute keys at this same path.
                    merged = value_node.value if isinstance(value_node, SequenceNode) else [value_node]
                    children.extend((m, path) for m in merged)
                    continue
                if not isinstance(key_node, ScalarNode):
                    continue  # safe_load rejects such keys itself (unhashable)
                key = _key(loader, key_node)
                if not _hashable(key):
                    continue
                line = _line(key_node)
                # Problem paths hold str keys (as statefulsim.problems does), for display.
                child = path + (key if isinstance(key, str) else str(key),)
                if key in first_lines:
                    # Note 1 == 1.0 == true as dict keys: safe_load would silently keep one.
                    message = f"duplicate key (first defined on line {first_lines[key]})"
                    problems.append(Problem(child, message, file=file, line=line))
                else:
                    first_lines[key] = line
                children.append((value_node, child))
            stack.extend(reversed(children))
    problems.sort(key=lambda p: p.line or 0)
    return problems


def _stringified_match(positions: Mapping[Path, int], parent: Path, item: str) -> Path | None:
    """A recorded child path of ``parent`` whose last key is not a str but prints as ``item``."""
    depth = len(parent) + 1
    for candidate in positions:
        if len(candidate) == depth and candidate[:-1] == parent:
            last = candidate[-1]
            if not isinstance(last, str) and str(last) == item:
                return candidate
    return None


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _yaml_problem(exc: yaml.YAMLError, text: str, file: str) -> Problem:
    """One located Problem describing a PyYAML error, without PyYAML's multi-line layout."""
    if isinstance(exc, yaml.reader.ReaderError):
        position: int = exc.position if isinstance(exc.position, int) else 0
        line = text.count("\n", 0, max(position, 0)) + 1
        character = exc.character
        shown = f"#x{character:04x}" if isinstance(character, int) else repr(character)
        return Problem((), _one_line(f"unacceptable character {shown}: {exc.reason}"), file=file, line=line)
    if isinstance(exc, yaml.MarkedYAMLError):
        problem_mark = exc.problem_mark
        context_mark = exc.context_mark
        mark = problem_mark if problem_mark is not None else context_mark
        message = exc.problem or ""
        if exc.context:
            context = exc.context
            if context_mark is not None and problem_mark is not None and context_mark.line != problem_mark.line:
                context += f" starting on line {context_mark.line + 1}"
            message = f"{message} ({context})" if message else context
        if exc.note:
            message += f"; {exc.note}"
        return Problem((), _one_line(message) or "invalid YAML", file=file, line=mark.line + 1 if mark is not None else None)
    return Problem((), _one_line(str(exc)) or "invalid YAML", file=file)
