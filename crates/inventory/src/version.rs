//! Product names and versions from the strings software announces itself
//! with, split as Zeek's software framework splits them (name, then the
//! version's major, minor, minor2 and minor3 numbers and what follows).

/// A product and its version as parsed from one string.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    pub name: String,
    /// The version as written ("8.9p1"); empty if none was found.
    pub version: String,
    pub major: u32,
    pub minor: u32,
    pub minor2: u32,
    pub minor3: u32,
    /// What follows the numeric parts ("p1", "e", "-beta").
    pub addl: String,
}

/// Server products that greetings often name without a version: a token
/// equal to one of these (ignoring case) names the product.
const KNOWN_PRODUCTS: &[&str] = &[
    "Dovecot",
    "Postfix",
    "Exim",
    "Sendmail",
    "Courier",
    "Cyrus",
    "qmail",
    "Zimbra",
    "vsFTPd",
    "ProFTPD",
    "Pure-FTPd",
    "FileZilla",
    "Serv-U",
    "wu-ftpd",
    "Exchange",
    "hMailServer",
    "MDaemon",
    "Kerio",
];

/// Splits `text` ("8.9p1", "2.4.41") into its numeric parts and the rest.
fn version_parts(version: &str, p: &mut Parsed) {
    let mut rest = version;
    for (i, slot) in [&mut p.major, &mut p.minor, &mut p.minor2, &mut p.minor3].into_iter().enumerate() {
        if i > 0 {
            match rest.strip_prefix('.') {
                Some(r) if r.starts_with(|c: char| c.is_ascii_digit()) => rest = r,
                _ => break,
            }
        }
        let digits = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        if digits == 0 {
            break;
        }
        *slot = rest[..digits].parse().unwrap_or(u32::MAX);
        rest = &rest[digits..];
    }
    p.addl = rest.trim_start_matches(['.', '-', '_']).to_string();
}

fn with_version(name: &str, version: &str) -> Parsed {
    let mut p = Parsed { name: name.to_string(), version: version.to_string(), ..Parsed::default() };
    version_parts(version, &mut p);
    p
}

/// `name/version`, `name_version` or `name-version` (the version starting
/// with a digit): the split at the last such separator.
fn split_token(token: &str) -> Option<(&str, &str)> {
    if let Some((name, version)) = token.split_once('/') {
        return Some((name, version));
    }
    let at = token
        .char_indices()
        .filter(|&(i, c)| (c == '_' || c == '-') && i > 0 && token[i + 1..].starts_with(|d: char| d.is_ascii_digit()))
        .map(|(i, _)| i)
        .next_back()?;
    Some((&token[..at], &token[at + 1..]))
}

/// An SSH identification string: `SSH-2.0-OpenSSH_8.9p1 Ubuntu-3` gives
/// OpenSSH 8.9p1 (comments after the first blank are left out, as Zeek
/// does).
pub fn ssh(ident: &str) -> Option<Parsed> {
    let rest = ident.strip_prefix("SSH-")?;
    let (_protocol, software) = rest.split_once('-')?;
    let software = software.split(' ').next().unwrap_or_default();
    if software.is_empty() {
        return None;
    }
    Some(match split_token(software) {
        Some((name, version)) if !name.is_empty() => with_version(name, version),
        _ => Parsed { name: software.to_string(), ..Parsed::default() },
    })
}

/// Browsers' tokens in a User-Agent, most specific first: Edge and Opera
/// also say Chrome, Chrome also says Safari.
const BROWSERS: &[(&str, &str)] = &[
    ("Edg/", "Edge"),
    ("Edge/", "Edge"),
    ("OPR/", "Opera"),
    ("Firefox/", "Firefox"),
    ("Chrome/", "Chrome"),
    ("CriOS/", "Chrome"),
];

/// An HTTP User-Agent or Server value: the browser a User-Agent names
/// (Edge, Opera, Firefox, Chrome, Safari, MSIE), else its first product
/// token (`curl/7.68.0`, `Apache/2.4.41 (Ubuntu)`).
pub fn http(value: &str) -> Option<Parsed> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.starts_with("Mozilla/") {
        for (token, name) in BROWSERS {
            if let Some(at) = value.find(token) {
                let version = value[at + token.len()..].split([' ', ';', ')']).next().unwrap_or_default();
                return Some(with_version(name, version));
            }
        }
        if let Some(at) = value.find("MSIE ") {
            let version = value[at + 5..].split([';', ')', ' ']).next().unwrap_or_default();
            return Some(with_version("MSIE", version));
        }
        if value.contains("Safari/")
            && let Some(at) = value.find("Version/")
        {
            let version = value[at + 8..].split(' ').next().unwrap_or_default();
            return Some(with_version("Safari", version));
        }
    }
    // The first product: its name runs to the first `/` unless a comment
    // or a second product comes first (`Omniture DC/2.0.0`, `gws`,
    // `Apache (Unix)`).
    let head = value.split(['(', ';']).next().unwrap_or_default().trim_end();
    Some(match head.split_once('/') {
        Some((name, version)) if !name.is_empty() => {
            with_version(name.trim(), version.split(' ').next().unwrap_or_default())
        }
        _ => Parsed { name: head.split(' ').next().unwrap_or(value).to_string(), ..Parsed::default() },
    })
}

