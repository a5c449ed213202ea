"""The mail transports the API and the worker send through: a real SMTP server, and .eml
files in the data dir."""

from email import message_from_bytes, policy
from email.message import EmailMessage

import pytest

from frameforge_core import mail
from frameforge_core.mail import DeliveryError
from frameforge_core.settings import DEFAULT_SENDER, MailSettings


def test_without_smtp_host_emails_become_eml_files_in_the_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("FRAMEFORGE_HOME", str(tmp_path))
    for name in ("FRAMEFORGE_SMTP_HOST", "SMTP_HOST"):  # either name sets it
        monkeypatch.delenv(name, raising=False)
    transport = mail.transport(MailSettings())
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
    transport = mail.transport(MailSettings())
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
