//! The certificates folder: generated when missing, reused when present, renewed when unusable.

use std::fs;

use hello_tls::certs::{CertFiles, ensure_certs, ensure_certs_valid};
use hello_tls::{
    ClientAuth, Identity, ServerTrust, Validity, client_config, peer_common_name, server_config,
};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;

#[test]
fn missing_certs_are_generated_with_private_keys_kept_private() {
    let dir = tempfile::tempdir().unwrap();
    let files = CertFiles::new(dir.path().join("certs"));
    let report = ensure_certs(&files, &[], false).unwrap();
    assert_eq!(report.written.len(), 6, "{report:?}");
    assert!(report.reused.is_empty());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for key in [files.ca_key(), files.server_key(), files.client_key()] {
            let mode = fs::metadata(&key).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{}", key.display());
        }
    }
    // The generated files make working configurations for both sides, mTLS included.
    let server = Identity {
        cert: files.server_cert(),
        key: files.server_key(),
    };
    let client = Identity {
        cert: files.client_cert(),
        key: files.client_key(),
    };
    server_config(
        &server,
        &ClientAuth::Required {
            ca: files.ca_cert(),
        },
    )
    .unwrap();
    client_config(&ServerTrust::Ca(files.ca_cert()), Some(&client)).unwrap();
    let client_cert = CertificateDer::from_pem_file(files.client_cert()).unwrap();
    assert_eq!(
        peer_common_name(&client_cert).as_deref(),
        Some("hello-client")
    );
}

#[test]
fn present_certs_are_reused_not_regenerated() {
    let dir = tempfile::tempdir().unwrap();
    let files = CertFiles::new(dir.path());
    ensure_certs(&files, &[], false).unwrap();
    let ca_before = fs::read(files.ca_cert()).unwrap();
    let server_before = fs::read(files.server_cert()).unwrap();
    let report = ensure_certs(&files, &[], false).unwrap();
    assert!(report.written.is_empty(), "{report:?}");
    assert_eq!(report.reused.len(), 6);
    assert_eq!(fs::read(files.ca_cert()).unwrap(), ca_before);
    assert_eq!(fs::read(files.server_cert()).unwrap(), server_before);
    // --force makes everything anew.
    let report = ensure_certs(&files, &[], true).unwrap();
    assert_eq!(report.written.len(), 6);
    assert_ne!(fs::read(files.ca_cert()).unwrap(), ca_before);
}

#[test]
fn a_new_name_renews_only_the_server_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let files = CertFiles::new(dir.path());
    ensure_certs(&files, &[], false).unwrap();
    let ca_before = fs::read(files.ca_cert()).unwrap();
    let names = vec!["hello.test".to_owned(), "10.1.2.3".to_owned()];
    let report = ensure_certs(&files, &names, false).unwrap();
    assert_eq!(
        report.written,
        vec![files.server_cert(), files.server_key()]
    );
    assert_eq!(fs::read(files.ca_cert()).unwrap(), ca_before);
    // Now covered: nothing more to do.
    assert!(
        ensure_certs(&files, &names, false)
            .unwrap()
            .written
            .is_empty()
    );
}

#[test]
fn expired_certificates_are_renewed() {
    let dir = tempfile::tempdir().unwrap();
    let files = CertFiles::new(dir.path());
    ensure_certs_valid(
        &files,
        &[],
        false,
        Validity::days_from_now(10),
        Validity::expired(),
    )
    .unwrap();
    let report = ensure_certs(&files, &[], false).unwrap();
    assert_eq!(
        report.written.len(),
        4,
        "the two leaves and their keys: {report:?}"
    );
}

#[test]
fn unusable_files_are_named_in_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let files = CertFiles::new(dir.path());
    ensure_certs(&files, &[], false).unwrap();
    fs::write(files.server_key(), "not a key").unwrap();
    let identity = Identity {
        cert: files.server_cert(),
        key: files.server_key(),
    };
    let error = server_config(&identity, &ClientAuth::None)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("server.key") && error.contains("private key"),
        "{error}"
    );
    let missing = ServerTrust::Ca(dir.path().join("nowhere.crt"));
    let error = client_config(&missing, None).unwrap_err().to_string();
    assert!(error.contains("nowhere.crt: no such file"), "{error}");
}
