//! Geolocation and AS numbers for Host records from MaxMind-format
//! databases the user supplies (`-geoip` a City or Country database,
//! `-asn` an ASN database; GeoLite2, GeoIP2 or any database of the same
//! layout).

use crate::GeoLookup;
use maxminddb::{Reader, geoip2};
use netcap_records as r;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// A database that could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct GeoError {
    pub path: PathBuf,
    pub reason: String,
}

/// The databases, read into memory once.
pub struct MaxMind {
    city: Option<Reader<Vec<u8>>>,
    asn: Option<Reader<Vec<u8>>>,
}

fn open(path: &Path) -> Result<Reader<Vec<u8>>, GeoError> {
    let error = |reason: String| GeoError { path: path.to_path_buf(), reason };
    let bytes = std::fs::read(path).map_err(|e| error(e.to_string()))?;
    Reader::from_source(bytes).map_err(|e| error(format!("not a MaxMind database: {e}")))
}

impl MaxMind {
    /// Opens the databases given (either may be left out).
    pub fn open(geoip: Option<&Path>, asn: Option<&Path>) -> Result<Self, GeoError> {
        Ok(MaxMind { city: geoip.map(open).transpose()?, asn: asn.map(open).transpose()? })
    }

    /// Databases from bytes (tests, and callers with their own storage).
    pub fn from_bytes(geoip: Option<Vec<u8>>, asn: Option<Vec<u8>>) -> Result<Self, GeoError> {
        let error = |reason: String| GeoError { path: PathBuf::from("-"), reason };
        let read = |b: Vec<u8>| Reader::from_source(b).map_err(|e| error(e.to_string()));
        Ok(MaxMind { city: geoip.map(read).transpose()?, asn: asn.map(read).transpose()? })
    }
}

impl GeoLookup for MaxMind {
    fn fill(&self, ip: IpAddr, host: &mut r::Host) {
        if let Some(reader) = &self.city
            && let Ok(result) = reader.lookup(ip)
            && let Ok(Some(city)) = result.decode::<geoip2::City>()
        {
            host.country = city.country.iso_code.unwrap_or_default().to_string();
            host.city = city.city.names.english.unwrap_or_default().to_string();
        }
        if let Some(reader) = &self.asn
            && let Ok(result) = reader.lookup(ip)
            && let Ok(Some(asn)) = result.decode::<geoip2::Asn>()
        {
            host.asn = asn.autonomous_system_number.unwrap_or_default();
            host.as_org = asn.autonomous_system_organization.unwrap_or_default().to_string();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use maxminddb_writer::Database;
    use maxminddb_writer::paths::IpAddrWithMask;

    #[derive(serde::Serialize)]
    struct Names {
        en: &'static str,
    }
    #[derive(serde::Serialize)]
    struct Country {
        iso_code: &'static str,
        names: Names,
    }
    #[derive(serde::Serialize)]
    struct City {
        names: Names,
    }
    #[derive(serde::Serialize)]
    struct CityRecord {
        city: City,
        country: Country,
    }
    #[derive(serde::Serialize)]
    struct AsnRecord {
        autonomous_system_number: u32,
        autonomous_system_organization: &'static str,
    }

    /// A City database (192.0.2.0/24: Paris, FR; 2001:db8::/32: Berlin,
    /// DE) and an ASN database (192.0.2.0/25: AS 64500), as the
    /// maxminddb-writer crate writes them.
    fn databases() -> (Vec<u8>, Vec<u8>) {
        let mut city = Database::default();
        city.metadata.ip_version = maxminddb_writer::metadata::IpVersion::V6;
        city.metadata.database_type = "GeoLite2-City".into();
        city.metadata.binary_format_major_version = 2;
        let paris = city
            .insert_value(CityRecord {
                city: City { names: Names { en: "Paris" } },
                country: Country { iso_code: "FR", names: Names { en: "France" } },
            })
            .unwrap();
        let berlin = city
            .insert_value(CityRecord {
                city: City { names: Names { en: "Berlin" } },
                country: Country { iso_code: "DE", names: Names { en: "Germany" } },
            })
            .unwrap();
        // IPv4 addresses live at ::a.b.c.d in an IPv6 database.
        city.insert_node("::192.0.2.0/120".parse::<IpAddrWithMask>().unwrap(), paris);
        city.insert_node("2001:db8::/32".parse::<IpAddrWithMask>().unwrap(), berlin);
        let mut asn = Database::default();
        asn.metadata.database_type = "GeoLite2-ASN".into();
        asn.metadata.binary_format_major_version = 2;
        let documentation = asn
            .insert_value(AsnRecord { autonomous_system_number: 64500, autonomous_system_organization: "Example AS" })
            .unwrap();
        asn.insert_node("192.0.2.0/25".parse::<IpAddrWithMask>().unwrap(), documentation);
        (city.write_to(Vec::new()).unwrap(), asn.write_to(Vec::new()).unwrap())
    }

    fn filled(geo: &MaxMind, ip: &str) -> (String, String, u32, String) {
        let mut host = r::Host::default();
        geo.fill(ip.parse().unwrap(), &mut host);
        (host.country, host.city, host.asn, host.as_org)
    }

    #[test]
    fn hosts_get_country_city_and_as() {
        let (city, asn) = databases();
        let geo = MaxMind::from_bytes(Some(city), Some(asn)).unwrap();
        assert_eq!(filled(&geo, "192.0.2.7"), ("FR".into(), "Paris".into(), 64500, "Example AS".into()));
        assert_eq!(filled(&geo, "192.0.2.200"), ("FR".into(), "Paris".into(), 0, String::new()));
        assert_eq!(filled(&geo, "2001:db8::1"), ("DE".into(), "Berlin".into(), 0, String::new()));
        assert_eq!(filled(&geo, "198.51.100.1"), (String::new(), String::new(), 0, String::new()));
    }

    #[test]
    fn bad_databases_are_errors() {
        assert!(MaxMind::from_bytes(Some(b"not a database".to_vec()), None).is_err());
        let Err(missing) = MaxMind::open(Some(Path::new("/nonexistent/GeoLite2-City.mmdb")), None) else {
            panic!("a missing file opens");
        };
        assert!(missing.to_string().starts_with("/nonexistent/GeoLite2-City.mmdb: "));
        // Cut anywhere, a database is refused or read without panicking.
        let (city, _) = databases();
        for cut in (0..city.len()).step_by(7) {
            if let Ok(geo) = MaxMind::from_bytes(Some(city[..cut].to_vec()), None) {
                let _ = filled(&geo, "192.0.2.7");
            }
        }
    }
}
