//! TLS for Hello WebSocket, in one place: the certificates the project makes for itself
//! (rcgen), and the rustls configurations of both sides. No OpenSSL anywhere; the crypto
//! provider is *ring*.
//!
//! # Layout
//! - [`certs`]: the certificates folder (`ca.crt`, `server.crt`, `client.crt` and their keys),
//!   generated when missing and reused when present.
//! - [`config`]: rustls server and client configurations from PEM files, mutual TLS, the
//!   `--insecure` verifier, and plain-language explanations of handshake failures.

pub mod certs;
pub mod config;

pub use certs::{CertFiles, CertsReport, Validity, ensure_certs};
pub use config::{
    ClientAuth, Identity, ServerTrust, client_config, explain_handshake_error, peer_common_name,
    server_config,
};

/// A TLS setup that cannot be used, with the file and the reason.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    /// A file was read but holds no usable PEM of the kind expected.
    #[error("{path}: {what}")]
    Pem {
        path: std::path::PathBuf,
        what: String,
    },
    /// Generating a certificate failed.
    #[error("generating certificates: {0}")]
    Generate(#[from] rcgen::Error),
    /// rustls refused the certificates or keys.
    #[error("{0}")]
    Rustls(#[from] rustls::Error),
}
