//! Mutual TLS for agent–collector connections (rustls with the ring
//! provider, which builds on a fresh Debian without extra tools).
//!
//! Both sides trust exactly one CA: the collector requires a client
//! certificate signed by it, and an agent's identity (its directory on the
//! collector) is the common name of that certificate, never anything it
//! sends.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A certificate or key that could not be loaded or used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("{path}: {reason}")]
    Load { path: PathBuf, reason: String },
    #[error("TLS setup: {0}")]
    Config(String),
    #[error("client certificate: {0}")]
    Identity(String),
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Every certificate in a PEM file.
pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let load = |reason: String| TlsError::Load { path: path.into(), reason };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| load(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| load(e.to_string()))?;
    if certs.is_empty() {
        return Err(load("no certificate in the file".into()));
    }
    Ok(certs)
}

/// The private key in a PEM file.
pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| TlsError::Load { path: path.into(), reason: e.to_string() })
}

fn roots(ca: &Path) -> Result<Arc<RootCertStore>, TlsError> {
    let mut roots = RootCertStore::empty();
    for cert in load_certs(ca)? {
        roots.add(cert).map_err(|e| TlsError::Load { path: ca.into(), reason: e.to_string() })?;
    }
    Ok(Arc::new(roots))
}

/// Where a side's certificate material is.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// CA certificate(s) the peer's certificate must chain to.
    pub ca: PathBuf,
    /// This side's certificate chain.
    pub cert: PathBuf,
    /// This side's private key.
    pub key: PathBuf,
}

impl TlsFiles {
    /// The usual layout of `netcap collect -gen-certs DIR`.
    pub fn in_dir(dir: &Path, name: &str) -> Self {
        TlsFiles { ca: dir.join("ca.pem"), cert: dir.join(format!("{name}.pem")), key: dir.join(format!("{name}.key")) }
    }
}

/// The collector's configuration: a client certificate signed by the CA is
/// required.
pub fn server_config(files: &TlsFiles) -> Result<Arc<ServerConfig>, TlsError> {
    let verifier = WebPkiClientVerifier::builder_with_provider(roots(&files.ca)?, provider())
        .build()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(load_certs(&files.cert)?, load_key(&files.key)?)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(Arc::new(config))
}

/// The agent's configuration: the collector must present a certificate
/// signed by the CA, and the agent presents its own.
pub fn client_config(files: &TlsFiles) -> Result<Arc<ClientConfig>, TlsError> {
    let config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_root_certificates(roots(&files.ca)?)
        .with_client_auth_cert(load_certs(&files.cert)?, load_key(&files.key)?)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    Ok(Arc::new(config))
}

/// The agent name in a (verified) certificate: its subject's common name,
/// which must be a valid agent name ([`crate::valid_agent_name`]).
pub fn certificate_identity(cert: &[u8]) -> Result<String, TlsError> {
    let (_, parsed) =
        x509_parser::parse_x509_certificate(cert).map_err(|e| TlsError::Identity(format!("does not parse: {e}")))?;
    let mut names = parsed.subject().iter_common_name();
    let name = names
        .next()
        .ok_or_else(|| TlsError::Identity("no common name".into()))?
        .as_str()
        .map_err(|e| TlsError::Identity(format!("common name is not a string: {e}")))?;
    if names.next().is_some() {
        return Err(TlsError::Identity("more than one common name".into()));
    }
    if !crate::valid_agent_name(name) {
        return Err(TlsError::Identity(format!("common name {name:?} is not a valid agent name")));
    }
    Ok(name.to_string())
}

/// The identity in a certificate file (an agent names itself in NATS
/// subjects with it).
pub fn file_identity(path: &Path) -> Result<String, TlsError> {
    let certs = load_certs(path)?;
    certificate_identity(certs.first().map(|c| c.as_ref()).unwrap_or_default())
}
