//! A minimal HTTP/1.1 keep-alive client for the peak measurements: one TCP connection, one request at a
//! time, the request bytes prepared in advance. It reads a response by `Content-Length`, chunked transfer
//! encoding or, lacking both, until the server closes. Why not reqwest here: at tens of thousands of requests
//! per second on a 2-core machine the client shares the CPU with the server it measures, and hyper's client
//! (pool, per-request header maps, futures) costs several times what this loop does; the less the client
//! takes, the more the figure says about the server.

use std::net::SocketAddr;

use anyhow::{Context as _, Result, anyhow, bail};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// `host:port` from `http://host:port/...` (IPv4, IPv6 in brackets, or a name to resolve).
pub async fn resolve(url: &str) -> Result<SocketAddr> {
    let rest = url.strip_prefix("http://").ok_or_else(|| anyhow!("`{url}` is not an http:// URL"))?;
    let authority = rest.split('/').next().unwrap_or(rest);
    let mut addresses =
        tokio::net::lookup_host(authority).await.with_context(|| format!("cannot resolve `{authority}`"))?;
    addresses.next().ok_or_else(|| anyhow!("`{authority}` resolves to no address"))
}

/// A GET request, ready to write.
pub fn get_request(address: SocketAddr, path: &str, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nAccept: application/json\r\n");
    for (name, value) in headers {
        request.push_str(name);
        request.push_str(": ");
        request.push_str(value);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    request.into_bytes()
}

/// A response: status and the whole (de-chunked) body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

impl Response {
    /// The first 300 characters of the body, for error messages.
    pub fn snippet(&self) -> String {
        String::from_utf8_lossy(&self.body).chars().take(300).collect()
    }
}

/// One keep-alive connection.
#[derive(Debug)]
pub struct Connection {
    stream: TcpStream,
    /// Bytes read and not consumed yet.
    buffer: Vec<u8>,
    /// The server said `Connection: close`, or ended the body by closing: reconnect before the next request.
    closed: bool,
}

const READ_CHUNK: usize = 16 * 1024;

impl Connection {
    pub async fn open(address: SocketAddr) -> Result<Self> {
        let stream =
            TcpStream::connect(address).await.with_context(|| format!("cannot connect to {address}"))?;
        stream.set_nodelay(true)?;
        Ok(Self { stream, buffer: Vec::with_capacity(READ_CHUNK), closed: false })
    }

    /// Whether the connection can carry another request.
    pub fn is_open(&self) -> bool {
        !self.closed
    }

    /// Reads more bytes into the buffer; false at end of stream.
    async fn fill(&mut self) -> Result<bool> {
        let mut chunk = [0_u8; READ_CHUNK];
        let read = self.stream.read(&mut chunk).await.context("reading the response")?;
        if read == 0 {
            return Ok(false);
        }
        self.buffer.extend_from_slice(chunk.get(..read).unwrap_or_default());
        Ok(true)
    }

    /// Reads until the buffer holds at least `len` bytes.
    async fn fill_to(&mut self, len: usize) -> Result<()> {
        while self.buffer.len() < len {
            if !self.fill().await? {
                self.closed = true;
                bail!("the server closed the connection in the middle of a response");
            }
        }
        Ok(())
    }

    /// Sends one request and reads its response.
    pub async fn send(&mut self, request: &[u8]) -> Result<Response> {
        if self.closed {
            bail!("the connection is closed");
        }
        if let Err(error) = self.stream.write_all(request).await {
            self.closed = true;
            return Err(error).context("writing the request");
        }
        let result = self.read_response().await;
        if result.is_err() {
            self.closed = true;
        }
        result
    }

    async fn read_response(&mut self) -> Result<Response> {
        let head_end = loop {
            if let Some(at) = find(&self.buffer, b"\r\n\r\n") {
                break at;
            }
            if !self.fill().await? {
                self.closed = true;
                bail!("the server closed the connection before answering");
            }
        };
        let head = std::str::from_utf8(self.buffer.get(..head_end).unwrap_or_default())
            .context("the response head is not UTF-8")?;
        let mut lines = head.split("\r\n");
        let status_line = lines.next().unwrap_or_default();
        let status: u16 = status_line
            .strip_prefix("HTTP/1.")
            .and_then(|rest| rest.get(2..5))
            .and_then(|code| code.parse().ok())
            .ok_or_else(|| anyhow!("not an HTTP/1.x status line: `{status_line}`"))?;
        let (mut length, mut chunked, mut close) = (None, false, false);
        for line in lines {
            let Some((name, value)) = line.split_once(':') else { continue };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>().with_context(|| format!("Content-Length `{value}`"))?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.to_ascii_lowercase().contains("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                close = value.eq_ignore_ascii_case("close");
            }
        }
        let body_start = head_end + 4;
        let (body, consumed) = if chunked {
            self.read_chunked(body_start).await?
        } else if let Some(length) = length {
            self.fill_to(body_start + length).await?;
            (
                self.buffer.get(body_start..body_start + length).unwrap_or_default().to_vec(),
                body_start + length,
            )
        } else if status == 204 || status == 304 || (100..200).contains(&status) {
            (Vec::new(), body_start)
        } else {
            // The body runs to the end of the stream.
            while self.fill().await? {}
            close = true;
            (self.buffer.get(body_start..).unwrap_or_default().to_vec(), self.buffer.len())
        };
        self.buffer.drain(..consumed.min(self.buffer.len()));
        if close {
            self.closed = true;
        }
        Ok(Response { status, body })
    }

    /// Decodes a chunked body that starts at `at`; returns it and where the response ends.
    async fn read_chunked(&mut self, mut at: usize) -> Result<(Vec<u8>, usize)> {
        let mut body = Vec::new();
        loop {
            let line_end = loop {
                if let Some(end) = self.buffer.get(at..).and_then(|rest| find(rest, b"\r\n")) {
                    break at + end;
                }
                self.fill_to(self.buffer.len() + 1).await?;
            };
            let line = std::str::from_utf8(self.buffer.get(at..line_end).unwrap_or_default())
                .context("a chunk size line is not UTF-8")?;
            let size_text = line.split(';').next().unwrap_or_default().trim();
            let size =
                usize::from_str_radix(size_text, 16).with_context(|| format!("chunk size `{line}`"))?;
            at = line_end + 2;
            if size == 0 {
                // Trailers, if any, end with an empty line.
                loop {
                    let end = loop {
                        if let Some(end) = self.buffer.get(at..).and_then(|rest| find(rest, b"\r\n")) {
                            break at + end;
                        }
                        self.fill_to(self.buffer.len() + 1).await?;
                    };
                    let empty = end == at;
                    at = end + 2;
                    if empty {
                        return Ok((body, at));
                    }
                }
            }
            self.fill_to(at + size + 2).await?;
            body.extend_from_slice(self.buffer.get(at..at + size).unwrap_or_default());
            at += size + 2;
        }
    }
}

/// Where `needle` first occurs in `haystack`.
pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() {
        return Some(0);
    }
    haystack.windows(needle.len()).position(|window| window == needle)
}

