"""ddb_calls_per_message and items_read_per_message: what one visitor message costs.

One chat (a visitor and one agent, both connected through the real `$connect` handler), in one of 10
groups, sits among 10, then 2,000, other open chats. Each visitor `send` goes through the real `$default` handler,
and the counter sees every DynamoDB call it makes, the transaction included. The same run then
sends one message the way aws-samples/simple-websockets-chat-app does, over a connections table
holding the 2,000 background chats' visitor connections.
"""

from __future__ import annotations

import os
from typing import Any

from tests.bench.ddb import DynamoCounter, Window
from tests.bench.moto_env import charla_on_moto, dynamodb_client
from tests.bench.report import Check, Figure

GROUPS = 10  # defined while the messages are counted (functions/team/groups.py)
MESSAGES = 5  # per size; the figure is the largest count seen, so a costlier first message shows
SIZES = (10, 2000)
FILE_BYTES = 256 * 1024  # a photo-sized file: what the code reads of it must stay a fixed few hundred bytes


def _send_file(counter: DynamoCounter, visitor: Any, chat_id: str) -> Window:
    """One visitor `file` message: the grant and the upload to S3 happen first, outside the window, as in
    the browser; the window holds the `send` frame alone."""
    import boto3
    import requests

    from functions.chat import files
    from functions.core.principals import Principal

    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=_BUCKET)
    os.environ["ATTACHMENTS_BUCKET"] = _BUCKET
    data = b"\x89PNG\r\n\x1a\n" + b"\x00" * (FILE_BYTES - 8)
    body = {"name": "photo.png", "content_type": "image/png", "size": len(data)}
    granted = files.grant(Principal("visitor", visitor.principal.id), chat_id, body)
    upload = granted["upload"]
    posted = requests.post(upload["url"], data=upload["fields"], files={"file": ("photo.png", data)}, timeout=30)
    if posted.status_code != 204:
        raise RuntimeError(f"the upload failed: {posted.status_code} {posted.text[:200]}")
    with counter.window() as window:
        frames = visitor.send(
            {"action": "send", "chat_id": chat_id, "client_msg_id": "file-1", "file_id": granted["file"]["file_id"]}
        )
    if not any(f.get("type") == "ack" for f in frames):
        raise RuntimeError(f"no ack for a file message: {frames}")
    return window


_BUCKET = "charla-bench-attachments"


def _send_messages(counter: DynamoCounter, visitor: Any, chat_id: str, tag: str) -> list[Window]:
    windows = []
    for n in range(MESSAGES):
        with counter.window() as window:
            frames = visitor.send(
                {"action": "send", "chat_id": chat_id, "client_msg_id": f"{tag}-{n}", "text": f"Hi {n}"}
            )
        if not any(f.get("type") == "ack" for f in frames):
            raise RuntimeError(f"no ack for a visitor message: {frames}")
        windows.append(window)
    return windows


def _group(name: str, member_id: str) -> str:
    from functions.core.principals import Principal
    from functions.team import groups

    admin = Principal("agent", "bench-admin", "Bench", "admin")
    return str(groups.create(admin, {"name": name, "members": [member_id]})["id"])


def run() -> list[Figure]:
    # tests.support.actors drives the real Chalice handlers with API Gateway-shaped events, like the unit tests.
    from tests.bench import scan_sample, seed
    from tests.support.actors import Socket, new_agent, new_visitor, start_chat

    calls: dict[str, int] = {}
    breakdowns: dict[str, str] = {}
    posts: dict[str, int] = {}
    with charla_on_moto() as counter:
        background = seed.Background()
        agent = Socket(new_agent("Ana"))
        visitor = Socket(new_visitor("Vic"))
        seed.open_chats("bg0", SIZES[0], background)
        # Ten groups, the chat in one of them: the message path reads the group from the chat, never the groups.
        group_ids = [_group(f"Group {n}", agent.principal.id) for n in range(GROUPS)]
        chat_id = start_chat(visitor, group=group_ids[0])["chat_id"]
        seen = SIZES[0]
        items_read = 0
        for size in SIZES:
            seed.open_chats(f"bg{size}", size - seen, background)
            seen = size
            windows = _send_messages(counter, visitor, chat_id, f"m{size}")
            worst = max(windows, key=lambda w: w.total_calls)
            calls[f"chats_{size}"] = worst.total_calls
            breakdowns[f"chats_{size}"] = worst.breakdown()
            posts[f"chats_{size}"] = max(w.posts for w in windows)
            items_read = max(w.items_read for w in windows)
        if not all("TransactWriteItems" in b for b in breakdowns.values()):
            raise RuntimeError(f"the counter missed the message transaction: {breakdowns}")
        if agent.of_type("message") == []:
            raise RuntimeError("the agent received no message frame")
        file_window = _send_file(counter, visitor, chat_id)
        calls["file_message"] = file_window.total_calls
        breakdowns["file_message"] = file_window.breakdown()
        posts["file_message"] = file_window.posts

        connections = background.visitor_connections
        scan_sample.create_table(dynamodb_client(), connections)
        with counter.window() as sample:
            response = scan_sample.send_message({"body": '{"action":"sendmessage","data":"Hi"}'})

    calls_figure = Figure(
        "ddb_calls_per_message",
        calls,
        checks=[Check(f"{k} calls", v, 3) for k, v in calls.items()]
        + [Check("chats_2000 − chats_10", calls["chats_2000"] - calls["chats_10"], 0, "==")],
        details=[f"{k}: {b}; post_to_connection×{posts[k]} (ack + agent)" for k, b in breakdowns.items()]
        + [
            f"file_message: S3 {' + '.join(f'{op}×{n}' for op, n in sorted(file_window.s3_calls.items()))}; "
            f"{file_window.s3_bytes_in} of the file's {FILE_BYTES} bytes read by the code (its signature)"
        ],
    )
    bytes_figure = Figure(
        "file_bytes_through_lambda",
        {"read": file_window.s3_bytes_in, "file": FILE_BYTES},
        checks=[Check("bytes of a file message's file read by the code", file_window.s3_bytes_in, 512)],
        details=["the upload goes to S3 by a presigned POST and the download by a presigned GET"],
    )
    items_figure = Figure(
        "items_read_per_message",
        {"charla": items_read, "scan_fanout": sample.items_read, "connections": len(connections)},
        details=[
            f"charla at 2,000 chats: {items_read} items read, {posts['chats_2000']} posts",
            f"scan sample: {sample.breakdown()}, ScannedCount {response['scanned']}, "
            f"{sample.posts} posts (to every connection)",
        ],
    )
    return [calls_figure, items_figure, bytes_figure]
