"""Attachments' one registration with the conversation and the outbox (`bot.extensions`)."""

from __future__ import annotations

from bot import extensions


def register() -> None:
    import attachments.models  # noqa: F401 - its tables, for the schema and migrations
    from attachments import outbound, record

    # files are kept whoever has the thread (also on standby, while an agent chats)
    extensions.register_turn_hook(record.keep_files, phase="observe")
    # queueing a fetch makes no Graph call: a paused Page does not hold it back
    extensions.register_executor(record.FETCH_CALL, record.queue_fetches, graph_call=False)
    extensions.register_executor(outbound.FILE_CALL, outbound.send_file)
