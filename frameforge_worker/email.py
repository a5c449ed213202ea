"""The emails the worker sends: a job's outcome, and the link that confirms a new address
(they leave through ``frameforge_core.mail``'s transports)."""

from __future__ import annotations

import datetime as dt
import hashlib
from email.message import EmailMessage

from frameforge_core.mail import addressed
from frameforge_core.models import utcnow
from frameforge_core.signing import SignedUrl
from frameforge_worker.notice import JobNotice, Links

TRACE_HEADER = "X-FrameForge-Trace-Id"
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
    message = addressed(sender, notice.recipient, notice.event_id.replace(":", "."), utcnow())
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
    digest = hashlib.sha256(link.encode()).hexdigest()[:32]
    message = addressed(sender, recipient, f"verify.{digest}", utcnow())
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
