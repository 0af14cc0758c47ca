//! `netcap collect`: receive agents' record batches over mutual TLS and
//! write them to rotated record files (or publish them to NATS JetStream),
//! consume them from JetStream as one of a group of collectors, or make the
//! certificates for a first deployment.

use crate::capture_cmd::parse_duration;
use crate::capture_cmd::stop_on_signals;
use crate::size::parse_size;
use anyhow::Context;
use clap::Args;
use netcap_collect::{CollectConfig, Rotation};
use netcap_wire::tls::TlsFiles;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct CollectArgs {
    /// Address to accept agents on
    #[arg(long, value_name = "HOST:PORT", default_value = "0.0.0.0:7077")]
    listen: String,
    /// Directory for <agent>/<Type>.ncap.zst
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// Directory with ca.pem, collector.pem and collector.key (as made by -gen-certs)
    #[arg(long, value_name = "DIR")]
    certs: Option<PathBuf>,
    /// CA certificate agents' certificates must chain to [default: DIR/ca.pem]
    #[arg(long, value_name = "FILE")]
    ca: Option<PathBuf>,
    /// The collector's certificate [default: DIR/collector.pem]
    #[arg(long, value_name = "FILE")]
    cert: Option<PathBuf>,
    /// The collector's private key [default: DIR/collector.key]
    #[arg(long, value_name = "FILE")]
    key: Option<PathBuf>,
    /// Start a new file when the current one reaches SIZE or AGE, e.g. 256MB, 1h, or both: 256MB,1h
    #[arg(long, value_name = "SIZE,AGE", default_value = "256MiB,1h")]
    rotate: String,
    /// Publish agents' batches to NATS JetStream at URL instead of writing files
    #[arg(long, value_name = "URL", conflicts_with = "from_nats")]
    nats: Option<String>,
    /// Write files from NATS JetStream at URL, as one collector of the group (no agents accepted)
    #[arg(long, value_name = "URL")]
    from_nats: Option<String>,
    /// With -from-nats, when the group's consumer is created: a batch a collector took and did not
    /// acknowledge within this time goes to another collector
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    nats_ack_wait: String,
    /// Create a CA, a collector certificate and agent certificates in DIR, then exit
    #[arg(long, value_name = "DIR")]
    gen_certs: Option<PathBuf>,
    /// With -gen-certs: agent names to make certificates for (comma-separated)
    #[arg(long, value_name = "NAMES", default_value = "agent1")]
    agents: Vec<String>,
    /// With -gen-certs: DNS names and IP addresses of the collector (comma-separated)
    #[arg(long, value_name = "HOSTS", default_value = "localhost,127.0.0.1")]
    hosts: Vec<String>,
}

/// `-rotate`: a size, an age, or both (`256MB,1h`); a bare number is bytes.
fn rotation(spec: &str) -> anyhow::Result<Rotation> {
    let mut rotation = Rotation::default();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty() && *p != "0") {
        let age = (!part.bytes().all(|b| b.is_ascii_digit())).then(|| parse_duration(part)).flatten();
        match age {
            Some(age) if !age.is_zero() => rotation.max_age = Some(age),
            _ => rotation.max_bytes = Some(parse_size(part).context("expected sizes and ages such as 256MB,1h")?),
        }
    }
    Ok(rotation)
}

pub fn run(args: CollectArgs) -> anyhow::Result<ExitCode> {
    if let Some(dir) = &args.gen_certs {
        let agents: Vec<String> = crate::split_list(&args.agents).map(String::from).collect();
        let hosts: Vec<String> = crate::split_list(&args.hosts).map(String::from).collect();
        let made = netcap_wire::certs::generate(dir, &hosts, &agents)?;
        for path in &made.created {
            eprintln!("netcap collect: created {}", path.display());
        }
        for path in &made.kept {
            eprintln!("netcap collect: kept existing {}", path.display());
        }
        return Ok(ExitCode::SUCCESS);
    }
    let rotation = rotation(&args.rotate).context("-rotate")?;
    let stop = stop_on_signals()?;
    if let Some(url) = &args.from_nats {
        let ack_wait = parse_duration(&args.nats_ack_wait)
            .with_context(|| format!("-nats-ack-wait {:?}: expected a duration such as 30s", args.nats_ack_wait))?;
        let counters = netcap_collect::run_from_nats(url, &args.out, rotation, ack_wait, stop)?;
        eprintln!("netcap collect: {}", counters.summary());
        return Ok(ExitCode::SUCCESS);
    }
    let from_dir = |file: &str| args.certs.as_ref().map(|d| d.join(file));
    let (Some(ca), Some(cert), Some(key)) = (
        args.ca.clone().or_else(|| from_dir("ca.pem")),
        args.cert.clone().or_else(|| from_dir("collector.pem")),
        args.key.clone().or_else(|| from_dir("collector.key")),
    ) else {
        crate::usage_bail!(
            "the collector needs its certificate: -certs DIR, or -ca, -cert and -key (make them with -gen-certs DIR)"
        );
    };
    let config = CollectConfig {
        listen: args.listen.clone(),
        tls: TlsFiles { ca, cert, key },
        out: args.out.clone(),
        rotation,
        nats: args.nats.clone(),
    };
    let counters = netcap_collect::run(&config, stop, |addr| {
        eprintln!("netcap collect: listening on {addr}");
    })?;
    eprintln!("netcap collect: {}", counters.summary());
    Ok(ExitCode::SUCCESS)
}
