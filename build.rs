//! Stamps the binary's version with the commit it was built from, so the
//! `producer` of every record file says exactly which code wrote it.
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=.git/HEAD");
    println!("cargo:rerun-if-changed=.git/refs");
    let version = env!("CARGO_PKG_VERSION");
    let commit = Command::new("git")
        .args(["rev-parse", "--short=10", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty());
    match commit {
        Some(commit) => println!("cargo:rustc-env=NETCAP_VERSION={version} ({commit})"),
        None => println!("cargo:rustc-env=NETCAP_VERSION={version}"),
    }
}
