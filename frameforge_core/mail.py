"""How email leaves FrameForge, for the API's account mail and the worker's job mail alike.

``SmtpTransport`` hands a message to an SMTP server (production); ``DirectoryTransport``
writes ``.eml`` files to ``$FRAMEFORGE_HOME/mail`` (the embedded default: no mail server on a
laptop, and the file is the proof); ``transport`` picks one from ``MailSettings``. Both raise
DeliveryError, so a caller retries (or gives up) the same way whatever the transport.
``addressed`` starts every message the same way: sender, recipient, date and a Message-ID
of the sender's domain.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import ipaddress
import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from frameforge_core.models import utcnow
from frameforge_core.settings import MailSettings

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger(__name__)

SMTP_TIMEOUT_SECONDS = 10.0


class DeliveryError(Exception):
    """One delivery attempt on one channel (an email, a webhook) failed. ``permanent``
    failures (a refused callback address, an SMTP 5xx reply) are not retried: the next
    attempt would fail too."""

    def __init__(self, detail: str, permanent: bool = False):
        super().__init__(detail)
        self.permanent = permanent


def addressed(sender: str, recipient: str, message_id: str, date: dt.datetime) -> EmailMessage:
    """A message from ``sender`` to ``recipient`` dated ``date``, its Message-ID
    ``<message_id@the sender's domain>``: headers and body are the caller's to add."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = email.utils.format_datetime(date)
    domain = email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"
    message["Message-ID"] = f"<{message_id}@{domain}>"
    return message


class MailTransport(Protocol):
    def send(self, message: EmailMessage) -> str:
        """Deliver ``message``; returns what the log keeps (the server's reply, the file).
        Raises DeliveryError."""
        ...


class _SMTP(smtplib.SMTP):
    """Keeps the reply to DATA ("250 2.0.0 Ok: queued as 4F2A1"): the relay's queue id
    in the notification log is what finds a message in the mail server's logs."""

    data_reply: tuple[int, bytes] = (0, b"")

    def data(self, msg: ReadableBuffer | str) -> tuple[int, bytes]:
        self.data_reply = super().data(msg)
        return self.data_reply


class SmtpTransport:
    """One SMTP connection per message (a few per job: no pool to keep alive).

    With a password it upgrades with STARTTLS when the server offers it, and refuses to send
    the password in clear text to anything but a loopback server.
    """

    def __init__(
        self, host: str, port: int, user: str | None = None, password: str | None = None
    ) -> None:
        self.host, self.port, self.user, self.password = host, port, user, password

    def send(self, message: EmailMessage) -> str:
        try:
            with _SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
                smtp.ehlo()
                if self.password:
                    self._authenticate(smtp, self.password)
                smtp.send_message(message)
                code, reply = smtp.data_reply
        except smtplib.SMTPResponseException as error:  # refused sender, data or login
            raise _refused(error.smtp_code, error.smtp_error) from None
        except smtplib.SMTPRecipientsRefused as error:
            (code, reply), *_ = error.recipients.values()
            raise _refused(code, reply) from None
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {error!r}") from None
        return f"{code} {reply.decode(errors='replace')}"

    def _authenticate(self, smtp: smtplib.SMTP, password: str) -> None:
        if smtp.has_extn("starttls"):
            smtp.starttls(context=ssl.create_default_context())
            smtp.ehlo()
        elif not _is_loopback(self.host):
            raise DeliveryError(
                f"SMTP {self.host} does not offer STARTTLS: not sending the password in clear",
                permanent=True,
            )
        smtp.login(self.user or "", password)


def _refused(code: int, reply: bytes | str) -> DeliveryError:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else reply
    return DeliveryError(f"{code} {text}", permanent=500 <= code < 600)


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class DirectoryTransport:
    """Each email becomes ``<time>-<random>.eml`` in ``folder``, written whole or not at all."""

    def __init__(self, folder: Path):
        self.folder = folder

    def send(self, message: EmailMessage) -> str:
        name = f"{utcnow():%Y%m%dT%H%M%S%fZ}-{uuid.uuid4().hex[:8]}.eml"
        target = self.folder / name
        partial = self.folder / f".{name}.partial"
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(message.as_bytes())
            partial.replace(target)
        except OSError as error:
            raise DeliveryError(f"cannot write {target}: {error.strerror or error}") from None
        log.info("email to %s written to %s", message["To"], target)
        return f"written to {target}"


def transport(settings: MailSettings) -> MailTransport:
    """SMTP when ``FRAMEFORGE_SMTP_HOST`` is set, else the data dir's mail folder."""
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpTransport(settings.smtp_host, settings.smtp_port, settings.smtp_user, password)
    return DirectoryTransport(settings.home / "mail")
