"""Versions of a turn: edited user messages and regenerated replies, and which one shows.

A chat file is append-only, so the versions are a tree replayed from its rows:

- Every message hangs under a parent (``ROOT`` for the first). A new message hangs
  under the end of the branch shown when it was written; a reply written when that end
  is already a reply (Regenerate, Retry) is another version of it (same parent).
- A user message followed by an ``edit`` row (content: the id of an earlier user
  message) is a version of that message: it shares its parent.
- A ``select`` row (content: a message id) shows that version among its siblings.
  Otherwise the newest version shows: adding a version shows it.

Files written before versions existed replay to one branch with the same messages in
the same order; consecutive replies (regenerated ones) are versions of one reply, the
last one shown — so ``model_messages`` gives the model exactly what it got before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from .csv_format import MESSAGE_ROLES, Message

ROOT = -1
EDIT_ROLE = "edit"
SELECT_ROLE = "select"


def _message_id(content: str) -> int | None:
    value = content.strip()
    return int(value) if value.isascii() and value.isdigit() and len(value) < 10 else None


class ShownMessage(NamedTuple):
    """A message as a view shows it: which version of its turn it is, of how many."""

    message: Message
    version: int = 1
    versions: int = 1


class VersionTree:
    """Parents, siblings and the shown version of each message of one chat (by id)."""

    def __init__(self) -> None:
        self.parent: list[int] = []
        self.roles: list[str] = []
        self.children: dict[int, list[int]] = {}
        self.shown: dict[int, int] = {}  # parent id -> the child shown
        self._branch: list[int] | None = []  # the ids shown, worked out again when None

    def __len__(self) -> int:
        return len(self.parent)

    def add(self, role: str, replaces: int | None = None) -> int:
        """A message was appended (as a version of ``replaces``, if given and valid)."""
        message_id = len(self.parent)
        tip = self.tip()
        if replaces is not None and 0 <= replaces < message_id and self.roles[replaces] == role:
            parent = self.parent[replaces]
        else:
            regenerated = role == "assistant" and tip != ROOT and self.roles[tip] == "assistant"
            parent = self.parent[tip] if regenerated else tip
        self.parent.append(parent)
        self.roles.append(role)
        self.children.setdefault(parent, []).append(message_id)
        if parent == tip and self._branch is not None:
            # The common case, a message after the one shown last: one step, so that
            # replaying a long chat stays linear in its rows.
            self.shown[parent] = message_id
            self._branch.append(message_id)
        else:
            self._show_path(message_id)
        return message_id

    def select(self, message_id: int) -> bool:
        """Show ``message_id`` among its versions; False if there is no such message."""
        if not 0 <= message_id < len(self.parent):
            return False
        self._show_path(message_id)
        return True

    def _show_path(self, message_id: int) -> None:
        """Show ``message_id`` and every message above it (an edit of a message on a
        branch not shown brings that branch into view)."""
        node = message_id
        while node != ROOT:
            self.shown[self.parent[node]] = node
            node = self.parent[node]
        self._branch = None

    def branch(self) -> list[int]:
        """The ids of the messages shown, oldest first (a new list: callers may change it)."""
        return list(self._shown_branch())

    def _shown_branch(self) -> list[int]:
        if self._branch is None:
            ids: list[int] = []
            node = ROOT
            while node in self.children:
                node = self.shown[node]
                ids.append(node)
            self._branch = ids
        return self._branch

    def tip(self) -> int:
        """The last message shown (ROOT in an empty chat)."""
        branch = self._shown_branch()
        return branch[-1] if branch else ROOT

    def versions(self, message_id: int) -> list[int]:
        """The ids of every version of ``message_id`` (itself included), oldest first."""
        return self.children[self.parent[message_id]]

    def position(self, message_id: int) -> tuple[int, int]:
        """(version, versions): which version ``message_id`` is (from 1) of how many."""
        siblings = self.versions(message_id)
        return siblings.index(message_id) + 1, len(siblings)


def tree_from_records(records: Iterable[Sequence[str]]) -> VersionTree:
    """Replay a chat's ``[timestamp, user_id, role, content]`` records (see module docs);
    an ``edit`` or ``select`` row naming no usable message is ignored."""
    tree = VersionTree()
    pending: tuple[str, int | None] | None = None  # a message whose event rows follow
    for record in records:
        role, content = record[2], record[3]
        if role in MESSAGE_ROLES:
            if pending is not None:
                tree.add(*pending)
            pending = (role, None)
        elif role == EDIT_ROLE and pending is not None:
            pending = (pending[0], _message_id(content))
        elif role == SELECT_ROLE:
            if pending is not None:
                tree.add(*pending)
                pending = None
            selected = _message_id(content)
            if selected is not None:
                tree.select(selected)
    if pending is not None:
        tree.add(*pending)
    return tree


def model_messages(messages: Sequence[Message], tree: VersionTree) -> list[Message]:
    """The messages behind what the model is sent: the branch shown, where a reply
    comes with its earlier versions (``history.model_history`` keeps the latest one
    with text), so a version that failed before any text falls back as it always did."""
    chosen: list[Message] = []
    for message_id in tree.branch():
        if tree.roles[message_id] == "assistant":
            siblings = tree.versions(message_id)
            earlier = siblings[: siblings.index(message_id) + 1]
            chosen.extend(messages[i] for i in earlier if tree.roles[i] == "assistant")
        else:
            chosen.append(messages[message_id])
    return chosen
