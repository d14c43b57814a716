"""SQS queues and Lambda's SQS event source mapping, which moto has no equivalent of.

Each queue the app consumes (`@app.on_sqs_message`) gets a dead-letter queue and a redrive policy,
as in AWS, and a poller thread that long-polls it, hands batches to the handler as SQS events, and
deletes a batch only when the handler returned. A batch whose handler raised becomes visible again
after the visibility timeout and, after `MAX_RECEIVES` tries, moves to the dead-letter queue.
`DelaySeconds` is honoured because moto's SQS honours it.

A batching window (`maximum_batching_window_in_seconds`) is played as Lambda does: once a message
arrives, the poller keeps gathering until the batch is full or the window has passed, then invokes
the handler once with everything gathered; without a window a batch holds at most 10 records.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import boto3

log = logging.getLogger("charla.local.sqs")

MAX_RECEIVES = 5
VISIBILITY_TIMEOUT_S = 30
# A long poll of 1 s: short enough that stop() returns quickly, long enough not to spin.
WAIT_SECONDS = 1


def client(region: str) -> Any:
    return boto3.session.Session().client("sqs", region_name=region)


def ensure_queue(sqs: Any, name: str) -> tuple[str, str]:
    """(url, arn) of queue `name`, created with a `<name>-dlq` dead-letter queue if missing."""
    dlq_url = sqs.create_queue(QueueName=f"{name}-dlq")["QueueUrl"]
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    url = sqs.create_queue(
        QueueName=name,
        Attributes={
            "VisibilityTimeout": str(VISIBILITY_TIMEOUT_S),
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": str(MAX_RECEIVES)}),
        },
    )["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def sqs_event(messages: list[dict[str, Any]], queue_arn: str, region: str) -> dict[str, Any]:
    """The event Lambda's SQS integration sends for a batch of received messages."""
    return {
        "Records": [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": m.get("MessageAttributes", {}),
                "md5OfBody": m.get("MD5OfBody") or hashlib.md5(m["Body"].encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for m in messages
        ]
    }


class SqsPoller:
    """One event source mapping: a thread that feeds a queue's messages to a Lambda-style handler."""

    def __init__(
        self,
        *,
        queue_url: str,
        queue_arn: str,
        handler: Callable[[Any, Any], Any],
        context: Callable[[], Any],
        batch_size: int,
        region: str,
        batching_window_s: float = 0,
    ) -> None:
        self._queue_url = queue_url
        self._queue_arn = queue_arn
        self._handler = handler
        self._context = context
        # Lambda's limits: 10 records without a window, 10,000 with one (standard queues).
        self._batch_size = max(1, min(batch_size, 10_000 if batching_window_s else 10))
        self._window_s = batching_window_s
        self._region = region
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.batches = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"sqs-{self._queue_arn.rsplit(':', 1)[-1]}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=WAIT_SECONDS + 10)
            self._thread = None

    def _receive(self, sqs: Any, wait_s: int, most: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = sqs.receive_message(
            QueueUrl=self._queue_url,
            MaxNumberOfMessages=max(1, min(most, 10)),
            WaitTimeSeconds=wait_s,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        return found

    def _gather(self, sqs: Any) -> list[dict[str, Any]]:
        """One batch: the first messages, then whatever else arrives within the window."""
        messages = self._receive(sqs, WAIT_SECONDS, self._batch_size)
        if not messages or not self._window_s:
            return messages
        closes = time.monotonic() + self._window_s
        while len(messages) < self._batch_size and not self._stop.is_set():
            left = closes - time.monotonic()
            if left <= 0:
                break
            more = self._receive(sqs, 0, self._batch_size - len(messages))
            messages += more
            if not more:
                time.sleep(min(0.1, left))
        return messages

    def _run(self) -> None:
        sqs = client(self._region)
        while not self._stop.is_set():
            try:
                messages = self._gather(sqs)
            except Exception:
                if self._stop.is_set():
                    return  # moto is going away with the stack
                log.exception("receiving from %s failed", self._queue_url)
                time.sleep(0.5)
                continue
            if not messages:
                continue
            try:
                self._handler(sqs_event(messages, self._queue_arn, self._region), self._context())
            except Exception:
                # As in AWS: the batch stays in flight, reappears after the visibility timeout, and
                # after MAX_RECEIVES tries the redrive policy moves it to the dead-letter queue.
                log.exception("the handler for %s raised; the batch will be retried", self._queue_arn)
                continue
            self.batches += 1
            entries = [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
            for start in range(0, len(entries), 10):  # DeleteMessageBatch takes at most 10
                try:
                    sqs.delete_message_batch(QueueUrl=self._queue_url, Entries=entries[start : start + 10])
                except Exception:
                    log.exception("deleting a handled batch from %s failed", self._queue_url)
