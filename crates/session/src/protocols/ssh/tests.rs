use super::*;

fn packet(payload: &[u8]) -> Vec<u8> {
    // Padding to a multiple of 8 with at least 4 bytes, as RFC 4253 6 says.
    let mut padding = 8 - (5 + payload.len()) % 8;
    if padding < 4 {
        padding += 8;
    }
    let length = 1 + payload.len() + padding;
    let mut out = (length as u32).to_be_bytes().to_vec();
    out.push(padding as u8);
    out.extend_from_slice(payload);
    out.extend(std::iter::repeat_n(0u8, padding));
    out
}

fn string(bytes: &[u8]) -> Vec<u8> {
    let mut out = (bytes.len() as u32).to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    out
}

fn kexinit(lists: [&str; 10]) -> Vec<u8> {
    let mut payload = vec![MSG_KEXINIT];
    payload.extend_from_slice(&[7u8; 16]);
    for list in lists {
        payload.extend(string(list.as_bytes()));
    }
    payload.push(0);
    payload.extend_from_slice(&[0, 0, 0, 0]);
    packet(&payload)
}

const CLIENT_LISTS: [&str; 10] = [
    "curve25519-sha256,diffie-hellman-group14-sha256,ext-info-c",
    "ssh-ed25519,rsa-sha2-512",
    "chacha20-poly1305@openssh.com,aes128-ctr",
    "chacha20-poly1305@openssh.com,aes128-ctr",
    "umac-64-etm@openssh.com,hmac-sha2-256",
    "umac-64-etm@openssh.com,hmac-sha2-256",
    "none,zlib@openssh.com",
    "none,zlib@openssh.com",
    "",
    "",
];
const SERVER_LISTS: [&str; 10] = [
    "diffie-hellman-group14-sha256,curve25519-sha256",
    "rsa-sha2-512,ssh-ed25519",
    "aes128-ctr,chacha20-poly1305@openssh.com",
    "aes128-ctr",
    "hmac-sha2-256",
    "hmac-sha2-256",
    "none",
    "none",
    "",
    "",
];

fn host_key_blob() -> Vec<u8> {
    let mut blob = string(b"ssh-ed25519");
    blob.extend(string(&[0x42; 32]));
    blob
}

/// Server: a pre-banner line, its identification string, KEXINIT, the
/// ECDH reply with its host key, NEWKEYS. Client: identification string,
/// KEXINIT, NEWKEYS.
fn streams() -> (Vec<u8>, Vec<u8>) {
    let mut server = b"Welcome\r\nSSH-2.0-OpenSSH_9.7\r\n".to_vec();
    server.extend(kexinit(SERVER_LISTS));
    let mut reply = vec![MSG_KEX_REPLY];
    reply.extend(string(&host_key_blob()));
    reply.extend(string(&[1; 32]));
    reply.extend(string(&[2; 83]));
    server.extend(packet(&reply));
    server.extend(packet(&[MSG_NEWKEYS]));
    let mut client = b"SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.1\r\n".to_vec();
    client.extend(kexinit(CLIENT_LISTS));
    client.extend(packet(&[MSG_NEWKEYS]));
    (client, server)
}

fn run(chunk: usize) -> Vec<SshRecord> {
    let (client, server) = streams();
    let mut h = TestHarness::default();
    let mut p = Ssh::default();
    let (mut pc, mut ps) = (Vec::new(), Vec::new());
    h.feed(&mut p, Direction::ToClient, &server, chunk, &mut ps);
    h.feed(&mut p, Direction::ToServer, &client, chunk, &mut pc);
    p.finish(&mut h.cx());
    h.emit.decoded(RecordType::Ssh)
}

