"""Keep Streamlit's reply to a file upload when a script run starts (a fix for a lost-upload race).

A file upload in the browser asks the server for upload URLs (a ``file_urls_request``) and waits
for the reply before it sends the file. Streamlit (1.67) queues that reply in the session's
``ForwardMsgQueue``, and every script run that starts clears the queue except for lifecycle
messages: a reply queued just before a run starts (e.g. the rerun a component asks for right
after the page loads) is dropped, the browser waits for ever and the upload is silently lost —
no file shown, no rerun. :func:`keep_upload_replies` makes that clear keep such replies; flushing
the queue to the browser is unchanged.
"""

from __future__ import annotations

from typing import Any

from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

__all__ = ["keep_upload_replies", "UPLOAD_REPLY"]

UPLOAD_REPLY = "file_urls_response"  # the ForwardMsg type of the reply to an upload's URL request
_MARK = "_kgviz_keeps_upload_replies"


def keep_upload_replies() -> None:
    """Patch ``ForwardMsgQueue.clear`` (once per process) so that a run's start keeps upload replies."""
    if getattr(ForwardMsgQueue.clear, _MARK, False):
        return
    original = ForwardMsgQueue.clear

    def clear(self: ForwardMsgQueue, retain_lifecycle_msgs: bool = False, fragment_ids_this_run: Any = None) -> None:
        queue = getattr(self, "_queue", [])
        replies = [m for m in queue if m.WhichOneof("type") == UPLOAD_REPLY] if retain_lifecycle_msgs else []
        original(self, retain_lifecycle_msgs, fragment_ids_this_run)
        kept = getattr(self, "_queue", None)
        if isinstance(kept, list):
            kept.extend(m for m in replies if all(m is not k for k in kept))

    setattr(clear, _MARK, True)
    ForwardMsgQueue.clear = clear  # type: ignore[method-assign]
