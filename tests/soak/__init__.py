"""Soak: live chats through the local stack while sockets are dropped at random (`python -m tests.soak`)."""
