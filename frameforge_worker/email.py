"""The emails the worker sends (a job's outcome; the link that confirms a new address), and
the two ways they leave it.

``SmtpTransport`` hands it to an SMTP server (production); ``DirectoryTransport`` writes
``.eml`` files to ``$FRAMEFORGE_HOME/mail`` (the embedded default: no mail server on a
laptop, and the file is the proof). Both raise DeliveryError, so the notifier retries the
same way whatever the transport.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import hashlib
import ipaddress
import logging
import smtplib
import ssl
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from frameforge_core.models import utcnow
from frameforge_core.signing import SignedUrl
from frameforge_worker.errors import DeliveryError
from frameforge_worker.notice import JobNotice, Links
from frameforge_worker.settings import WorkerSettings

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

log = logging.getLogger(__name__)

TRACE_HEADER = "X-FrameForge-Trace-Id"
SMTP_TIMEOUT_SECONDS = 10.0
SMTP_MAX_LINE = 998  # RFC 5322, without the CRLF


COMPLETED_SUBJECT = "Your frames are ready"
FAILED_SUBJECT = "We could not extract frames from your video"


def compose(notice: JobNotice, sender: str, links: Links) -> EmailMessage:
    """The email for ``notice``: frame count and download link, or the reason and how to retry.
    It goes only to a verified address (the notifier's check), the owner's, who named the
    file; the name appears in the plain text only, quoted on one line, never in a header.

    Its Message-ID is the same for every delivery of one event, so a mail client shows a
    duplicate (after a lost SMTP reply) as one message.
    """
    message = EmailMessage()
    message["From"] = sender
    message["To"] = notice.recipient
    message["Date"] = email.utils.format_datetime(utcnow())
    message["Message-ID"] = f"<{notice.event_id.replace(':', '.')}@{_domain(sender)}>"
    if notice.trace_id:
        message[TRACE_HEADER] = notice.trace_id
    if notice.completed:  # the subject says nothing the user typed (the file name)
        message["Subject"] = COMPLETED_SUBJECT
        text = _completed_text(notice, links.email_download(notice.job_id))
    else:
        message["Subject"] = FAILED_SUBJECT
        text = _failed_text(notice, links.job_page(notice.job_id), links.retry(notice.job_id))
    message.set_content(text, cte=_transfer_encoding(text))
    return message


VERIFICATION_SUBJECT = "Confirm your email address for FrameForge"


def compose_verification(
    recipient: str, link: str, expires_at: dt.datetime, sender: str
) -> EmailMessage:
    """The mail with the link that confirms ``recipient`` (frameforge_api.services.verification):
    a fixed subject and text around the link, nothing the user typed. Its Message-ID is the
    same for every delivery of one link, so a mail client shows a duplicate as one message."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = recipient
    message["Date"] = email.utils.format_datetime(utcnow())
    digest = hashlib.sha256(link.encode()).hexdigest()[:32]
    message["Message-ID"] = f"<verify.{digest}@{_domain(sender)}>"
    message["Subject"] = VERIFICATION_SUBJECT
    message.set_content(
        "Hello,\n\n"
        "someone, probably you, made a FrameForge account with this address. Follow this "
        f"link to confirm it (it works until {expires_at:%Y-%m-%d %H:%M} UTC):\n\n"
        f"{link}\n\n"
        "FrameForge sends no other email to this address until it is confirmed. If you did "
        "not make the account, ignore this message.\n",
        cte="7bit",  # ASCII, and the link stays one line
    )
    return message


def _transfer_encoding(text: str) -> str:
    """7bit when it can be (the link stays one line, copyable from a raw .eml), else
    quoted-printable, which any SMTP server takes."""
    fits = all(len(line) < SMTP_MAX_LINE for line in text.splitlines())
    return "7bit" if text.isascii() and fits else "quoted-printable"


def _completed_text(notice: JobNotice, download: SignedUrl) -> str:
    count = notice.frame_count or 0
    frames = "1 frame" if count == 1 else f"{count} frames"
    return (
        f"Hello,\n\n"
        f'the frames of your video "{_one_line(notice.filename)}" are ready: {frames} in one ZIP, '
        f"with manifest.json.\n\n"
        f"Download them (the link works until {download.expires_at:%Y-%m-%d %H:%M} UTC):\n"
        f"{download.url}\n\n"
        f"Job {notice.job_id}\n"
    )


def _failed_text(notice: JobNotice, page_url: str, retry_url: str) -> str:
    return (
        f"Hello,\n\n"
        f'we could not extract frames from your video "{_one_line(notice.filename)}":\n\n'
        f"    {_one_line(notice.error or 'no reason was given')}\n\n"
        f"If the video can be processed after all (for instance once a service is back), "
        f"retry the job on FrameForge's page (Retry, once signed in):\n\n"
        f"    {page_url}\n\n"
        f"A video that is damaged or not a video will fail again: upload a new one instead.\n\n"
        f"Job {notice.job_id} (for developers: POST {retry_url} with an access token)\n"
    )


def _one_line(text: str) -> str:
    """The user's file name (or a reason that may quote it) on one line, in a header or the
    text: a line break would end a header, or start a paragraph of the sender's choosing in
    the text. Line breaks, tabs and other control or separator characters become spaces."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def _domain(sender: str) -> str:
    return email.utils.parseaddr(sender)[1].rpartition("@")[2] or "localhost"


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


def transport(settings: WorkerSettings) -> MailTransport:
    """SMTP when ``FRAMEFORGE_SMTP_HOST`` is set, else the data dir's mail folder."""
    if settings.smtp_host:
        password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
        return SmtpTransport(settings.smtp_host, settings.smtp_port, settings.smtp_user, password)
    return DirectoryTransport(settings.home / "mail")
