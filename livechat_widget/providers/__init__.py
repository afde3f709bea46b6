"""AI providers: one streaming interface over OpenAI-compatible servers, Anthropic and
an offline demo.

One concern per module:

- ``base``: the client protocol, :class:`~.base.Piece` and :class:`~.base.ReplyStream`
- ``config``: :class:`~.config.Timeouts`, :class:`~.config.RetryPolicy`, default endpoints
- ``errors``: the :class:`~.errors.AIError` hierarchy; ``classify``: the table that
  turns a provider's error into one of them
- ``transport``: sending a request with retries until a response is accepted
- ``sse`` and ``stream``: parsing server-sent events; reading an accepted stream
- ``protocol``, ``openai``, ``anthropic``: turning events into pieces, per provider
- ``http_client``: what the HTTP clients share; ``demo``: the offline client
- ``env``: the client the environment asks for (imports no HTTP code until called)

Nothing is imported here, so ``providers.env`` and ``providers.errors`` stay light.
"""