#[test]
fn one_record_with_every_field_at_every_segmentation() {
    let whole = run(usize::MAX);
    assert_eq!(whole.len(), 1);
    let r = &whole[0];
    assert_eq!(r.version, 2);
    assert_eq!(r.client, "SSH-2.0-OpenSSH_8.2p1 Ubuntu-4ubuntu0.1");
    assert_eq!(r.server, "SSH-2.0-OpenSSH_9.7");
    assert_eq!(r.kex_alg, "curve25519-sha256");
    assert_eq!(r.host_key_alg, "ssh-ed25519");
    assert_eq!(r.cipher_alg, "chacha20-poly1305@openssh.com");
    assert_eq!(r.mac_alg, "hmac-sha2-256");
    assert_eq!(r.compression_alg, "none");
    let hassh = "curve25519-sha256,diffie-hellman-group14-sha256,ext-info-c;chacha20-poly1305@openssh.com,aes128-ctr;\
umac-64-etm@openssh.com,hmac-sha2-256;none,zlib@openssh.com";
    assert_eq!(r.hassh_algorithms, hassh);
    assert_eq!(r.hassh, md5_hex(hassh));
    assert_eq!(
        r.hassh_server_algorithms,
        "diffie-hellman-group14-sha256,curve25519-sha256;aes128-ctr;hmac-sha2-256;none"
    );
    assert_eq!(r.cshka, "ssh-ed25519,rsa-sha2-512");
    assert_eq!(r.sshka, "rsa-sha2-512,ssh-ed25519");
    let expected_key = base64::engine::general_purpose::STANDARD_NO_PAD.encode(Sha256::digest(host_key_blob()));
    assert_eq!(r.host_key, format!("SHA256:{expected_key}"));
    assert_eq!(r.auth_success, None);
    assert_eq!((r.src_port, r.dst_port, r.frame), (40000, 80, 1));
    for chunk in 1..=40 {
        assert_eq!(run(chunk), whole, "cut into {chunk}-byte pieces");
    }
}

#[test]
fn negotiation_takes_the_clients_first_shared_name() {
    assert_eq!(negotiate("a,b,c", "c,b"), "b");
    assert_eq!(negotiate("a", "b"), "");
    assert_eq!(negotiate("", ""), "");
}

#[test]
fn versions_of_identification_strings() {
    assert_eq!(version_of("SSH-2.0-OpenSSH_9.7"), 2);
    assert_eq!(version_of("SSH-1.99-OpenSSH_3.9p1"), 2);
    assert_eq!(version_of("SSH-1.5-Cisco"), 1);
    assert_eq!(version_of("HTTP/1.1 200"), 0);
}

/// Zeek's heuristic: SERVICE_ACCEPT sets the size; two failures of one
/// size, then a segment 16 bytes smaller than SERVICE_ACCEPT: success after
/// three attempts.
#[test]
fn authentication_is_guessed_from_the_servers_segment_sizes() {
    let (client, server) = streams();
    let mut h = TestHarness::default();
    let mut p = Ssh::default();
    let (mut pc, mut ps) = (Vec::new(), Vec::new());
    h.feed(&mut p, Direction::ToClient, &server, usize::MAX, &mut ps);
    h.feed(&mut p, Direction::ToServer, &client, usize::MAX, &mut pc);
    let mut segment = |p: &mut Ssh, dir, len: usize| {
        assert!(matches!(p.parse(&mut h.cx(), dir, &vec![0xee; len]), Parsed::Continue { .. } | Parsed::Done));
    };
    segment(&mut p, Direction::ToServer, 52); // SERVICE_REQUEST
    segment(&mut p, Direction::ToClient, 52); // SERVICE_ACCEPT
    segment(&mut p, Direction::ToServer, 100);
    segment(&mut p, Direction::ToClient, 68); // FAILURE
    segment(&mut p, Direction::ToServer, 100);
    segment(&mut p, Direction::ToClient, 68); // FAILURE again
    segment(&mut p, Direction::ToServer, 100);
    segment(&mut p, Direction::ToClient, 36); // SUCCESS
    p.finish(&mut h.cx());
    let r: Vec<SshRecord> = h.emit.decoded(RecordType::Ssh);
    assert_eq!(r[0].auth_success, Some(true));
    assert_eq!(r[0].auth_attempts, 2);
}

#[test]
fn garbage_and_oversized_packets_give_up_without_panicking() {
    let mut h = TestHarness::default();
    let mut p = Ssh::default();
    let mut bad = b"SSH-2.0-x\r\n".to_vec();
    bad.extend_from_slice(&(u32::MAX).to_be_bytes());
    bad.push(4);
    assert_eq!(p.parse(&mut h.cx(), Direction::ToServer, &bad), Parsed::Done);
    assert_eq!(h.errors.errors.iter().sum::<u64>(), 1);
    // A line that never ends.
    let mut p = Ssh::default();
    let long = vec![b'a'; MAX_LINE + 10];
    assert_eq!(p.parse(&mut h.cx(), Direction::ToClient, &long), Parsed::Done);
    for seed in 0..=255u8 {
        let mut data = vec![seed];
        data.extend_from_slice(&streams().0);
        data.extend(std::iter::repeat_n(seed, 300));
        fuzz_entry(&data);
    }
}

#[test]
fn probe_wants_ssh_dash() {
    assert_eq!(probe(Direction::ToClient, b"SS"), Probe::NeedMore);
    assert_eq!(probe(Direction::ToClient, b"SSH-2.0-x"), Probe::Yes);
    assert_eq!(probe(Direction::ToClient, b"GET /"), Probe::No);
}
