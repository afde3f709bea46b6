"""What the model is sent of a chat: its turns, as the person left them, as model
messages (lists of parts; text for now)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .csv_storage import Message
from .providers.messages import ModelMessage, Part, Role, TextPart, ToolCallPart, ToolResultPart

# A chat's message rows (the registry hands out no others) as model roles.
_ROLES: dict[str, Role] = {"system": "system", "user": "user", "assistant": "assistant"}


FileParts = Callable[[Message], Sequence[Part]]  # a user message's files as model parts


def model_history(
    messages: Sequence[Message], start: int = 0, files: FileParts | None = None
) -> list[ModelMessage]:
    """What the model sees: each user turn with the latest usable reply to it.

    - Messages before ``start`` (the person chose to leave the oldest turns out) are
      not sent, except ``system`` messages.
    - A regenerated reply supersedes the earlier ones to the same turn.
    - A reply with no text (failed, cut, empty) is dropped; the user messages around
      it are merged, so providers that require alternating roles accept the history.
    - A reply stopped before any text withdraws its turn: the prompt is not sent
      again (unless a later reply to it, e.g. Regenerate, says otherwise).
    - A user message sent with kernel context is sent as that context, then the text:
      the model sees what it saw the first time (a reload or another model included).
    - A reply that called tools is sent as its steps were: each step's text and calls,
      the calls' results, then the rest of its text (``tool_turns``).
    - A user message's attached files follow its text, as ``files`` makes them parts.
    """
    history: list[ModelMessage] = []
    withdrawn = False  # the last user turn in `history` was stopped before any text
    reply_at = -1  # where the last reply's turns begin in `history` (-1: not a reply)
    for message in messages:
        if message.id < start and message.role != "system":
            continue
        if message.role == "system" and withdrawn:
            history.pop()  # the withdrawn prompt is final once something else follows
            withdrawn = False
        last = history[-1] if history else None
        content = f"{message.context}\n\n{message.content}" if message.context else message.content
        turn = ModelMessage.of_text(_ROLES[message.role], content)
        if message.attachments and files is not None:
            turn = ModelMessage(turn.role, (*turn.parts, *files(message)))
        if message.role == "assistant":
            if not content and not message.tools:  # nothing said: nothing to send back
                if message.status == "stopped" and last and last.role == "user":
                    withdrawn = True
                continue
            withdrawn = False
            if reply_at >= 0:  # a later reply to the same turn supersedes this one
                del history[reply_at:]
            reply_at = len(history)
            history += tool_turns(message)
            continue
        elif message.role == "user" and last and last.role == "user":
            if withdrawn:  # the earlier prompt was cancelled: this one replaces it
                history[-1] = turn
                withdrawn = False
            else:
                history[-1] = last.joined(turn)
            continue
        history.append(turn)
        reply_at = -1
    if withdrawn:
        history.pop()
    return history


def tool_turns(reply: Message) -> list[ModelMessage]:
    """An assistant message as the model sent it: for each tool step, the step's text
    and calls then their results (a ``tool`` message), and last the rest of its text.
    The text of a step runs from the previous step's offset to its own (tool_rows.py)."""
    turns: list[ModelMessage] = []
    text, at = reply.content, 0
    steps: dict[int, list[int]] = {}
    for index, call in enumerate(reply.tools):
        steps.setdefault(call.step, []).append(index)
    for step in sorted(steps):
        calls = [reply.tools[i] for i in steps[step]]
        offset = min(max(calls[0].offset, at), len(text))
        said = text[at:offset]
        at = offset
        parts: list[Part] = [TextPart(said)] if said else []
        parts += [ToolCallPart(c.id, c.name, c.arguments) for c in calls]
        turns.append(ModelMessage("assistant", tuple(parts)))
        results = (ToolResultPart(c.id, c.result_text(), c.status != "ok") for c in calls)
        turns.append(ModelMessage("tool", tuple(results)))
    if text[at:] or not turns:
        turns.append(ModelMessage.of_text("assistant", text[at:]))
    return turns


def shorter_history_start(messages: Sequence[Message], start: int) -> int | None:
    """Where the history starts when the oldest half of its turns is left out (at
    least one turn; the last turn always stays); None if one turn is all there is."""
    roles_before = [""] + [m.role for m in messages[:-1]]  # `messages` may be a branch
    turn_starts = [
        m.id
        for m, before in zip(messages, roles_before, strict=False)
        if m.role == "user" and m.id >= start and before != "user"
    ]
    if len(turn_starts) < 2:
        return None
    return turn_starts[max(1, len(turn_starts) // 2)]