/// A mail client's User-Agent or X-Mailer: `name/version` tokens as an
/// HTTP User-Agent (`Mozilla/5.0 ... Thunderbird/102.0`), else the words
/// before the first version (`Microsoft Office Outlook 12.0`, `Apple Mail
/// (2.2102)`), else the whole value as the name.
pub fn mail_client(value: &str) -> Option<Parsed> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    let first = value.split(' ').next().unwrap_or_default();
    if first.contains('/') {
        // Thunderbird says Mozilla/5.0 first, then its own token.
        if let Some(at) = value.find("Thunderbird/") {
            let version = value[at + 12..].split([' ', ';', ')']).next().unwrap_or_default();
            return Some(with_version("Thunderbird", version));
        }
        return http(value);
    }
    let words: Vec<&str> = value
        .split(|c: char| c.is_ascii_whitespace() || matches!(c, '(' | ')' | '[' | ']' | ','))
        .filter(|w| !w.is_empty())
        .collect();
    let at = words.iter().position(|w| w.starts_with(|c: char| c.is_ascii_digit()) && w.contains('.'));
    Some(match at {
        Some(at) if at > 0 => with_version(&words[..at.min(4)].join(" "), words[at]),
        _ => Parsed { name: value.chars().take(64).collect(), ..Parsed::default() },
    })
}

