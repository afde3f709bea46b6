"""The one base class of every refusal: a request that cannot be carried out, whose
text is fit to show a person as it is (the error banner, a ValueError in Python).

The browser's dispatcher catches this one type; each layer raises its own subclass
(a malformed message, a busy chat, a bad setting, a name the kernel did not offer, a
run that is not allowed)."""

from __future__ import annotations


class Refused(ValueError):
    """A request refused with a message a person can act on."""
