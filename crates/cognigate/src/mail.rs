//! Delivering the engine's outbox by SMTP (`lettre`), when `mail.delivery = "smtp"`.
//!
//! Emails go to the relay; SMS messages stay in the outbox (there is no SMS gateway yet) and say so in the
//! log. Secrets (the relay password) are resolved at start-up and never logged.

use async_trait::async_trait;
use cognigate_config::{MailConfig, SmtpSecurity};
use cognigate_engine::model::OutboxMessage;
use cognigate_engine::triggers::Delivery;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

/// Sends outbox emails through an SMTP relay.
#[derive(Debug)]
pub struct SmtpDelivery {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpDelivery {
    /// Builds the transport from the configuration; `password` is the resolved relay password, if any.
    pub fn new(mail: &MailConfig, password: Option<String>) -> anyhow::Result<Self> {
        let smtp =
            mail.smtp.as_ref().ok_or_else(|| anyhow::anyhow!("mail.smtp is required for SMTP delivery"))?;
        let builder = match smtp.security {
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        };
        let mut builder = builder.port(smtp.port).timeout(Some(std::time::Duration::from_secs(10)));
        if let (Some(username), Some(password)) = (&smtp.username, password) {
            builder = builder.credentials(Credentials::new(username.clone(), password));
        }
        Ok(Self { transport: builder.build(), from: mail.from.parse()? })
    }
}

#[async_trait]
impl Delivery for SmtpDelivery {
    /// Email goes out by SMTP and is not kept; a text message has no gateway here, so it stays (sealed) in
    /// the outbox.
    fn keeps_in_outbox(&self, message: &OutboxMessage) -> bool {
        message.channel != "email"
    }

    async fn deliver(&self, message: &OutboxMessage) -> Result<(), String> {
        if message.channel != "email" {
            tracing::warn!(kind = %message.kind, "no SMS gateway: the message stays in the outbox");
            return Ok(());
        }
        let to: Mailbox =
            message.recipient.parse().map_err(|_| "the recipient is not an email address".to_owned())?;
        let email = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&message.subject)
            .body(message.body.clone())
            .map_err(|error| error.to_string())?;
        self.transport.send(email).await.map(|_| ()).map_err(|error| {
            tracing::error!(%error, kind = %message.kind, "SMTP delivery failed");
            "the mail relay refused or could not be reached".to_owned()
        })
    }
}

#[cfg(test)]
mod tests {
    use cognigate_config::{MailDelivery, SmtpConfig};
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    use tokio::net::TcpListener;

    use super::*;

    /// A minimal SMTP relay on loopback that accepts one message and hands back what it received.
    async fn fake_relay() -> (u16, tokio::task::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let handle = tokio::spawn(async move {
            let (socket, _) = listener.accept().await.unwrap();
            let (read, mut write) = socket.into_split();
            let mut lines = BufReader::new(read).lines();
            let mut transcript = String::new();
            write.write_all(b"220 fake ESMTP\r\n").await.unwrap();
            let mut in_data = false;
            while let Ok(Some(line)) = lines.next_line().await {
                transcript.push_str(&line);
                transcript.push('\n');
                if in_data {
                    if line == "." {
                        in_data = false;
                        write.write_all(b"250 queued\r\n").await.unwrap();
                    }
                    continue;
                }
                let command = line.to_ascii_uppercase();
                let reply: &[u8] = if command.starts_with("EHLO") {
                    b"250-fake\r\n250 8BITMIME\r\n"
                } else if command.starts_with("DATA") {
                    in_data = true;
                    b"354 go ahead\r\n"
                } else if command.starts_with("QUIT") {
                    write.write_all(b"221 bye\r\n").await.unwrap();
                    break;
                } else {
                    b"250 ok\r\n"
                };
                write.write_all(reply).await.unwrap();
            }
            transcript
        });
        (port, handle)
    }

    fn config(port: u16) -> MailConfig {
        MailConfig {
            delivery: MailDelivery::Smtp,
            from: "no-reply@example.com".into(),
            smtp: Some(SmtpConfig {
                host: "127.0.0.1".into(),
                port,
                security: SmtpSecurity::None,
                username: None,
                password: None,
            }),
        }
    }

    fn message(channel: &str) -> OutboxMessage {
        OutboxMessage {
            id: "m1".into(),
            pool_id: "local_x".into(),
            channel: channel.into(),
            recipient: "ann@example.com".into(),
            kind: "sign_up_code".into(),
            subject: "Your code".into(),
            body: "Confirm with 123456".into(),
            created_ms: 0,
            sealed: false,
        }
    }

    #[tokio::test]
    async fn emails_reach_the_relay() {
        let (port, relay) = fake_relay().await;
        let delivery = SmtpDelivery::new(&config(port), None).unwrap();
        delivery.deliver(&message("email")).await.unwrap();
        drop(delivery);
        let transcript =
            tokio::time::timeout(std::time::Duration::from_secs(10), relay).await.unwrap().unwrap();
        assert!(transcript.contains("MAIL FROM:<no-reply@example.com>"), "{transcript}");
        assert!(transcript.contains("RCPT TO:<ann@example.com>"), "{transcript}");
        assert!(transcript.contains("Subject: Your code"), "{transcript}");
        assert!(transcript.contains("Confirm with 123456"), "{transcript}");
    }

    #[tokio::test]
    async fn an_unreachable_relay_is_an_error_and_sms_stays_in_the_outbox() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        drop(listener);
        let delivery = SmtpDelivery::new(&config(port), None).unwrap();
        assert!(delivery.deliver(&message("email")).await.is_err());
        assert!(delivery.deliver(&message("sms")).await.is_ok());
    }
}
