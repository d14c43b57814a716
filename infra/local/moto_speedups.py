"""Takes work out of moto that gives the same answer every time, so the local stack keeps up.

Measured with py-spy on the e2e benchmark's moto process (100 messages/s): moto spent about a fifth
of its time in its generic, shape-walking response serializer, and a little in finding the
backend for each request by listing its own package directory. Neither is Charla's work.

- A DynamoDB item operation's result is already the wire form (attribute-value maps of strings,
  lists and numbers), so it is written with `json.dumps`. Anything else, and every error, still
  goes through moto's serializer.
- A request id is 52 characters from one random number, not 52 draws of `random.choice` (4 % of a
  call).
- The backend for a host is looked up once, and so is the list of a handler class's methods (moto
  listed them with `inspect.getmembers` on every request: about 6 % of a call).
- Expressions are parsed once per distinct text. The app sends the same few dozen update and
  condition expressions with different values, and moto parsed each afresh, an update expression
  twice a call (once to check the names used, once to apply it): about a fifth of an UpdateItem.
  Only the value-free steps are remembered: an update expression's syntax tree (moto's validator
  works on a copy of it) and a condition expression's tokens. Names and values are applied afresh
  on every call, so an error is raised exactly as before.
- The validator's copy of that tree is made by walking it instead of by `copy.deepcopy`, which
  goes through the pickle protocol for every node; and each of its ten passes over the tree decides
  once per node type what to do with it, where moto rebuilt its table of handlers and ran an
  abstract-class `isinstance` at every node (a third of an UpdateItem).
"""

from __future__ import annotations

import base64
import collections
import copy
import functools
import json
import weakref
from typing import Any

from moto import backends
from moto.core import responses as core_responses
from moto.core.responses import ActionResult
from moto.dynamodb.comparisons import ConditionExpressionParser
from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser, Node  # type: ignore[attr-defined]
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.responses import DynamoHandler
from moto.moto_api._internal import mock_random
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from infra.local import require_patched_moto