#[cfg(test)]
mod tests {
    use tokio::io::AsyncWriteExt as _;
    use tokio::net::TcpListener;

    use super::*;

    /// A server that answers each request (read until a blank line) with the next canned response.
    async fn canned(responses: Vec<&'static [u8]>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut pending = Vec::new();
            for response in responses {
                while find(&pending, b"\r\n\r\n").is_none() {
                    let mut chunk = [0_u8; 1024];
                    let read = socket.read(&mut chunk).await.unwrap();
                    assert!(read > 0);
                    pending.extend_from_slice(&chunk[..read]);
                }
                let end = find(&pending, b"\r\n\r\n").unwrap() + 4;
                pending.drain(..end);
                // Split the response to exercise partial reads.
                let (first, second) = response.split_at(response.len() / 2);
                socket.write_all(first).await.unwrap();
                socket.flush().await.unwrap();
                tokio::task::yield_now().await;
                socket.write_all(second).await.unwrap();
            }
        });
        address
    }

    #[tokio::test]
    async fn reads_length_chunked_and_close_delimited_bodies_on_one_connection() {
        let address = canned(vec![
            b"HTTP/1.1 200 OK\r\ncontent-length: 17\r\n\r\n{\"hello\":\"world\"}",
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n4;x=1\r\nWiki\r\n5\r\npedia\r\n0\r\nX: y\r\n\r\n",
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.0 500 Oops\r\n\r\nthe end",
        ])
        .await;
        let mut connection = Connection::open(address).await.unwrap();
        let request = get_request(address, "/", &[("Authorization", "Bearer x")]);
        let first = connection.send(&request).await.unwrap();
        assert_eq!((first.status, first.body.as_slice()), (200, &b"{\"hello\":\"world\"}"[..]));
        let second = connection.send(&request).await.unwrap();
        assert_eq!((second.status, second.body.as_slice()), (404, &b"Wikipedia"[..]));
        let third = connection.send(&request).await.unwrap();
        assert_eq!((third.status, third.body.len()), (204, 0));
        assert!(connection.is_open());
        let fourth = connection.send(&request).await.unwrap();
        assert_eq!((fourth.status, fourth.body.as_slice()), (500, &b"the end"[..]));
        assert!(!connection.is_open());
        assert!(connection.send(&request).await.is_err());
    }

    #[test]
    fn requests_carry_host_and_headers() {
        let address: SocketAddr = "127.0.0.1:8080".parse().unwrap();
        let request =
            String::from_utf8(get_request(address, "/me", &[("Authorization", "Bearer t")])).unwrap();
        assert_eq!(
            request,
            "GET /me HTTP/1.1\r\nHost: 127.0.0.1:8080\r\nAccept: application/json\r\nAuthorization: Bearer t\r\n\r\n"
        );
    }
}
