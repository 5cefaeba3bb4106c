from __future__ import annotations

from .punctuation import EXCLAIM


def greeting(name, excited):
    text = "hello, %s" % name
    return text + EXCLAIM if excited else text
