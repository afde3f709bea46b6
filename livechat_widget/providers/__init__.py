"""AI providers: one streaming interface over OpenAI-compatible servers, Anthropic and
an offline demo.

One concern per module:

- ``base``: the :class:`~.base.ChatClient` protocol, :class:`~.base.BaseClient`,
  :class:`~.base.ReplyStream` and the one measurement of a reply, :class:`~.base.ReplyStats`
- ``events``: what a stream yields (text, reasoning, tool call, usage, finish);
  ``messages``: what a model is sent (:class:`~.messages.ModelMessage`, lists of parts)
- ``config``: :class:`~.config.Timeouts`, :class:`~.config.RetryPolicy`, default endpoints
- ``errors``: the :class:`~.errors.AIError` hierarchy; ``classify``: the table that
  turns a provider's error into one of them
- ``transport``: sending a request with retries until a response is accepted
- ``sse`` and ``stream``: parsing server-sent events; reading an accepted stream
- ``protocol``, ``openai``, ``anthropic``: turning server-sent events into stream
  events, and messages into each provider's wire shape
- ``http_client``: what the HTTP clients share; ``demo``: the offline client
- ``env``: the client the environment asks for (imports no HTTP code until called)

Nothing is imported here, so ``providers.env`` and ``providers.errors`` stay light.
"""
