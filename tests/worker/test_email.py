"""The email's content, and its two transports: a real SMTP server, and .eml files."""

import datetime as dt
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select

from frameforge_core import signing
from frameforge_core.models import NotificationLog
from frameforge_worker import email as mail
from frameforge_worker import notice
from frameforge_worker.errors import DeliveryError
from frameforge_worker.settings import DEFAULT_SENDER, WorkerSettings
from tests.worker import support


def test_completed_email_has_frame_count_week_long_download_link_and_trace(
    sessions, notifier, smtp_server
):
    job = support.add_job(sessions, "completed")

    assert notifier.handle(support.outcome(job), "trace-42") == []

    [message] = smtp_server.messages
    assert smtp_server.recipients == [["ada@example.com"]]
    assert message["Subject"] == "Your frames are ready"
    assert 'the frames of your video "holiday.mp4" are ready' in message.get_content()
    assert message["From"] == DEFAULT_SENDER
    assert message[mail.TRACE_HEADER] == "trace-42"
    text = message.get_content()
    assert "12 frames" in text
    assert f"Job {job.id}" in text
    [link] = [line for line in text.splitlines() if line.startswith(support.PUBLIC_URL)]
    assert urlsplit(link).path == f"/api/v1/downloads/{job.id}"
    query = parse_qs(urlsplit(link).query)
    expires = int(query["expires"][0])
    now = dt.datetime.now(dt.UTC)
    signing.check_signature(  # the API accepts it ...
        support.api_settings(), f"download:{job.id}", expires, query["signature"][0], now
    )
    assert abs(expires - (now + dt.timedelta(days=7)).timestamp()) < 60  # ... for a week


def test_failed_email_gives_the_reason_and_how_to_retry(sessions, notifier, smtp_server):
    job = support.add_job(sessions, "failed")

    notifier.handle(support.outcome(job), None)

    [message] = smtp_server.messages
    assert message["Subject"] == "We could not extract frames from your video"
    assert message[mail.TRACE_HEADER] == "trace-of-the-request"  # the job's, when none came
    text = message.get_content()
    assert "the file is not a video (no video stream)" in text
    assert "retry the job on FrameForge's page (Retry, once signed in):" in text
    assert f"    {support.PUBLIC_URL}/#job={job.id}" in text.splitlines()  # a link to click
    assert "Bearer" not in text
    assert f"for developers: POST {support.PUBLIC_URL}/api/v1/videos/jobs/{job.id}/retry" in text
    assert "downloads" not in text


def test_message_id_is_stable_per_event(sessions, links):
    job = support.add_job(sessions, "completed")
    with sessions() as session:
        about = notice.load(session, support.outcome(job), None)
    assert about is not None
    first, second = (mail.compose(about, DEFAULT_SENDER, links) for _ in range(2))
    assert (
        first["Message-ID"]
        == second["Message-ID"]
        == (f"<{job.id}.0.video.job.completed@localhost>")
    )


def test_without_smtp_host_emails_become_eml_files_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMEFORGE_HOME", str(tmp_path))
    for name in ("FRAMEFORGE_SMTP_HOST", "SMTP_HOST"):  # either name sets it
        monkeypatch.delenv(name, raising=False)
    transport = mail.transport(WorkerSettings())
    message = EmailMessage()
    message["To"] = "ada@example.com"
    message.set_content("hello")

    detail = transport.send(message)

    [written] = (tmp_path / "mail").glob("*.eml")
    assert detail == f"written to {written}"
    parsed = message_from_bytes(written.read_bytes(), policy=policy.default)
    assert parsed.get_content() == "hello\n"
    assert not list((tmp_path / "mail").glob(".*"))  # no partial file left behind


def test_smtp_host_selects_smtp(monkeypatch):
    monkeypatch.setenv("FRAMEFORGE_SMTP_HOST", "mail.example.com")
    transport = mail.transport(WorkerSettings())
    assert isinstance(transport, mail.SmtpTransport)
    assert (transport.host, transport.port) == ("mail.example.com", 587)


def test_smtp_reply_is_kept_and_refusals_are_transient(smtp_server):
    transport = mail.SmtpTransport(smtp_server.host, smtp_server.port)
    message = EmailMessage()
    message["From"], message["To"] = DEFAULT_SENDER, "ada@example.com"
    message.set_content("hello")

    assert transport.send(message) == "250 2.0.0 Ok: queued as Q1"
    smtp_server.refuse(1)
    with pytest.raises(DeliveryError, match=r"451 4\.3\.0") as refused:
        transport.send(message)
    assert not refused.value.permanent


