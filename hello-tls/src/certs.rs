//! The certificates folder (PROTOCOL.md section 8): a local CA, a server certificate for
//! `localhost`, `127.0.0.1`, `::1` and any extra names, and a client certificate for mutual TLS.
//!
//! Files that are there are reused, so a CA a user has trusted stays trusted across restarts;
//! what is missing, expired, or (for the server) does not cover a requested name is made anew.

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::{FromDer, X509Certificate};

use crate::TlsError;

/// The names every server certificate covers.
pub const DEFAULT_SERVER_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The files of a certificates folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertFiles {
    pub dir: PathBuf,
}

impl CertFiles {
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        CertFiles { dir: dir.into() }
    }
    pub fn ca_cert(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }
    pub fn ca_key(&self) -> PathBuf {
        self.dir.join("ca.key")
    }
    pub fn server_cert(&self) -> PathBuf {
        self.dir.join("server.crt")
    }
    pub fn server_key(&self) -> PathBuf {
        self.dir.join("server.key")
    }
    pub fn client_cert(&self) -> PathBuf {
        self.dir.join("client.crt")
    }
    pub fn client_key(&self) -> PathBuf {
        self.dir.join("client.key")
    }
}

/// When certificates are valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// From an hour ago (to forgive clocks a little apart) for `days` days.
    pub fn days_from_now(days: i64) -> Self {
        let now = OffsetDateTime::now_utc();
        Validity {
            not_before: now - Duration::hours(1),
            not_after: now + Duration::days(days),
        }
    }

    /// Expired yesterday: for testing that clients refuse it.
    pub fn expired() -> Self {
        let now = OffsetDateTime::now_utc();
        Validity {
            not_before: now - Duration::days(30),
            not_after: now - Duration::days(1),
        }
    }
}

/// What [`ensure_certs`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CertsReport {
    /// The files it wrote.
    pub written: Vec<PathBuf>,
    /// The files it found usable and left alone.
    pub reused: Vec<PathBuf>,
}

/// Makes sure `files.dir` holds a usable CA, a server certificate covering
/// [`DEFAULT_SERVER_NAMES`] and `extra_names`, and a client certificate, generating what is
/// missing or unusable (expired, or not covering a name). With `force`, generates all anew.
///
/// The CA is valid for ten years, the others for two. Keys are written with mode 0600.
///
/// # Errors
/// A file that cannot be read, parsed or written, or a name that cannot go in a certificate.
pub fn ensure_certs(
    files: &CertFiles,
    extra_names: &[String],
    force: bool,
) -> Result<CertsReport, TlsError> {
    ensure_certs_valid(
        files,
        extra_names,
        force,
        Validity::days_from_now(3650),
        Validity::days_from_now(730),
    )
}