ITEM_OPERATIONS = frozenset(
    {
        "GetItem",
        "PutItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
)
CONTENT_TYPE = "application/x-amz-json-1.0"
PARSED_LIMIT = 2048  # distinct expression texts remembered; past it the memory starts again


def _wire(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _wire(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_wire(item) for item in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def _fast_serialized(original: Any) -> Any:
    @functools.wraps(original)
    def serialized(self: DynamoHandler, action_result: ActionResult) -> Any:
        result = action_result.result
        if isinstance(result, dict) and self._get_action() in ITEM_OPERATIONS:
            try:
                body = json.dumps(_wire(result))
            except (TypeError, ValueError):
                return original(self, action_result)
            return 200, {**self.response_headers, "Content-Type": CONTENT_TYPE}, body
        return original(self, action_result)

    serialized._charla_fast = True  # type: ignore[attr-defined]
    return serialized


def _remembered(lookup: Any) -> Any:
    found: dict[str | None, Any] = {}

    @functools.wraps(lookup)
    def get_backend_for_host(self: DomainDispatcherApplication, host: str | None) -> Any:
        if host not in found:  # called under the dispatcher's own lock
            found[host] = lookup(self, host)
        return found[host]

    return get_backend_for_host


class _Remembered(dict[str, Any]):
    def keep(self, text: str, value: Any) -> Any:
        if len(self) >= PARSED_LIMIT:
            self.clear()
        self[text] = value
        return value


def _update_expression_parsed_once(make: Any) -> Any:
    """`UpdateExpressionParser.make`: every caller reads the tree or validates a copy of it."""
    trees = _Remembered()

    def remembered(cls: type, expression: str) -> Any:
        tree = trees.get(expression)
        return tree if tree is not None else trees.keep(expression, make(expression))

    remembered._charla_fast = True  # type: ignore[attr-defined]
    return classmethod(remembered)


def _condition_lexed_once(lex: Any) -> Any:
    """`ConditionExpressionParser._lex_condition_expression`: the tokens depend on the text alone
    (the later steps build new nodes from them and never change them)."""
    tokens = _Remembered()

    @functools.wraps(lex)
    def lexed(self: ConditionExpressionParser) -> collections.deque[Any]:
        text = self.condition_expression or ""
        found = tokens.get(text)
        if found is None:
            found = tokens.keep(text, tuple(lex(self)))
        return collections.deque(found)

    return lexed


class _TreeNotCopyable(Exception):
    pass


def _copied(value: Any, memo: dict[int, Any]) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, Node):
        return _copied_node(value, memo)
    if isinstance(value, list):
        return [_copied(item, memo) for item in value]
    return copy.deepcopy(value, memo)  # moto's DynamoType has a fast deepcopy of its own


def _copied_node(node: Node, memo: dict[int, Any]) -> Node:
    new = object.__new__(type(node))
    memo[id(node)] = new
    fields = {}
    for name, value in node.__dict__.items():
        if name == "parent" and value is not None:
            if id(value) not in memo:  # a parent outside the tree: let deepcopy decide
                raise _TreeNotCopyable
            fields[name] = memo[id(value)]
        else:
            fields[name] = _copied(value, memo)
    new.__dict__.update(fields)
    return new


def copy_tree(value: Any) -> Any:
    """`copy.deepcopy` for moto's update-expression trees: nodes, their child lists and values."""
    if not isinstance(value, Node):
        return copy.deepcopy(value)
    try:
        return _copied_node(value, {})
    except _TreeNotCopyable:
        return copy.deepcopy(value)


_IS_NODE: dict[type, bool] = {}


_HANDLERS: dict[tuple[type, type], Any] = {}


def _handler(traverser: DepthFirstTraverser, node_type: type) -> Any:
    """The pass's handler for a node type (the first of its table whose type matches, as moto's
    `process` picks it), as a function of the pass: looked up once per pass class and node type."""
    key = (type(traverser), node_type)
    function = _HANDLERS.get(key, _HANDLERS)
    if function is _HANDLERS:
        table = traverser._processing_map()
        found = next((table[t] for t in table if issubclass(node_type, t)), None)
        if found is not None and getattr(found, "__self__", None) is not traverser:
            return found  # not a method of the pass: nothing to remember
        function = _HANDLERS[key] = None if found is None else found.__func__
    return None if function is None else functools.partial(function, traverser)


def _traverse_node_recursively(self: DepthFirstTraverser, node: Any, child_id: int = -1) -> Any:
    """`DepthFirstTraverser.traverse_node_recursively` (children first, then the node), deciding
    once per node type, not with an abstract-class isinstance at every node, what the pass does."""
    node_type = type(node)
    is_node = _IS_NODE.get(node_type)
    if is_node is None:
        is_node = _IS_NODE[node_type] = issubclass(node_type, Node)
    if not is_node:
        return node
    parent = node.parent
    if node.children is not None:
        for index, child in enumerate(node.children):
            self.pre_processing_of_child(node, index)
            _traverse_node_recursively(self, child, index)
    handler = _handler(self, node_type)
    if handler is not None:
        node = handler(node)
        node.parent = parent
        if parent:
            parent.children[child_id] = node
    return node


# The validator's passes that read only the expression, its attribute names and the table's keys.
_EXPRESSION_CHECKS = (
    validators.ActionCountValidator,
    validators.OverlappingPathsValidator,
    validators.UpdateHashRangeKeyValidator,
)
# Parsed tree -> the (names, key attributes) it has passed those checks with.
_CHECKED: weakref.WeakKeyDictionary[Node, set[tuple[Any, ...]]] = weakref.WeakKeyDictionary()


def _remembers_its_expression(init: Any) -> Any:
    @functools.wraps(init)
    def remembering(self: validators.UpdateExpressionValidator, expression: Node, *args: Any, **kwargs: Any) -> None:
        init(self, expression, *args, **kwargs)
        self._charla_expression = expression  # type: ignore[attr-defined]

    return remembering


def _validate_checking_once(self: validators.UpdateExpressionValidator) -> Node:
    """`UpdateExpressionValidator.validate`, skipping the expression-only checks (the quadratic
    part: they search the whole tree at every clause) for a tree that has passed them with the
    same names and keys. The passes that read values and the item always run."""
    expression = self._charla_expression  # type: ignore[attr-defined]
    names = self.expression_attribute_names or {}
    seen = (tuple(sorted(names.items())), tuple(self.table.table_key_attrs))
    passed = _CHECKED.setdefault(expression, set())
    node = self.node_to_validate
    for processor in self.processors:
        if seen in passed and isinstance(processor, _EXPRESSION_CHECKS):
            continue
        node = processor.traverse(node)
        if isinstance(processor, _EXPRESSION_CHECKS[-1]):
            passed.add(seen)
    return node


def _request_id(headers: dict[str, Any] | None = None) -> str:
    """moto's `gen_amzn_requestid_long`: 52 upper-case letters and digits, as DynamoDB's are."""
    request_id = base64.b32encode(mock_random.getrandbits(320).to_bytes(40, "big")).decode()[:52]
    if isinstance(headers, dict):
        headers["x-amzn-requestid"] = request_id
    return request_id


# (owner, attribute, what it held before, or _ABSENT): what `install` replaced, for a test to undo.
PATCHED: list[tuple[Any, str, Any]] = []
_ABSENT = object()


def _patch(owner: Any, name: str, replacement: Any) -> None:
    PATCHED.append((owner, name, vars(owner).get(name, _ABSENT)))
    setattr(owner, name, replacement)


def install() -> None:
    require_patched_moto()
    if getattr(DynamoHandler.serialized, "_charla_fast", False):
        return
    _patch(DynamoHandler, "serialized", _fast_serialized(DynamoHandler.serialized))
    _patch(core_responses, "gen_amzn_requestid_long", _request_id)
    _patch(core_responses, "method_names_from_class", functools.cache(core_responses.method_names_from_class))
    _patch(UpdateExpressionParser, "make", _update_expression_parsed_once(UpdateExpressionParser.make))
    parser = ConditionExpressionParser
    _patch(parser, "_lex_condition_expression", _condition_lexed_once(parser._lex_condition_expression))
    _patch(validators, "deepcopy", copy_tree)
    _patch(DepthFirstTraverser, "traverse_node_recursively", _traverse_node_recursively)
    validator = validators.UpdateExpressionValidator
    _patch(validator, "__init__", _remembers_its_expression(validator.__init__))
    _patch(validator, "validate", _validate_checking_once)
    modules = tuple(backends.list_of_moto_modules())
    _patch(backends, "list_of_moto_modules", lambda: modules)
    dispatcher = DomainDispatcherApplication
    _patch(dispatcher, "get_backend_for_host", _remembered(dispatcher.get_backend_for_host))
