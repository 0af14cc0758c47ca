//! `netcap collect -gen-certs DIR`: a CA, a collector certificate and agent
//! certificates for a first deployment.
//!
//! Layout: `ca.pem`/`ca.key`, `collector.pem`/`collector.key`, and
//! `<agent>.pem`/`<agent>.key` per agent. An existing CA in DIR is reused, so
//! running it again with new agent names issues certificates for them; no
//! existing file is ever overwritten.

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    SanType,
};
use std::io::Write;
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};

/// Certificate generation failed.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("certificate generation: {0}")]
    Generate(#[from] rcgen::Error),
    #[error("invalid agent name {0:?}: use letters, digits, '.', '_' and '-' (not starting with '.', at most 64)")]
    AgentName(String),
    #[error("{0} exists but {1} does not: cannot reuse a CA without its key")]
    HalfCa(PathBuf, PathBuf),
}

/// What [`generate`] did.
#[derive(Debug, Default)]
pub struct Generated {
    pub created: Vec<PathBuf>,
    /// Files that existed and were left alone.
    pub kept: Vec<PathBuf>,
}

fn write_new(path: &Path, contents: &str, private: bool, out: &mut Generated) -> Result<(), CertError> {
    let io = |source| CertError::Io { path: path.into(), source };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path).map_err(io)?;
    file.write_all(contents.as_bytes()).map_err(io)?;
    file.sync_all().map_err(io)?;
    out.created.push(path.into());
    Ok(())
}

fn validity(params: &mut CertificateParams, days: i64) {
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(days);
}

/// Creates what is missing in `dir`: the CA, a collector certificate valid
/// for `hosts` (DNS names or IP addresses), and one certificate per agent.
pub fn generate(dir: &Path, hosts: &[String], agents: &[String]) -> Result<Generated, CertError> {
    for agent in agents {
        if !crate::valid_agent_name(agent) || agent == "ca" || agent == "collector" {
            return Err(CertError::AgentName(agent.clone()));
        }
    }
    std::fs::create_dir_all(dir).map_err(|source| CertError::Io { path: dir.into(), source })?;
    let mut out = Generated::default();
    let (ca_pem, ca_key) = (dir.join("ca.pem"), dir.join("ca.key"));
    let issuer = match (ca_pem.exists(), ca_key.exists()) {
        (true, true) => {
            let read = |p: &Path| std::fs::read_to_string(p).map_err(|source| CertError::Io { path: p.into(), source });
            let key = KeyPair::from_pem(&read(&ca_key)?)?;
            out.kept.extend([ca_pem.clone(), ca_key.clone()]);
            Issuer::from_ca_cert_pem(&read(&ca_pem)?, key)?
        }
        (true, false) => return Err(CertError::HalfCa(ca_pem, ca_key)),
        (false, true) => return Err(CertError::HalfCa(ca_key, ca_pem)),
        (false, false) => {
            let mut params = CertificateParams::new(Vec::<String>::new())?;
            params.distinguished_name.push(DnType::CommonName, "netcap CA");
            params.distinguished_name.push(DnType::OrganizationName, "netcap");
            params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
            validity(&mut params, 3650);
            let key = KeyPair::generate()?;
            let cert = params.self_signed(&key)?;
            write_new(&ca_key, &key.serialize_pem(), true, &mut out)?;
            write_new(&ca_pem, &cert.pem(), false, &mut out)?;
            Issuer::new(params, key)
        }
    };

    let mut leaf = |name: &str, sans: Vec<SanType>, usage: ExtendedKeyUsagePurpose| -> Result<(), CertError> {
        let (pem, key_path) = (dir.join(format!("{name}.pem")), dir.join(format!("{name}.key")));
        if pem.exists() || key_path.exists() {
            out.kept.push(pem);
            return Ok(());
        }
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name.push(DnType::CommonName, name);
        params.subject_alt_names = sans;
        params.use_authority_key_identifier_extension = true;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![usage];
        validity(&mut params, 825);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &issuer)?;
        write_new(&key_path, &key.serialize_pem(), true, &mut out)?;
        write_new(&pem, &cert.pem(), false, &mut out)?;
        Ok(())
    };

    let mut sans = Vec::new();
    for host in hosts {
        sans.push(match host.parse() {
            Ok(ip) => SanType::IpAddress(ip),
            Err(_) => SanType::DnsName(host.as_str().try_into()?),
        });
    }
    leaf("collector", sans, ExtendedKeyUsagePurpose::ServerAuth)?;
    for agent in agents {
        leaf(agent, Vec::new(), ExtendedKeyUsagePurpose::ClientAuth)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::{TlsFiles, certificate_identity, client_config, load_certs, server_config};

    #[test]
    fn generated_certificates_load_and_name_their_agent() {
        let dir = tempfile::tempdir().unwrap();
        let agents = vec!["sensor-1".to_string(), "sensor-2".to_string()];
        let made = generate(dir.path(), &["localhost".into(), "127.0.0.1".into()], &agents).unwrap();
        assert_eq!(made.created.len(), 8);
        server_config(&TlsFiles::in_dir(dir.path(), "collector")).unwrap();
        client_config(&TlsFiles::in_dir(dir.path(), "sensor-1")).unwrap();
        let cert = load_certs(&dir.path().join("sensor-2.pem")).unwrap();
        assert_eq!(certificate_identity(&cert[0]).unwrap(), "sensor-2");
        // A second run reuses the CA and only adds the new agent.
        let again = generate(dir.path(), &[], &["sensor-3".to_string()]).unwrap();
        assert_eq!(again.created.len(), 2);
        assert!(generate(dir.path(), &[], &["../x".to_string()]).is_err());
    }
}