/// [`ensure_certs`] with the validity of each certificate chosen, for tests.
///
/// # Errors
/// As [`ensure_certs`].
pub fn ensure_certs_valid(
    files: &CertFiles,
    extra_names: &[String],
    force: bool,
    ca_validity: Validity,
    leaf_validity: Validity,
) -> Result<CertsReport, TlsError> {
    fs::create_dir_all(&files.dir).map_err(|source| TlsError::Io {
        path: files.dir.clone(),
        source,
    })?;
    let mut report = CertsReport::default();
    let ca_usable = !force && files.ca_key().exists() && usable(&files.ca_cert(), &[])?;
    let (ca_cert_pem, ca_key) = if ca_usable {
        report.reused.extend([files.ca_cert(), files.ca_key()]);
        let key = KeyPair::from_pem(&read(&files.ca_key())?)?;
        (read(&files.ca_cert())?, key)
    } else {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        // A name of its own, so that two generated CAs are never mistaken for one another.
        let unique = uuid::Uuid::new_v4().simple().to_string();
        params.distinguished_name =
            common_name(&format!("hello-websocket local CA {}", &unique[..8]));
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        set_validity(&mut params, ca_validity);
        let pem = params.self_signed(&key)?.pem();
        write(&files.ca_cert(), &pem, false, &mut report)?;
        write(&files.ca_key(), &key.serialize_pem(), true, &mut report)?;
        (pem, key)
    };
    let issuer = Issuer::from_ca_cert_pem(&ca_cert_pem, ca_key)?;

    let mut server_names: Vec<String> = DEFAULT_SERVER_NAMES.map(str::to_owned).to_vec();
    for name in extra_names {
        if !server_names.contains(name) {
            server_names.push(name.clone());
        }
    }
    let leaves = [
        (
            files.server_cert(),
            files.server_key(),
            server_names.clone(),
            "localhost",
            ExtendedKeyUsagePurpose::ServerAuth,
        ),
        (
            files.client_cert(),
            files.client_key(),
            Vec::new(),
            "hello-client",
            ExtendedKeyUsagePurpose::ClientAuth,
        ),
    ];
    for (cert_path, key_path, names, cn, purpose) in leaves {
        if ca_usable && key_path.exists() && usable(&cert_path, &names)? {
            report.reused.extend([cert_path, key_path]);
            continue;
        }
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(names)?;
        params.distinguished_name = common_name(cn);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![purpose];
        params.use_authority_key_identifier_extension = true;
        set_validity(&mut params, leaf_validity);
        let cert = params.signed_by(&key, &issuer)?;
        write(&cert_path, &cert.pem(), false, &mut report)?;
        write(&key_path, &key.serialize_pem(), true, &mut report)?;
    }
    Ok(report)
}

fn common_name(cn: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, cn);
    name
}

fn set_validity(params: &mut CertificateParams, validity: Validity) {
    params.not_before = validity.not_before;
    params.not_after = validity.not_after;
}

/// Whether the certificate at `path` exists, parses, is valid now, and covers every name.
fn usable(path: &Path, names: &[String]) -> Result<bool, TlsError> {
    if !path.exists() {
        return Ok(false);
    }
    let pem = read(path)?;
    let Ok((_, pem)) = x509_parser::pem::parse_x509_pem(pem.as_bytes()) else {
        return Ok(false);
    };
    let Ok((_, cert)) = X509Certificate::from_der(&pem.contents) else {
        return Ok(false);
    };
    if !cert.validity().is_valid() {
        return Ok(false);
    }
    let covered: Vec<String> = cert
        .subject_alternative_name()
        .ok()
        .flatten()
        .map(|san| {
            san.value
                .general_names
                .iter()
                .filter_map(|name| match name {
                    GeneralName::DNSName(dns) => Some((*dns).to_owned()),
                    GeneralName::IPAddress(bytes) => ip_of(bytes).map(|ip| ip.to_string()),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(names.iter().all(|name| {
        let wanted = name
            .parse::<IpAddr>()
            .map(|ip| ip.to_string())
            .unwrap_or_else(|_| name.to_ascii_lowercase());
        covered
            .iter()
            .any(|have| have.eq_ignore_ascii_case(&wanted))
    }))
}

fn ip_of(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => Some(IpAddr::from(<[u8; 4]>::try_from(bytes).ok()?)),
        16 => Some(IpAddr::from(<[u8; 16]>::try_from(bytes).ok()?)),
        _ => None,
    }
}

fn read(path: &Path) -> Result<String, TlsError> {
    fs::read_to_string(path).map_err(|source| TlsError::Io {
        path: path.to_owned(),
        source,
    })
}

fn write(
    path: &Path,
    contents: &str,
    private: bool,
    report: &mut CertsReport,
) -> Result<(), TlsError> {
    let io_error = |source| TlsError::Io {
        path: path.to_owned(),
        source,
    };
    // Remove first, so a key file is never left readable by others even for a moment when an
    // older one had looser permissions.
    let _ = fs::remove_file(path);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path).map_err(io_error)?;
    file.write_all(contents.as_bytes()).map_err(io_error)?;
    report.written.push(path.to_owned());
    Ok(())
}
