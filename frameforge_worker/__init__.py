"""The notifier: an always-on worker that relays the outbox and tells users about their jobs.

``frameforge worker`` runs it. With ``RABBITMQ_URL`` it publishes outbox rows to RabbitMQ and
consumes ``video.events.notifications``; without it (the embedded default) it hands finished
jobs' events straight to the notifier. Emails go to SMTP or, without
``FRAMEFORGE_SMTP_HOST``, to ``.eml`` files in ``$FRAMEFORGE_HOME/mail``; jobs with a callback
URL also get a signed webhook.
"""
