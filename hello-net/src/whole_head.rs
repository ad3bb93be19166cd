//! The HTTP head of a WebSocket handshake, handed to tungstenite whole.
//!
//! tungstenite's handshake gives up ("Attack attempt detected") once a head has taken more than
//! 64 reads averaging under 128 bytes. A request or an answer that arrives one byte per TCP
//! segment, as through a proxy that slices, is then refused although it came well within the
//! handshake timeout. [`WholeHead`] gathers the head itself, up to the blank line that ends it,
//! and hands it over in one read. What the library's check stands in for, an unbounded
//! handshake, stays bounded: in time by the handshake timeout, which the caller puts around the
//! handshake as before, and in size by [`MAX_HEAD_BYTES`].

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use crate::endpoint::AcceptedStream;

/// The largest handshake head, request or answer, that is read: 16 KiB, four times what the
/// protocol's headers take with a long name and many extra headers.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// A stream whose first read hands over the whole HTTP head (and whatever came with it); every
/// read after that, and every write, goes straight through.
pub struct WholeHead<S> {
    inner: S,
    /// The head while it is gathered, then what of it (and of what came after it) is still to
    /// be handed over, from `handed` on.
    gathered: Vec<u8>,
    handed: usize,
    stage: Stage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Gathering,
    Handing,
    Through,
}

impl<S> WholeHead<S> {
    /// `inner`, whose head is still to come.
    pub fn new(inner: S) -> Self {
        WholeHead {
            inner,
            gathered: Vec::new(),
            handed: 0,
            stage: Stage::Gathering,
        }
    }

    /// The stream under it.
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The stream under it.
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }
}

/// Whether `bytes` hold the blank line that ends an HTTP head, looking only from `from` on.
fn ends_head(bytes: &[u8], from: usize) -> bool {
    bytes[from..].windows(4).any(|window| window == b"\r\n\r\n")
}

impl<S: AsyncRead + Unpin> WholeHead<S> {
    /// Reads the head now, up to the blank line that ends it (or to the end of the peer's side),
    /// and returns it with whatever came after it in the same reads; the reads that follow hand
    /// it all over just the same. Empty when the peer sent nothing at all.
    ///
    /// # Errors
    /// A failed read, or a head over [`MAX_HEAD_BYTES`].
    pub async fn head(&mut self) -> io::Result<&[u8]> {
        poll_fn(|cx| self.poll_gather(cx)).await?;
        Ok(match self.stage {
            Stage::Handing => &self.gathered[self.handed..],
            Stage::Gathering | Stage::Through => &[],
        })
    }

    /// Reads until the head is whole (or the peer's side ended), then is ready.
    fn poll_gather(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.stage == Stage::Gathering {
            let mut chunk = [0; 1024];
            let mut read = ReadBuf::new(&mut chunk);
            ready!(Pin::new(&mut self.inner).poll_read(cx, &mut read))?;
            let fresh = read.filled();
            if fresh.is_empty() {
                // The peer ended its side within the head: hand over what came, then the end,
                // and let the handshake say what is missing.
                self.stage = if self.gathered.is_empty() {
                    Stage::Through
                } else {
                    Stage::Handing
                };
                break;
            }
            let searched = self.gathered.len().saturating_sub(3);
            self.gathered.extend_from_slice(fresh);
            if ends_head(&self.gathered, searched) {
                self.stage = Stage::Handing;
            } else if self.gathered.len() > MAX_HEAD_BYTES {
                return Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("the handshake's HTTP head is over {MAX_HEAD_BYTES} bytes"),
                )));
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for WholeHead<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_gather(cx))?;
        if this.stage == Stage::Handing {
            let rest = &this.gathered[this.handed..];
            let count = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..count]);
            this.handed += count;
            if this.handed == this.gathered.len() {
                this.gathered = Vec::new();
                this.handed = 0;
                this.stage = Stage::Through;
            }
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for WholeHead<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl<S: AcceptedStream> AcceptedStream for WholeHead<S> {
    fn tcp(&self) -> &TcpStream {
        self.inner.tcp()
    }
}