/// A server greeting (`220 ProFTPD 1.3.5e Server`, `+OK Dovecot ready.`,
/// `220 mx ESMTP Exim 4.92`): the first word followed by a version (a word
/// starting with a digit and holding a dot), a `name/version` word, or a
/// known product's name. `None` when none of them is there: the greeting
/// names no software it can be sure of.
pub fn greeting(line: &str) -> Option<Parsed> {
    let words: Vec<&str> = line
        .split(|c: char| c.is_ascii_whitespace() || matches!(c, '(' | ')' | '[' | ']' | ',' | ';'))
        .filter(|w| !w.is_empty())
        .collect();
    // The reply code or status (`220`, `+OK`, `*`, `OK`) is not a name.
    let skip = words
        .iter()
        .take_while(|w| {
            matches!(**w, "*" | "+OK" | "OK" | "PREAUTH")
                || w.len() == 3 && w.chars().all(|c| c.is_ascii_digit())
                || w.starts_with("220-")
        })
        .count();
    let words = &words[skip.min(words.len())..];
    let is_version = |w: &str| w.starts_with(|c: char| c.is_ascii_digit()) && w.contains('.');
    // "Version 6.4" names no product.
    let is_name = |w: &str| {
        w.starts_with(|c: char| c.is_ascii_alphabetic())
            && !w.contains(['.', '@', '/'])
            && !w.eq_ignore_ascii_case("version")
            && !w.eq_ignore_ascii_case("release")
    };
    for pair in words.windows(2) {
        if let [name, version] = pair
            && is_name(name)
            && is_version(version)
        {
            return Some(with_version(name, version.trim_end_matches('.')));
        }
    }
    for w in words {
        if let Some((name, version)) = w.split_once('/')
            && is_name(name)
            && is_version(version)
        {
            return Some(with_version(name, version));
        }
        // `6.4/OpenBSD/Linux-ftpd-0.17`: a `name-version` part.
        if let Some((name, version)) = w.rsplit('/').find_map(split_token)
            && is_name(name)
            && is_version(version)
        {
            return Some(with_version(name, version));
        }
        if let Some((name, version)) = split_token(w)
            && KNOWN_PRODUCTS.iter().any(|k| k.eq_ignore_ascii_case(name))
        {
            return Some(with_version(name, version));
        }
    }
    let known = words
        .iter()
        .map(|w| w.trim_end_matches(['.', ':', '!']))
        .find(|w| KNOWN_PRODUCTS.iter().any(|k| k.eq_ignore_ascii_case(w)))?;
    Some(Parsed { name: known.to_string(), ..Parsed::default() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(name: &str, version: &str, nums: [u32; 4], addl: &str) -> Parsed {
        Parsed {
            name: name.into(),
            version: version.into(),
            major: nums[0],
            minor: nums[1],
            minor2: nums[2],
            minor3: nums[3],
            addl: addl.into(),
        }
    }

    #[test]
    fn ssh_identification_strings() {
        assert_eq!(ssh("SSH-2.0-OpenSSH_8.9p1 Ubuntu-3ubuntu0.1"), Some(p("OpenSSH", "8.9p1", [8, 9, 0, 0], "p1")));
        assert_eq!(ssh("SSH-2.0-dropbear_2019.78"), Some(p("dropbear", "2019.78", [2019, 78, 0, 0], "")));
        assert_eq!(ssh("SSH-2.0-PuTTY_Release_0.76"), Some(p("PuTTY_Release", "0.76", [0, 76, 0, 0], "")));
        assert_eq!(ssh("SSH-2.0-libssh2_1.9.0"), Some(p("libssh2", "1.9.0", [1, 9, 0, 0], "")));
        assert_eq!(ssh("SSH-1.99-Cisco-1.25"), Some(p("Cisco", "1.25", [1, 25, 0, 0], "")));
        assert_eq!(ssh("SSH-2.0-Go"), Some(Parsed { name: "Go".into(), ..Parsed::default() }));
        assert_eq!(ssh("SSH-2.0-"), None);
        assert_eq!(ssh("HTTP/1.1 200 OK"), None);
    }

    #[test]
    fn http_user_agents_and_servers() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.71 Safari/537.36";
        assert_eq!(http(chrome), Some(p("Chrome", "120.0.6099.71", [120, 0, 6099, 71], "")));
        let edge = format!("{chrome} Edg/120.0.2210.61");
        assert_eq!(http(&edge).unwrap().name, "Edge");
        let firefox = "Mozilla/5.0 (X11; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0";
        assert_eq!(http(firefox), Some(p("Firefox", "115.0", [115, 0, 0, 0], "")));
        let safari = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605.1.15";
        assert_eq!(http(safari), Some(p("Safari", "17.1", [17, 1, 0, 0], "")));
        let ie = "Mozilla/4.0 (compatible; MSIE 6.0; Windows NT 5.1)";
        assert_eq!(http(ie), Some(p("MSIE", "6.0", [6, 0, 0, 0], "")));
        assert_eq!(http("curl/7.68.0"), Some(p("curl", "7.68.0", [7, 68, 0, 0], "")));
        assert_eq!(http("Apache/2.4.41 (Ubuntu)"), Some(p("Apache", "2.4.41", [2, 4, 41, 0], "")));
        assert_eq!(http("Microsoft-IIS/10.0"), Some(p("Microsoft-IIS", "10.0", [10, 0, 0, 0], "")));
        assert_eq!(http("gws"), Some(Parsed { name: "gws".into(), ..Parsed::default() }));
        assert_eq!(http("Omniture DC/2.0.0"), Some(p("Omniture DC", "2.0.0", [2, 0, 0, 0], "")));
        assert_eq!(http("Apache (Unix)"), Some(Parsed { name: "Apache".into(), ..Parsed::default() }));
        assert_eq!(
            http("Windows-Azure-Blob/1.0 Microsoft-HTTPAPI/2.0"),
            Some(p("Windows-Azure-Blob", "1.0", [1, 0, 0, 0], ""))
        );
        assert_eq!(http("  "), None);
    }

    #[test]
    fn mail_clients() {
        assert_eq!(
            mail_client("Microsoft Office Outlook 12.0"),
            Some(p("Microsoft Office Outlook", "12.0", [12, 0, 0, 0], ""))
        );
        assert_eq!(mail_client("Apple Mail (2.2102)"), Some(p("Apple Mail", "2.2102", [2, 2102, 0, 0], "")));
        let tb = "Mozilla/5.0 (X11; Linux x86_64; rv:102.0) Gecko/20100101 Thunderbird/102.9.0";
        assert_eq!(mail_client(tb), Some(p("Thunderbird", "102.9.0", [102, 9, 0, 0], "")));
        assert_eq!(mail_client("Evolution"), Some(Parsed { name: "Evolution".into(), ..Parsed::default() }));
        assert_eq!(mail_client(" "), None);
    }

    #[test]
    fn greetings() {
        assert_eq!(
            greeting("220 ProFTPD 1.3.5e Server (Debian) [::ffff:10.0.0.1]"),
            Some(p("ProFTPD", "1.3.5e", [1, 3, 5, 0], "e"))
        );
        assert_eq!(greeting("220 (vsFTPd 3.0.3)"), Some(p("vsFTPd", "3.0.3", [3, 0, 3, 0], "")));
        assert_eq!(
            greeting("220 mx.example.org ESMTP Exim 4.92 Mon, 1 Jan"),
            Some(p("Exim", "4.92", [4, 92, 0, 0], ""))
        );
        assert_eq!(greeting("+OK Dovecot ready."), Some(Parsed { name: "Dovecot".into(), ..Parsed::default() }));
        assert_eq!(
            greeting("* OK [CAPABILITY IMAP4rev1 LITERAL+] Dovecot ready."),
            Some(Parsed { name: "Dovecot".into(), ..Parsed::default() })
        );
        assert_eq!(greeting("220 Microsoft FTP Service"), None);
        assert_eq!(
            greeting("220 redmint FTP server (Version 6.4/OpenBSD/Linux-ftpd-0.17) ready."),
            Some(p("Linux-ftpd", "0.17", [0, 17, 0, 0], ""))
        );
        assert_eq!(greeting("220 mail.example.com ESMTP Postfix (Ubuntu)").unwrap().name, "Postfix");
        assert_eq!(greeting(""), None);
    }

    #[test]
    fn long_numbers_saturate() {
        assert_eq!(http("x/99999999999.1").unwrap().major, u32::MAX);
    }
}
