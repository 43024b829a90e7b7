"""Notifications to consumers through an outbox (docs/notifications.md): rows written in the transaction of the
event (``enqueue``), worked by the ``notifications`` job (``job``, ``deliver``) over SMTP and HTTP providers
(``senders``), in the consumer's language (``templates``), by pure rules (``rules``)."""
