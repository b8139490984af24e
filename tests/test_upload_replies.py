"""kgviz.ui.upload_replies: a run's start must not drop the reply to an upload's URL request."""

from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.runtime.forward_msg_queue import ForwardMsgQueue

from kgviz.ui.upload_replies import keep_upload_replies


def _queue_with_reply() -> tuple[ForwardMsgQueue, ForwardMsg]:
    q = ForwardMsgQueue()
    reply = ForwardMsg()
    reply.file_urls_response.response_id = "req-1"
    q.enqueue(reply)
    status = ForwardMsg()
    status.session_status_changed.script_is_running = True
    q.enqueue(status)
    return q, reply


def test_run_start_keeps_the_upload_reply():
    keep_upload_replies()
    keep_upload_replies()  # once per process, whatever the number of calls
    q, reply = _queue_with_reply()
    q.clear(retain_lifecycle_msgs=True)  # what AppSession does when a script run starts
    kinds = [m.WhichOneof("type") for m in q.flush()]
    assert kinds.count("file_urls_response") == 1
    assert "session_status_changed" in kinds
    assert q.is_empty()  # flushed: sent once, never again


def test_fragment_run_start_keeps_it_once():
    keep_upload_replies()
    q, _ = _queue_with_reply()
    q.clear(retain_lifecycle_msgs=True, fragment_ids_this_run=["f"])
    assert [m.WhichOneof("type") for m in q.flush()].count("file_urls_response") == 1


def test_a_full_clear_still_drops_everything():
    keep_upload_replies()
    q, _ = _queue_with_reply()
    q.clear()
    assert q.is_empty()
