"""A chat's money and room: what a reply cost (prices.py), the budget a send may not
pass (``max_cost``), and how full the next request would be against the model's
context window (context_window.py), with "Continue without oldest turns". A part of
``ChatSession`` (session.py), kept apart so each stays readable."""

from __future__ import annotations

from collections.abc import Callable

from .chat_registry import ChatRegistry
from .chat_settings import ChatSettings, with_system_prompt
from .context_window import ContextWindows, request_tokens
from .folders import Folder
from .history import model_history, shorter_history_start
from .prices import Prices, PriceTable, money, override, price, reply_cost
from .providers.base import ChatClient
from .providers.messages import ModelMessage
from .refusals import Refused
from .reply_usage import Usage, estimate_tokens
from .session_options import SessionListener
from .streaming import Reply
from .versions import model_messages
from .wire import ContextGauge

# The provider is asked for the model's window once a chat's next request reaches this
# (the smallest windows in use are 2,048 tokens): short chats send no extra request.
ASK_FROM_TOKENS = 1_000


class BudgetExceeded(Refused):
    """A send that would take the chat past its ``max_cost``."""


class TrimRefused(Refused):
    """The history cannot be shortened (one turn is all there is, or a reply streams)."""


class ChatBudget:
    """Cost, budget and context window; the attributes are the session's."""

    client: ChatClient
    registry: ChatRegistry
    replies: dict[str, Reply]
    listener: SessionListener
    folder: Folder
    price_table: PriceTable
    windows: ContextWindows
    _unpriced_budgets: set[str]  # chats told once that their budget cannot be checked

    def settings(self, chat_id: str) -> ChatSettings:
        raise NotImplementedError

    # -- money

    def chat_prices(self, chat_id: str, model: str) -> Prices | None:
        """The person's price for ``model`` in the chat (its setting, LIVECHAT_PRICES)."""
        own = self.settings(chat_id).prices if chat_id in self.registry else None
        return override(own, self.price_table, model)

    def cost_of(self, chat_id: str, usage: Usage) -> float | None:
        """A reply's cost in dollars (None: no price known)."""
        return reply_cost(usage, self.client, self.chat_prices(chat_id, usage.model))

    def check_budget(self, chat_id: str, text: str | None) -> str:
        """Refuse a request (``text``: the new message, None: answer again) whose
        estimated input would take the chat past its ``max_cost``. Runs before anything
        is saved. A budget without a price cannot be checked: the note returned says so
        (once per chat; "" otherwise), for the banner once the reply started."""
        settings = self.settings(chat_id) if chat_id else None
        if settings is None or settings.max_cost is None:
            return ""
        tokens, _ = self.next_request(chat_id)
        tokens += estimate_tokens(text or "")
        model = settings.model
        cost = price(model, self.client, tokens, 0, self.chat_prices(chat_id, model))
        if cost is None:
            if chat_id in self._unpriced_budgets:
                return ""
            self._unpriced_budgets.add(chat_id)
            return (
                f"This chat's budget ({money(settings.max_cost)}) cannot be checked: no "
                f"price is known for {model or 'this model'}. Set one with "
                'chat.configure(prices={"input_per_mtok": ..., "output_per_mtok": ...}), '
                "LIVECHAT_PRICES, or install livechat-widget[prices]."
            )
        spent = self.registry.usage(chat_id)["cost"] or 0.0
        if spent + cost > settings.max_cost:
            raise BudgetExceeded(
                f"This chat's budget is {money(settings.max_cost)} and it has cost "
                f"{money(spent)}; the next request would cost about {money(cost)}. Raise it "
                "with chat.configure(max_cost=…) or in Settings."
            )
        return ""

    # -- the context window

    def next_request(self, chat_id: str) -> tuple[int, bool]:
        """(tokens, estimated) the chat's next request would send: its system prompt
        and the history the model is sent (attached files are not counted). The
        provider's count of the last request is used only while the history was never
        shortened (a shortened one makes it too high)."""
        settings = self.settings(chat_id)
        history: list[ModelMessage] = []
        last: Usage | None = None
        if chat_id and chat_id in self.registry:
            messages = self.registry.messages(chat_id)
            shown = model_messages(messages, self.registry.tree(chat_id))
            start = self.registry.history_start(chat_id)
            history = model_history(shown, start)
            # The provider counted the last request; a shortened history it did not.
            if shown and shown[-1].role == "assistant" and start == 0:
                last = shown[-1].usage
        return request_tokens(with_system_prompt(settings, history), last)

    def gauge(self, chat_id: str, then: Callable[[], None] | None = None) -> ContextGauge:
        """How full the chat's next request would be; ``then`` runs once the provider
        said the model's window (asked once per model, in a task)."""
        settings = self.settings(chat_id)
        tokens, estimated = self.next_request(chat_id)
        window = settings.context_window
        if window is None:  # a short chat does not trouble the provider with a question
            ask = tokens >= ASK_FROM_TOKENS
            window = (
                self.windows.get(settings.model, then)
                if ask
                else self.windows.known.get(settings.model)
            )
        return {"tokens": tokens, "window": window, "estimated": estimated}

    def trim_history(self, chat_id: str) -> None:
        """Leave the oldest half of the turns out of what the model is sent, without
        sending anything ("Continue without oldest turns")."""
        if chat_id in self.replies:
            raise TrimRefused("A reply is still streaming in this chat: stop it first.")
        shown = model_messages(self.registry.messages(chat_id), self.registry.tree(chat_id))
        start = shorter_history_start(shown, self.registry.history_start(chat_id))
        if start is None:
            raise TrimRefused(
                "There is only one turn to send: shorten the last message, or start a new chat."
            )
        self.registry.set_history_start(chat_id, start)
        self.folder.announce(chat_id)