def test_unreachable_smtp_server_is_a_transient_failure(smtp_server):
    transport = mail.SmtpTransport("127.0.0.1", 1)  # nothing listens on port 1
    message = EmailMessage()
    message["From"], message["To"] = DEFAULT_SENDER, "ada@example.com"
    with pytest.raises(DeliveryError, match=r"127\.0\.0\.1:1") as failed:
        transport.send(message)
    assert not failed.value.permanent


def test_a_file_name_cannot_add_headers(sessions, notifier, smtp_server):
    job = support.add_job(sessions, filename="evil.mp4\r\nBcc: victim@example.com")

    assert notifier.handle(support.outcome(job), "t") == []

    [message] = smtp_server.messages
    assert message["Subject"] == "Your frames are ready"
    assert message["Bcc"] is None
    assert smtp_server.recipients == [["ada@example.com"]]
    assert '"evil.mp4 Bcc: victim@example.com"' in message.get_content()  # one quoted line


PHISHING = "URGENT: your payroll account is locked - confirm at https://evil.example/x"


def test_a_file_name_never_makes_the_subject(sessions, notifier, smtp_server):
    """The review's phishing: a file name as the subject. It is the text's only, quoted,
    and the mail goes to the (verified) owner who named the file, nobody else."""
    for status in ("completed", "failed"):
        job = support.add_job(sessions, status, filename=PHISHING)
        assert notifier.handle(support.outcome(job), "t") == []
    subjects = [message["Subject"] for message in smtp_server.messages]
    assert subjects == [mail.COMPLETED_SUBJECT, mail.FAILED_SUBJECT]
    for message in smtp_server.messages:
        assert "URGENT" not in message["Subject"]
        assert f'"{PHISHING}"' in message.get_content()


def test_no_email_goes_to_an_unverified_address_the_webhook_still_does(
    sessions, notifier, smtp_server, monkeypatch
):
    sent: list[str] = []
    monkeypatch.setattr(notifier.webhooks, "send", lambda about: sent.append(about.job_id) or "200")
    job = support.add_job(
        sessions, email="unverified@example.com", verified=False, callback_url="https://h.test/x"
    )
    assert notifier.handle(support.outcome(job), "t") == []
    assert smtp_server.messages == []  # dropped, not kept for later
    assert sent == [job.id]
    with sessions() as session:
        channels = session.scalars(select(NotificationLog.channel)).all()
    assert channels == ["webhook"]


@pytest.mark.parametrize(
    ("filename", "encoding"), [("holiday.mp4", "7bit"), ("férias.mp4", "quoted-printable")]
)
def test_the_link_stays_on_one_line_when_the_text_allows(sessions, links, filename, encoding):
    job = support.add_job(sessions, filename=filename)
    with sessions() as session:
        about = notice.load(session, support.outcome(job), None)
    assert about is not None

    message = mail.compose(about, DEFAULT_SENDER, links)

    assert message["Content-Transfer-Encoding"] == encoding
    parsed = message_from_bytes(message.as_bytes(), policy=policy.default)
    assert filename in parsed.get_content()
    if encoding == "7bit":  # the whole signed link on one line of the raw message
        raw_lines = message.as_string().splitlines()
        assert any(line.startswith(support.PUBLIC_URL) and "signature=" in line
                   for line in raw_lines)  # fmt: skip


@pytest.mark.parametrize("event", ["completed", "failed"])
def test_a_file_name_cannot_add_a_paragraph_to_the_text(sessions, links, event):
    evil = "clip.mp4\r\n\r\nYour account is locked: log in at https://evil.example\u2028now\x00"
    job = support.add_job(sessions, event, filename=evil)
    with sessions() as session:
        about = notice.load(session, support.outcome(job), None)
    assert about is not None

    text = mail.compose(about, DEFAULT_SENDER, links).get_content()

    [line] = [line for line in text.splitlines() if "clip.mp4" in line]
    assert "clip.mp4 Your account is locked: log in at https://evil.example now" in line
    assert not any(line.startswith("Your account") for line in text.splitlines())
    assert "\x00" not in text
    assert "\u2028" not in text
