//! Generates the record types from `proto/` with protox (a pure-Rust protobuf
//! compiler), so the build needs no `protoc` on the machine.
use prost::Message;
use std::{env, error::Error, path::PathBuf};

fn main() -> Result<(), Box<dyn Error>> {
    let proto_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    println!("cargo:rerun-if-changed={}", proto_dir.display());
    // Every schema file in proto/, in name order: a record family may live in a
    // file of its own (all in package `netcap`).
    let mut files: Vec<String> = std::fs::read_dir(&proto_dir)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".proto"))
        .collect();
    files.sort();
    let fds = protox::compile(&files, [&proto_dir])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    std::fs::write(out.join("descriptor_set.bin"), fds.encode_to_vec())?;

    let mut config = prost_build::Config::new();
    // Every message gets a prost-reflect descriptor so dump can treat all
    // record types through one generic path.
    for file in &fds.file {
        let package = file.package();
        for message in &file.message_type {
            let full_name = format!("{package}.{}", message.name());
            config.type_attribute(&full_name, "#[derive(::prost_reflect::ReflectMessage)]");
            config.type_attribute(
                &full_name,
                format!(
                    r#"#[prost_reflect(message_name = "{full_name}", descriptor_pool = "crate::DESCRIPTOR_POOL")]"#
                ),
            );
        }
    }
    config.compile_fds(fds)?;
    Ok(())
}
